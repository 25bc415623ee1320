"""Loading a 400k x 300 GloVe file for a 20k-word vocabulary: seqzoo vs gensim vs the Keras example.

    python bench/bench_embeddings.py [--rows 400000] [--dim 300] [--vocab 20000]

The GloVe-format file is generated here, in a temporary folder, and deleted after.
Each method runs in a fresh process, so nothing is shared or cached between them:
  seqzoo (first load)  seqzoo.embeddings.load(path, vocabulary=...) + build_matrix
  seqzoo (cached)      the same call again: the .npy cache, memory-mapped
  gensim               KeyedVectors.load_word2vec_format(no_header=True) + the same build_matrix
  Keras example        the dict loop of keras.io's "Using pre-trained word embeddings"
Peak memory is the most the process's RSS rose above where it stood before loading.
Targets: first load >= 20x faster than gensim, cached reload < 0.5 s, peak memory under
2x the aligned matrix plus the file's vocabulary index.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np


def rss_bytes() -> int:
    with open("/proc/self/statm") as file:
        return int(file.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakRSS:
    """Samples RSS every 2 ms on a thread; `rise` is the peak above the start."""

    def __enter__(self):
        self.start = self.peak = rss_bytes()
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self):
        while self.running:
            self.peak = max(self.peak, rss_bytes())
            time.sleep(0.002)

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()
        self.peak = max(self.peak, rss_bytes())
        self.rise = self.peak - self.start


def generate(path: Path, rows: int, dim: int) -> list[str]:
    """A GloVe-format file: `rows` words, values drawn from 5,000 distinct formatted rows."""
    rng = np.random.default_rng(0)
    lines = [" ".join(f"{v:.5f}" for v in row) for row in rng.standard_normal((5000, dim))]
    words = [f"w{i}" for i in range(rows)]
    with open(path, "w") as file:
        for i, word in enumerate(words):
            file.write(f"{word} {lines[i % 5000]}\n")
    return words


def worker(method: str, path: str, vocabulary: list[str]) -> dict:
    from seqzoo import embeddings

    with PeakRSS() as memory:
        start = time.perf_counter()
        if method.startswith("seqzoo"):
            kv = embeddings.load(path, vocabulary=vocabulary)
            matrix, _ = embeddings.build_matrix(kv, vocabulary, oov="zeros")
        elif method == "gensim":
            from gensim.models import KeyedVectors

            kv = KeyedVectors.load_word2vec_format(path, no_header=True)
            matrix, _ = embeddings.build_matrix(kv, vocabulary, oov="zeros")
        elif method == "keras_example":
            embeddings_index = {}
            with open(path) as file:
                for line in file:
                    word, coefs = line.split(maxsplit=1)
                    embeddings_index[word] = np.fromstring(coefs, "f", sep=" ")
            matrix = np.zeros((len(vocabulary), len(next(iter(embeddings_index.values())))))
            for i, word in enumerate(vocabulary):
                vector = embeddings_index.get(word)
                if vector is not None:
                    matrix[i] = vector
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak_rise": memory.rise, "checksum": float(np.abs(matrix).sum()),
            "matrix_bytes": int(np.asarray(matrix, np.float32).nbytes)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=400_000)
    parser.add_argument("--dim", type=int, default=300)
    parser.add_argument("--vocab", type=int, default=20_000)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        job = json.loads(sys.stdin.read())
        print(json.dumps(worker(args.worker, job["path"], job["vocabulary"])))
        return

    with tempfile.TemporaryDirectory(prefix="seqzoo-bench-") as tmp:
        path = Path(tmp) / "glove.txt"
        start = time.perf_counter()
        words = generate(path, args.rows, args.dim)
        size = path.stat().st_size
        print(f"generated {args.rows:,} x {args.dim} GloVe file, {size / 1e9:.2f} GB, "
              f"in {time.perf_counter() - start:.0f} s")
        rng = np.random.default_rng(1)
        found = rng.choice(words, size=args.vocab - 2 - args.vocab // 10, replace=False).tolist()
        vocabulary = ["", "[UNK]", *found, *[f"missing{i}" for i in range(args.vocab // 10)]]
        env = dict(os.environ, SEQZOO_CACHE=str(Path(tmp) / "cache"), TF_CPP_MIN_LOG_LEVEL="2")
        results = {}
        for method in ("seqzoo", "seqzoo_cached", "gensim", "keras_example"):
            reply = subprocess.run(
                [sys.executable, __file__, "--worker", method], env=env, check=True,
                input=json.dumps({"path": str(path), "vocabulary": vocabulary}),
                capture_output=True, text=True,
            )
            results[method] = json.loads(reply.stdout.strip().splitlines()[-1])
            print(f"  {method:14s} {results[method]['seconds']:8.2f} s   "
                  f"peak +{results[method]['peak_rise'] / 2**20:7.0f} MiB", flush=True)

    checksums = [r["checksum"] for r in results.values()]  # the Keras example's matrix is float64
    agree = all(abs(c - checksums[0]) <= 1e-6 * abs(checksums[0]) for c in checksums)
    matrix = results["seqzoo"]["matrix_bytes"]
    index = sum(len(w) + 1 for w in words)  # the file's words, as a vocabulary index would hold them
    print(f"\nall four matrices agree: {agree}")
    print(f"aligned matrix {matrix / 2**20:.0f} MiB; the file's vocabulary index "
          f"{index / 2**20:.1f} MiB (words' bytes)")
    gensim, ours = results["gensim"]["seconds"], results["seqzoo"]["seconds"]
    print(f"first load: seqzoo {ours:.2f} s vs gensim {gensim:.1f} s = {gensim / ours:.0f}x faster "
          f"(target >= 20x); vs Keras example {results['keras_example']['seconds'] / ours:.0f}x")
    print(f"cached reload: {results['seqzoo_cached']['seconds']:.3f} s (target < 0.5 s)")
    budget = 2 * (matrix + index)
    print(f"seqzoo peak memory rise {results['seqzoo']['peak_rise'] / 2**20:.0f} MiB vs budget "
          f"{budget / 2**20:.0f} MiB (2x (matrix + index)); gensim "
          f"{results['gensim']['peak_rise'] / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
