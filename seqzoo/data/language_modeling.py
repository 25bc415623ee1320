"""Plain text for language models: documents, a seeded split, and next-token windows."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import tensorflow as tf

from seqzoo.data.batching import batches
from seqzoo.data.readers import read_lines
from seqzoo.errors import UserError


def read_documents(path: str | Path) -> list[str]:
    """The non-empty lines of a text file, or of every `*.txt` file in a folder."""
    path = Path(path)
    files = sorted(path.rglob("*.txt")) if path.is_dir() else [path]
    if path.is_dir() and not files:
        raise UserError(f"folder '{path}' has no .txt files")
    documents = [line.strip() for file in files for line in read_lines(file)]
    documents = [d for d in documents if d]
    if not documents:
        raise UserError(f"data file '{path}' has no text")
    return documents


def split_documents(documents: list[str], validation_fraction: float, seed: int):
    """(train, validation) documents after a seeded shuffle; at least one in each."""
    if len(documents) < 2:
        raise UserError(f"need at least 2 lines of text to split, got {len(documents)}")
    order = list(range(len(documents)))
    random.Random(seed).shuffle(order)
    n_val = min(max(1, round(len(documents) * validation_fraction)), len(documents) - 1)
    return [documents[i] for i in order[n_val:]], [documents[i] for i in order[:n_val]]


def window_dataset(
    stream: np.ndarray, seq_len: int, batch_size: int, shuffle_seed: int | None = None,
    epochs: range | None = None,
) -> tf.data.Dataset:
    """(ids[t : t+n], ids[t+1 : t+n+1]) windows of a token stream, n = seq_len, no overlap, in
    the order `seqzoo.data.batching.batches` gives.

    A stream shorter than seq_len + 1 gives one shorter window.
    """
    inputs, targets = windows(stream, seq_len)
    dataset = tf.data.Dataset.from_tensor_slices((inputs, targets))
    return batches(dataset, lambda d: d.batch(batch_size), shuffle_seed, epochs)


def windows(stream: np.ndarray, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    """The (inputs, targets) next-token windows of a stream, [count, seq_len] each."""
    seq_len = min(seq_len, len(stream) - 1)
    if seq_len < 1:
        raise UserError(f"the text has {len(stream)} tokens; a language model needs at least 2")
    count = (len(stream) - 1) // seq_len
    return (stream[: count * seq_len].reshape(count, seq_len),
            stream[1 : count * seq_len + 1].reshape(count, seq_len))


def carried_rows(inputs: np.ndarray, targets: np.ndarray, batch: int) -> tuple[np.ndarray, np.ndarray]:
    """Windows in stream order ([count, seq_len] each) -> batches [steps, rows, seq_len] in which row
    r of batch k + 1 continues row r of batch k: the stream cut into `rows` contiguous lanes (rows =
    `batch`, or every window when there are fewer), as truncated backpropagation through time
    reads it with the states carried from one batch to the next (Zaremba et al. 2014; Karpathy's
    char-rnn). The last count % rows windows are left out."""
    rows = min(batch, len(inputs))
    steps = len(inputs) // rows

    def lanes(a):
        return a[: steps * rows].reshape(rows, steps, a.shape[1]).transpose(1, 0, 2)
    return lanes(inputs), lanes(targets)


def window_arrays(windows_: tf.data.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """`stream_windows`' (inputs, targets), read into memory as int32 [count, seq_len] arrays."""
    read = list(windows_.batch(4096).as_numpy_iterator())
    return tuple(np.concatenate([part[i] for part in read]).astype(np.int32) for i in (0, 1))


def stream_windows(documents: tf.data.Dataset, lookup, bos_id: int, seq_len: int,
                   total: int) -> tf.data.Dataset:
    """`windows` of a streamed split: documents (strings) -> [BOS] + ids, concatenated, cut into
    (ids[t : t+n], ids[t+1 : t+n+1]) at t = 0, n, 2n, ..., read as they come. `total` is the
    stream's length in ids (a split shorter than seq_len + 1 gives one shorter window, as
    `windows` does)."""
    seq_len = min(seq_len, total - 1)
    if seq_len < 1:
        raise UserError(f"the text has {total} tokens; a language model needs at least 2")

    def ids(batch):
        rows = lookup(batch)
        return tf.concat([tf.fill([rows.nrows(), 1], tf.cast(bos_id, rows.dtype)), rows], axis=1).flat_values

    stream = documents.batch(1024).map(ids).unbatch()
    chunks = stream.batch(seq_len)  # chunk k: ids[k n : (k+1) n]; the next one's first id ends window k
    whole = chunks.filter(lambda chunk: tf.shape(chunk)[0] == seq_len)
    windows_ = tf.data.Dataset.zip(whole, chunks.skip(1)).map(
        lambda chunk, following: (chunk, tf.concat([chunk[1:], following[:1]], axis=0)))
    return windows_.apply(tf.data.experimental.assert_cardinality((total - 1) // seq_len))


def stream_length(documents: tf.data.Dataset, lookup) -> int:
    """How many ids the documents make, [BOS] included: one streaming pass, in batches."""
    lengths = documents.batch(4096).map(lambda batch: tf.reduce_sum(lookup(batch).row_lengths() + 1))
    return int(lengths.reduce(tf.constant(0, tf.int64), lambda total, n: total + tf.cast(n, tf.int64)))
