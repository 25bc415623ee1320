"""Corpora larger than memory: line files read through tf.data, a split decided by a hash of each
line, and one checking pass that keeps only counts.

The split needs no list of the data: a line is held out when a keyed hash of it falls in the
first `fraction` of the buckets, so the same line lands in the same split on every pass, in every
worker, and after a restart. The checking pass runs once, in Python, file by file (so a message
names the file and line); training passes run in the graph.
"""

from __future__ import annotations

import glob
import random
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import tensorflow as tf

from seqzoo.errors import UserError

HASH_BUCKETS = 1 << 30
LINES_PER_READ = 8192


def line_files(data: str | Path) -> list[Path]:
    """The files `data` names: a file, or a glob pattern (`pairs/*.tsv`, `shards/**/*.txt`)."""
    text = str(data)
    if any(c in text for c in "*?["):
        files = sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file())
        if not files:
            raise UserError(f"no files match '{text}'")
        return files
    path = Path(data)
    if not path.is_file():
        raise UserError(f"data file '{path}' does not exist")
    return [path]


def lines(files: list[Path]) -> tf.data.Dataset:
    """Every line of the files (\\n-separated), the files interleaved in a fixed order."""
    names = tf.data.Dataset.from_tensor_slices([str(f) for f in files])
    return names.interleave(tf.data.TextLineDataset, cycle_length=min(len(files), 4), deterministic=True)


def held_out(line: tf.Tensor, fraction: float, seed: int) -> tf.Tensor:
    """Whether `line` (tf.string, any shape) belongs to the validation split."""
    buckets = tf.strings.to_hash_bucket_strong(line, HASH_BUCKETS, key=[seed, 0x5E0200])
    return buckets < int(round(fraction * HASH_BUCKETS))


def checked_lines(files: list[Path], fraction: float, seed: int) -> Iterator[tuple[Path, int, str, bool]]:
    """(file, line number, text, held out) of every line, file by file: the checking pass."""
    for path in files:
        number = 0
        try:
            for batch in tf.data.TextLineDataset(str(path)).batch(LINES_PER_READ):
                for raw, heldout in zip(batch.numpy(), held_out(batch, fraction, seed).numpy(), strict=True):
                    number += 1
                    yield path, number, raw.decode("utf-8", errors="replace"), bool(heldout)
        except tf.errors.OpError as err:
            raise UserError(f"cannot read data file '{path}': {_reason(err, path)}") from None


def _reason(err: tf.errors.OpError, path: Path) -> str:
    """The OS's words in a tf.data read error: "{{function_node ...}} PATH; Input/output error [Op:...]"."""
    text = (err.message.strip().splitlines() or [type(err).__name__])[0]
    text = re.sub(r"\s*\[Op:.*$", "", re.sub(r"^\{\{.*?\}\}\s*", "", text))
    return text.removeprefix(f"{path}; ")


class Reservoir:
    """A uniform, seeded sample of at most `size` items from a stream of unknown length
    (Algorithm R): what a vocabulary is adapted from when the corpus is not read whole."""

    def __init__(self, size: int, seed: int):
        self.size, self.items, self.seen = size, [], 0
        self._random = random.Random(seed)

    def add(self, item) -> None:
        self.seen += 1
        if len(self.items) < self.size:
            self.items.append(item)
            return
        slot = self._random.randrange(self.seen)
        if slot < self.size:
            self.items[slot] = item


def split_lines(files: list[Path], fraction: float, seed: int, parse: Callable[[tf.Tensor], tuple],
                heldout: bool) -> tf.data.Dataset:
    """The parsed examples of one split: lines that are not blank, made valid UTF-8 (invalid bytes
    become U+FFFD, as the checking pass reads them) and parsed in the graph."""
    keep = (lambda line: held_out(line, fraction, seed)) if heldout else (
        lambda line: tf.logical_not(held_out(line, fraction, seed)))
    valid = lambda line: tf.strings.unicode_transcode(line, "UTF-8", "UTF-8", errors="replace")  # noqa: E731
    return (lines(files)
            .filter(lambda line: tf.strings.length(tf.strings.strip(line)) > 0)
            .filter(keep)
            .map(lambda line: parse(valid(line)), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True))
