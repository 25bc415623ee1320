"""WaveNet generation: seqzoo's streaming loop vs recomputing the receptive-field window per sample,
and the real-time factor at 8 kHz, in the graph and in LiteRT.

    python bench/bench_wavenet.py [--samples 8000]

Two models, untrained (speed does not depend on the weights): the default `wavenet` (dilations
1..512, one stack: receptive field 1,025) and the issue's example (two stacks: 2,048). Each
generates samples one at a time, each fed back, sampled at temperature 1:

  seqzoo      the export's `generate` as TF Serving runs it: one graph loop, each sample one
              streaming step (every convolution's cache of its last (k - 1) * d inputs)
  seqzoo XLA  the same function compiled with XLA (`jit_compile=True`) into one CPU program, as
              `seqzoo synthesize` runs it
  window      per sample, the last receptive-field samples through a compiled `model(window)` call
              (fast WaveNet's "naive" generation), sampled in NumPy (fewer samples, scaled)
  LiteRT      the `.tflite` file's `step` at batch 1 driven from Python, as an app drives it,
              sampled in NumPy

Real-time factor: samples generated per second / 8,000 (above 1: faster than real time).
Target: seqzoo >= 100x the window's samples/s at a receptive field >= 1,000; moonshot: a real-time
factor >= 1 on this 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import seqzoo  # noqa: E402
from seqzoo.data.audio import SILENCE  # noqa: E402
from seqzoo.exporters.tflite import to_tflite  # noqa: E402
from seqzoo.tasks import get_task  # noqa: E402
from seqzoo.tasks.audio import audio_meta  # noqa: E402

RATE = 8000
MODELS = {
    "default": {},
    "issue example": {"dilations": [1, 2, 4, 8, 16, 32, 64, 128, 256, 512], "stacks": 2},
}


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def window_rate(model, field: int, samples: int) -> float:
    """Samples/s when every sample re-reads its receptive field through the model."""
    call = tf.function(lambda x: model(x, training=False))
    rng = np.random.default_rng(0)
    window = np.full((1, field), SILENCE, np.int32)

    def run():
        nonlocal window
        for _ in range(samples):
            probabilities = np.asarray(call(window))[0, -1].astype(np.float64)
            code = rng.choice(256, p=probabilities / probabilities.sum())
            window = np.concatenate([window[:, 1:], [[code]]], axis=1)

    call(window)  # trace
    return samples / timed(run)


def litert_rate(model, meta, samples: int) -> float:
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=to_tflite(model, get_task("audio").tflite_endpoints(model, meta)))
    step = interpreter.get_signature_runner("step")
    details = step.get_input_details()
    states = {name: np.zeros(d["shape"], d["dtype"]) for name, d in details.items() if name != "code"}
    rng = np.random.default_rng(0)
    code = np.array([SILENCE], np.int32)

    def run():
        nonlocal states, code
        for _ in range(samples):
            out = step(code=code, **states)
            states = {name: out[name] for name in states}
            probabilities = out["probabilities"][0].astype(np.float64)
            code = np.array([rng.choice(256, p=probabilities / probabilities.sum())], np.int32)

    return samples / timed(run)


def measure(label: str, overrides: dict, samples: int) -> None:
    model = seqzoo.build("wavenet", **overrides)
    config = seqzoo.get_config("wavenet", **overrides)
    meta = audio_meta(config, {})
    field = meta["receptive_field"]
    function, signature = get_task("audio").endpoints(model, None, meta)["generate"]
    request = dict(samples=tf.constant(samples), temperature=tf.constant(1.0), seed=tf.constant(3),
                   prime=tf.zeros([0]))
    rates = {}
    for name, jit in (("seqzoo", False), ("seqzoo XLA", True)):
        generate = tf.function(function, input_signature=signature, jit_compile=jit)
        generate(**request)  # trace (and compile)
        rates[name] = samples / statistics.median(timed(lambda g=generate: g(**request)) for _ in range(3))
    rates["window"] = window_rate(model, field, max(20, samples // 40))
    rates["LiteRT"] = litert_rate(model, meta, samples)
    print(f"{label:14s} {field:6,d} {model.count_params():8,d} "
          + " ".join(f"{rates[k]:10,.0f} ({rates[k] / RATE:5.2f})" for k in ("seqzoo", "seqzoo XLA", "window",
                                                                                "LiteRT"))
          + f" {rates['seqzoo'] / rates['window']:6.0f}x {rates['seqzoo XLA'] / rates['window']:6.0f}x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=8000)
    args = parser.parse_args()
    print(f"{args.samples} samples from silence, temperature 1; cpu threads {os.cpu_count()}, "
          f"TensorFlow {tf.__version__}")
    print("samples/s (real-time factor at 8 kHz)")
    print(f"{'model':14s} {'field':>6s} {'weights':>8s} {'seqzoo':>18s} {'seqzoo XLA':>18s} {'window':>18s} "
          f"{'LiteRT':>18s} {'ratio':>7s} {'XLA':>7s}")
    for label, overrides in MODELS.items():
        measure(label, overrides, args.samples)
    print("ratio: seqzoo streaming (graph; XLA) vs window (receptive field recomputed per sample); "
          "target >= 100x")


if __name__ == "__main__":
    main()
