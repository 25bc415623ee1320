"""Training that outgrows memory and one process: `seqzoo train` on generated fastText files.

1. Peak memory (max RSS of the `seqzoo train` process) and tokens/s on a file of N lines and on
   one of 10 x N lines: the corpus is streamed, so the ratio of the peaks should stay <= 1.10.
2. Two workers (MultiWorkerMirroredStrategy on 127.0.0.1, two processes) against one process with
   the same global batch, tokens/s. On a 2-core machine the two workers share the two cores, so
   this measures the overhead of the cluster, not a speed-up.

    python bench/bench_scale.py [--lines 1000000] [--cluster-lines 200000] [--format csv]

`--format csv` writes the corpus as a CSV table (text, label; quoted texts), which is streamed row
by row in Python rather than line by line in tf.data: slower, so measure it on fewer lines
(`--lines 100000 --cluster-lines 0`).
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = {"pos": "gorgeous moving wonderful great fine superb".split(),
         "neg": "dull tedious boring messy long weak".split()}
FILLER = "a the film cast plot story scene actor with and of it".split()
WORDS_PER_LINE = 8
SEQZOO = [sys.executable, "-c", "import sys; from seqzoo.cli import main; sys.exit(main())"]
SETTINGS = ["--preset", "tiny", "--epochs", "1", "--set", "train.validation_fraction=0.01"]


def write_corpus(path: Path, lines: int, seed: int = 0, table: bool = False) -> Path:
    """fastText lines, or (`table`) a CSV file of quoted texts with a header, of `lines` examples."""
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as f:
        f.write("text,label\n" if table else "")
        for _ in range(lines):
            label = rng.choice(("pos", "neg"))
            words = [rng.choice(FILLER) for _ in range(WORDS_PER_LINE - 2)] + rng.sample(WORDS[label], 2)
            rng.shuffle(words)
            f.write(f'"{" ".join(words)}",{label}\n' if table else f"__label__{label} {' '.join(words)}\n")
    return path


def run(args: list[str], env: dict | None = None) -> tuple[float, float]:
    """(wall seconds, peak RSS in MiB) of one `seqzoo train` process."""
    start = time.perf_counter()
    process = subprocess.Popen([*SEQZOO, "train", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})})
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"seqzoo train failed: {process.stderr.read().decode()[-2000:]}")
    return time.perf_counter() - start, usage.ru_maxrss / 1024


def memory(folder: Path, lines: int, table: bool) -> None:
    print(f"== memory: {lines:,} vs {10 * lines:,} {'CSV rows' if table else 'fastText lines'} "
          "(tiny sentiment, 1 epoch, batch 256)")
    peaks = []
    for count in (lines, 10 * lines):
        data = write_corpus(folder / f"corpus-{count}.{'csv' if table else 'txt'}", count, table=table)
        seconds, peak = run(["sentiment", "--data", str(data), *SETTINGS, "--set", "train.batch_size=256",
                             "--out", str(folder / f"run-{count}")])
        peaks.append(peak)
        print(f"{count:>12,} lines  {data.stat().st_size / 2**20:8.0f} MiB file  peak RSS {peak:7.0f} MiB  "
              f"{seconds:7.1f} s  {count * WORDS_PER_LINE / seconds:10,.0f} tokens/s end to end")
    print(f"peak memory ratio (10x lines / 1x): {peaks[1] / peaks[0]:.3f}  (target <= 1.10)")


def cluster(folder: Path, lines: int) -> None:
    print(f"== two workers vs one process: {lines:,} lines, global batch 128, 1 epoch")
    data = write_corpus(folder / "cluster.txt", lines)
    seconds_one, _ = run(["sentiment", "--data", str(data), *SETTINGS, "--set", "train.batch_size=128",
                          "--out", str(folder / "one"), "--strategy", "one_device"])
    ports = []
    for _ in range(2):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
    workers = ",".join(f"127.0.0.1:{port}" for port in ports)
    start = time.perf_counter()
    processes = [subprocess.Popen(
        [*SEQZOO, "train", "sentiment", "--data", str(data), *SETTINGS, "--set", "train.batch_size=64",
         "--out", str(folder / "two"), "--strategy", "multi_worker", "--workers", workers,
         "--task-index", str(index)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}) for index in range(2)]
    if any(p.wait() != 0 for p in processes):
        raise SystemExit("the two-worker run failed")
    seconds_two = time.perf_counter() - start
    tokens = lines * WORDS_PER_LINE
    print(f"one process  {seconds_one:7.1f} s  {tokens / seconds_one:10,.0f} tokens/s end to end")
    print(f"two workers  {seconds_two:7.1f} s  {tokens / seconds_two:10,.0f} tokens/s end to end")
    print(f"two workers / one process throughput: {seconds_one / seconds_two:.2f}x (2 cores shared)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--cluster-lines", type=int, default=200_000, help="0: skip the cluster part")
    parser.add_argument("--format", choices=["fasttext", "csv"], default="fasttext")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # each figure as soon as it is measured
    with tempfile.TemporaryDirectory(prefix="seqzoo-bench-scale-") as folder:
        memory(Path(folder), args.lines, table=args.format == "csv")
        if args.cluster_lines:
            cluster(Path(folder), args.cluster_lines)


if __name__ == "__main__":
    main()
