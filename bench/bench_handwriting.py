"""Handwriting synthesis: points written per second by seqzoo's in-graph loop vs a Python loop over
the network's step (how the anchors write: sjvasquez/handwriting-synthesis and
hardmaru/write-rnn-tensorflow call the graph once per point from Python and sample in NumPy), and
training points per second.

    python bench/bench_handwriting.py [--preset base] [--points 400] [--rounds 3]

Both writers run the same `handwriting_synthesis` model (untrained: speed does not depend on the
weights) on the same 40-character text, batch 1, for exactly `--points` points:

- seqzoo: `HandwritingWriter.write` under one tf.function (the SavedModel's `write`): the
  sampling, the feedback and the window's stop test inside the graph; and the same compiled by
  XLA (`jit_compile=True`, with `trim=False`: fixed shapes);
- the `.tflite` file's `write` (the whole loop, the random numbers given) in the LiteRT interpreter;
- the reference: a tf.function of one step (the `step` signature), called from a Python loop,
  each point sampled in NumPy from the returned mixture with the same bias and fed back.

Target: seqzoo / reference >= 10x points/s (each of seqzoo's two ratios is printed). Training:
`train_on_batch` over batches of synthetic lines, points (not padding) per second.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from timing import timed  # noqa: E402  (bench/timing.py, beside this script)

import seqzoo  # noqa: E402
from seqzoo.data.handwriting import START, Alphabet, line_examples, synthetic_lines  # noqa: E402
from seqzoo.decoding.handwriting_writer import HandwritingWriter  # noqa: E402

TEXT = "the quick brown fox jumps over a lazy dog"[:40]


def numpy_point(mixture: np.ndarray, bias: float, rng: np.random.Generator) -> np.ndarray:
    """One point sampled from mixture parameters [1 + 6M] in NumPy, with Graves' bias."""
    m = (len(mixture) - 1) // 6
    end, weights = mixture[0], mixture[1 : 1 + m]
    mu_x, mu_y, s_x, s_y, rho = (mixture[1 + k * m : 1 + (k + 1) * m] for k in range(1, 6))
    logits = np.log(np.maximum(weights, 1e-30)) * (1 + bias)
    p = np.exp(logits - logits.max())
    k = rng.choice(m, p=p / p.sum())
    scale = np.exp(-bias)
    z = rng.normal(size=2)
    x = mu_x[k] + s_x[k] * scale * z[0]
    y = mu_y[k] + s_y[k] * scale * (rho[k] * z[0] + np.sqrt(1 - rho[k] ** 2) * z[1])
    return np.array([x, y, float(rng.uniform() < end)], np.float32)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="base")
    parser.add_argument("--points", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    lines = synthetic_lines(64, 8, seed=0)
    alphabet = Alphabet.of([line.text for line in lines] + [TEXT])
    model = seqzoo.build("handwriting_synthesis", preset=args.preset, alphabet_size=alphabet.size)
    writer = HandwritingWriter(model)
    chars = tf.constant(alphabet.ids(TEXT)[None])
    print(f"handwriting_synthesis {args.preset}: {model.count_params():,} parameters; text of {len(TEXT)} "
          f"characters; {args.points} points, batch 1; cpu threads {os.cpu_count()}")

    points = tf.constant(args.points)
    write = tf.function(lambda: writer.write(chars, tf.constant(1.0), tf.constant(3), points))
    compiled = tf.function(lambda: writer.write(chars, tf.constant(1.0), tf.constant(3), points, trim=False),
                           jit_compile=True)
    step = tf.function(lambda point, states: writer.step(point, states, chars)[:2])

    def in_graph():
        _, lengths, _ = write()
        return int(lengths[0])

    def in_graph_xla():
        _, lengths, _ = compiled()
        return int(lengths[0])

    from ai_edge_litert.interpreter import Interpreter

    from seqzoo.exporters.tflite import to_tflite
    from seqzoo.tasks import get_task

    meta = {"max_points": args.points, "max_chars": len(TEXT), "offset_scale": [1.0, 1.0]}
    endpoints = get_task("handwriting_synthesis").tflite_endpoints(model, meta)
    lite = Interpreter(model_content=to_tflite(model, endpoints)).get_signature_runner("write")
    uniform = np.random.default_rng(3).random((args.points, 4), dtype=np.float32)

    def litert():
        return int(lite(chars=chars.numpy(), bias=np.float32(1.0), uniform=uniform)["lengths"][0])

    def python_loop():
        rng, point = np.random.default_rng(3), np.array([START], np.float32)
        states = model.get_layer("rnn").initial_states(1)
        for _ in range(args.points):
            mixture, states = step(tf.constant(point), states)
            point = numpy_point(mixture.numpy()[0], 1.0, rng)[None]
        return args.points

    rates = {}
    runs = (("seqzoo, in-graph write", in_graph), ("seqzoo, in-graph write, XLA", in_graph_xla),
            (".tflite write, LiteRT", litert), ("reference, Python loop over step", python_loop))
    for name, run in runs:
        written = run()  # traced
        times = [timed(run) for _ in range(args.rounds)]
        rates[name] = written / statistics.median(times)
        print(f"   {name:34s} {rates[name]:10,.0f} points/s ({written} points, median of {args.rounds})")
    for name in ("seqzoo, in-graph write", "seqzoo, in-graph write, XLA", ".tflite write, LiteRT"):
        ratio = rates[name] / rates["reference, Python loop over step"]
        print(f"   {name.removeprefix('seqzoo, ')} / Python loop = {ratio:.1f}x (target >= 10x)")

    examples = line_examples(lines, alphabet, [2.5, 2.5], synthesis=True).padded_batch(32)
    batches = list(examples)
    model.train_on_batch(*batches[0][:2])  # traced
    start, points = time.perf_counter(), 0
    for x, y, mask in batches:
        model.train_on_batch(x, y)
        points += int(mask.numpy().sum())
    print(f"   training: {points / (time.perf_counter() - start):,.0f} points/s "
          f"(batches of 32 lines, {points / len(lines):.0f} points a line)")



if __name__ == "__main__":
    main()
