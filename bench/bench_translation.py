"""seq2seq_attn decoding: the in-graph batched search vs the NMT tutorial's per-step Python loop.

    python bench/bench_translation.py [--run runs/seq2seq_attn] [--sentences 1000] [--batch 100]

The same trained model translates the same held-out dates both ways, greedy:
- seqzoo: `Translator.search` in one `tf.function` (the loop a SavedModel runs);
- the TensorFlow "NMT with attention" tutorial's way: the encoder once, then a Python
  `for` loop calling the decoder once per step (eagerly), argmax, stop when all are done.
Both produce the same tokens (checked). Target: >= 5x tokens/s. Then beam 4's cost
relative to greedy, in the graph. Without --run, `small` trains one epoch on the dates.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import seqzoo  # noqa: E402
from seqzoo.data.translation import dates_corpus, read_pairs  # noqa: E402
from seqzoo.decoding.translator import Translator  # noqa: E402
from seqzoo.tasks.translation import END_ID, START_ID  # noqa: E402


def tutorial_loop(translator: Translator, source_ids, max_steps: int) -> np.ndarray:
    """The tutorial's `translate`: one eager decoder call per step, from Python."""
    memory, keys, mask, states = translator.encode(source_ids)
    tokens = tf.fill([source_ids.shape[0]], START_ID)
    done = np.zeros(source_ids.shape[0], bool)
    produced = []
    for _ in range(max_steps):
        probabilities, states, _ = translator.step(tokens, states, memory, keys, mask)
        probabilities = probabilities.numpy()
        probabilities[:, [0, START_ID]] = 0  # never produced, as in the graph search
        chosen = np.where(done, 0, probabilities.argmax(-1)).astype(np.int32)
        done |= chosen == END_ID
        produced.append(np.where(chosen == END_ID, 0, chosen))
        tokens = tf.constant(chosen)
        if done.all():
            break
    out = np.zeros((source_ids.shape[0], max_steps), np.int32)
    out[:, : len(produced)] = np.stack(produced, axis=1)
    return out


def timed(function, batches) -> tuple[float, list]:
    start = time.perf_counter()
    results = [function(batch) for batch in batches]
    return time.perf_counter() - start, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", help="a trained seq2seq_attn run directory")
    parser.add_argument("--sentences", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()

    run_dir = args.run or seqzoo.train("seq2seq_attn", preset="small", epochs=1, verbose=0)
    run = seqzoo.load_run(run_dir)
    translator = Translator(run.model, START_ID, END_ID)
    max_steps = run.meta["max_steps"]
    texts = read_pairs(dates_corpus() / "test.tsv").sources[: args.sentences]
    batches = [run.vectorizer(texts[i : i + args.batch]) for i in range(0, len(texts), args.batch)]

    def graph(width):
        search = tf.function(lambda ids: translator.search(ids, width, max_steps, 0.6).token_ids,
                             input_signature=[tf.TensorSpec([None, None], tf.int32)], autograph=False)
        search(batches[0])  # trace once, as a loaded SavedModel already is
        return lambda ids: search(ids).numpy()

    greedy, beam = graph(1), graph(4)
    tutorial_loop(translator, batches[0], max_steps)  # warm up the eager kernels too
    loop_seconds, loop_ids = timed(lambda ids: tutorial_loop(translator, ids, max_steps), batches)
    graph_seconds, graph_ids = timed(greedy, batches)
    beam_seconds, _ = timed(beam, batches)
    same = all(np.array_equal(a, b) for a, b in zip(loop_ids, graph_ids, strict=True))
    tokens = sum(int(np.count_nonzero(ids)) for ids in graph_ids) + len(texts)  # + each [END]

    print(f"{len(texts)} dates, batches of {args.batch}, greedy, {tokens} tokens produced "
          f"(identical outputs: {same})")
    print(f"  tutorial per-step Python loop   {tokens / loop_seconds:10.0f} tokens/s")
    print(f"  seqzoo in-graph search          {tokens / graph_seconds:10.0f} tokens/s")
    print(f"  ratio                           {loop_seconds / graph_seconds:10.2f}x   (target >= 5x)")
    print(f"beam 4 in the graph: {beam_seconds:.2f} s vs greedy {graph_seconds:.2f} s "
          f"= {beam_seconds / graph_seconds:.2f}x the cost")


if __name__ == "__main__":
    main()
