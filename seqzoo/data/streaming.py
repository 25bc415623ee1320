"""Corpora larger than memory: line files read through tf.data, a split decided by a hash of each
line (or by file), and one checking pass that keeps only counts and samples.

The split needs no list of the data: a line is held out when a keyed hash of it falls in the
first `fraction` of the buckets, so the same line lands in the same split on every pass, in every
worker, and after a restart. The checking pass runs once, in Python, file by file (so a message
names the file and line); training passes run in the graph.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import tensorflow as tf

from seqzoo.errors import SeqzooNote, UserError, first_line
from seqzoo.files import glob_files, is_glob, regular_file

HASH_BUCKETS = 1 << 30
LINES_PER_READ = 8192


def line_files(data: str | Path) -> list[Path]:
    """The files `data` names: a file, or a glob pattern (`pairs/*.tsv`, `shards/**/*.txt`)."""
    if is_glob(data):
        files = glob_files(data)
        if not files:
            raise UserError(f"no files match '{data}'")
        return files
    return [regular_file(data, "data file")]


def lines(files: list[Path]) -> tf.data.Dataset:
    """Every line of the files (\\n-separated), the files interleaved in a fixed order."""
    names = tf.data.Dataset.from_tensor_slices([str(f) for f in files])
    return names.interleave(tf.data.TextLineDataset, cycle_length=min(len(files), 4))  # in order


def held_out(line: tf.Tensor, fraction: float, seed: int) -> tf.Tensor:
    """Whether `line` (tf.string, any shape) belongs to the validation split."""
    buckets = tf.strings.to_hash_bucket_strong(line, HASH_BUCKETS, key=[seed, 0x5E0200])
    return buckets < int(round(fraction * HASH_BUCKETS))


@dataclass
class Scan:
    """What the checking pass keeps of a corpus: no more than counts and samples."""

    examples: list[int]  # [training, held out]
    heldout: list  # the first held-out examples' fields (for the export's parity check)
    sample: list | None  # a seeded uniform sample of training fields, when one was asked for


@dataclass(frozen=True)
class LineSplit:
    """Line files split into training and validation: by a keyed hash of each line, or by file
    (a folder's training and validation files)."""

    train_files: list[Path]
    heldout_files: list[Path] | None  # None: both splits come from train_files, by hash
    fraction: float
    seed: int

    def examples(self, parse: Callable[[tf.Tensor], tuple], heldout: bool, scan: Scan | None = None
                 ) -> tf.data.Dataset:
        """The parsed examples of one split: lines that are not blank, made valid UTF-8 (invalid
        bytes become U+FFFD, as the checking pass reads them) and parsed in the graph by `parse`
        (a batch of lines [n] -> fields [n] each). With the
        checking pass's `scan`, the dataset knows its length (Keras then knows where an epoch of
        validation ends) and fails if the files changed since."""
        files = self.heldout_files if heldout and self.heldout_files is not None else self.train_files

        def select(batch):  # a batch of lines at a time: tf.data's cost per element is paid once
            keep = tf.strings.length(tf.strings.strip(batch)) > 0
            if self.heldout_files is None:
                hashed = held_out(batch, self.fraction, self.seed)
                keep &= hashed if heldout else tf.logical_not(hashed)
            return parse(tf.strings.unicode_transcode(tf.boolean_mask(batch, keep), "UTF-8", "UTF-8",
                                                      errors="replace"))

        dataset = lines(files).batch(LINES_PER_READ).map(
            select, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).unbatch()
        if scan is None:
            return dataset
        return dataset.apply(tf.data.experimental.assert_cardinality(scan.examples[heldout]))

    def scan(self, fields: Callable[[str, Path, int], tuple | None], keep: int, sample: int | None,
             observe: Callable[[tuple, bool], None] | None = None) -> Scan:
        """One pass over every line, file by file: `fields(line, path, number)` checks a line (a
        UserError names it) and gives its fields, None for a line to skip; `observe` sees them."""
        parsed = ((fields(line, path, number), heldout) for path, number, line, heldout in self._lines())
        return _scanned(((item, heldout) for item, heldout in parsed if item is not None), keep, sample,
                        self.seed, observe)

    def check_sizes(self, scan: Scan, data, what: str) -> None:
        """UserError when the data has no `what` (`labelled examples`, ...) or a split is empty."""
        _check_sizes(scan, data, what, self.fraction if self.heldout_files is None else None)

    def _lines(self) -> Iterator[tuple[Path, int, str, bool]]:
        """(file, line number, text, held out) of every line, file by file."""
        files = [(f, False) for f in self.train_files] + [(f, True) for f in self.heldout_files or []]
        for path, heldout in files:
            number = 0
            try:
                for batch in tf.data.TextLineDataset(str(path)).batch(LINES_PER_READ):
                    split = (held_out(batch, self.fraction, self.seed).numpy() if self.heldout_files is None
                             else [heldout] * len(batch))
                    for raw, in_heldout in zip(batch.numpy(), split, strict=True):
                        number += 1
                        yield path, number, raw.decode("utf-8", errors="replace"), bool(in_heldout)
            except tf.errors.OpError as err:
                reason = first_line(err).removeprefix(f"{path}; ")  # tf.data: "PATH; Input/output error"
                raise UserError(f"cannot read data file '{path}': {reason}") from None


@dataclass(frozen=True)
class RecordSplit:
    """Records that are not one a line (a table's rows, whose quoted fields may hold line breaks; a
    folder's files; captions, checked against their image files) read by Python as they go, and
    split by a keyed hash of each record (or of its field `key`), or by source (`heldout_records`):
    the LineSplit of sources that tf.data cannot split into examples itself. Memory holds one record.

    `records()` gives a fresh iterator of records, each a tuple of `width` strings (UserError naming
    the file and line of a bad one)."""

    records: Callable[[], Iterator[tuple[str, ...]]]
    width: int
    fraction: float
    seed: int
    key: int | None = None  # hash this field alone (a caption's image: its references stay together)
    heldout_records: Callable[[], Iterator[tuple[str, ...]]] | None = None  # None: split `records` by hash

    def examples(self, parse: Callable[..., tuple], heldout: bool, scan: Scan | None = None
                 ) -> tf.data.Dataset:
        """One split's records, read as the dataset is iterated and parsed in the graph by `parse` (a
        batch of records, one [n] tf.string per field -> fields [n] each); with the checking pass's
        `scan`, of known length (see `LineSplit.examples`)."""
        if self.heldout_records is not None:
            source = self.heldout_records if heldout else self.records
        else:
            source = lambda: (record for record in self.records() if self._held_out(record) == heldout)  # noqa: E731
        dataset = tf.data.Dataset.from_generator(
            source, output_signature=tuple(tf.TensorSpec([], tf.string) for _ in range(self.width)))
        dataset = dataset.batch(LINES_PER_READ).map(parse).unbatch()
        if scan is None:
            return dataset
        return dataset.apply(tf.data.experimental.assert_cardinality(scan.examples[heldout]))

    def scan(self, keep: int, sample: int | None, observe: Callable[[tuple, bool], None] | None = None
             ) -> Scan:
        """One pass over every record: counts, the first held-out ones, a seeded training sample."""
        if self.heldout_records is not None:
            records = itertools.chain(((record, False) for record in self.records()),
                                      ((record, True) for record in self.heldout_records()))
        else:
            records = ((record, self._held_out(record)) for record in self.records())
        return _scanned(records, keep, sample, self.seed, observe)

    def check_sizes(self, scan: Scan, data, what: str) -> None:
        _check_sizes(scan, data, what, self.fraction if self.heldout_records is None else None)

    def _held_out(self, record: tuple[str, ...]) -> bool:
        hashed = record if self.key is None else record[self.key : self.key + 1]
        digest = hashlib.blake2b("\0".join(hashed).encode("utf-8", "surrogatepass"), digest_size=8,
                                 key=self.seed.to_bytes(8, "little", signed=True)).digest()
        return int.from_bytes(digest, "little") < self.fraction * 2**64


def _scanned(items: Iterator[tuple[tuple, bool]], keep: int, sample: int | None, seed: int,
             observe: Callable[[tuple, bool], None] | None) -> Scan:
    """The checking pass's bookkeeping over (fields, held out) items: counts, the first `keep`
    held-out ones, a uniform sample of `sample` training ones; `observe` sees each."""
    scan = Scan([0, 0], [], None)
    reservoir = Reservoir(sample, seed) if sample else None
    for item, heldout in items:
        scan.examples[heldout] += 1
        if observe is not None:
            observe(item, heldout)
        if heldout and len(scan.heldout) < keep:
            scan.heldout.append(item)
        elif not heldout and reservoir is not None:
            reservoir.add(item)
    scan.sample = None if reservoir is None else reservoir.items
    return scan


def label_index(train: set[str], heldout: set[str], what: str,
                key=None) -> tuple[list[str], tf.lookup.StaticHashTable]:
    """The names of a streamed corpus's labels (or tags), sorted (by `key`), and a table from name to
    id for parsing in the graph; UserError when training has fewer than 2. A rare one that the hash
    split left in the held-out data alone (the restoration task's SEMICOLON) is kept, with a note:
    the model has an output it never learns, and the held-out figures count its misses."""
    if len(train) < 2:
        raise UserError(f"training data needs at least 2 distinct {what}, got {sorted(train, key=key)}")
    names = sorted(train | heldout, key=key)
    unseen = sorted(heldout - train, key=key)
    if unseen:
        warnings.warn(f"{what} {unseen} occur only in the held-out split: the model has an output for "
                      f"{'it' if len(unseen) == 1 else 'them'} but never learns it, and the held-out figures "
                      "count the misses", SeqzooNote, stacklevel=3)
    return names, tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(
        tf.constant(names), tf.range(len(names), dtype=tf.int32)), default_value=-1)


def _check_sizes(scan: Scan, data, what: str, fraction: float | None) -> None:
    """UserError when there are no examples, or a split is empty (`fraction`: the hash split's, None
    for validation files)."""
    if sum(scan.examples) == 0:
        raise UserError(f"data file '{data}' has no {what}")
    if min(scan.examples) == 0:
        how = ("its validation files" if fraction is None else
               f"validation_fraction={fraction:g}; each example's split is a hash of it, so copies land "
               f"together: more distinct {what} or a larger train.validation_fraction fill both")
        raise UserError(f"'{data}': the {'validation' if scan.examples[0] else 'training'} split is "
                        f"empty ({sum(scan.examples)} {what}, {how})")


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
