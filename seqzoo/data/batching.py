"""Examples -> model batches, in the order a training run (and a resumed one) must see them."""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

SEED_STRIDE = 1_000_003  # a prime: (seed, epoch) pairs map to distinct shuffle seeds


def batches(
    examples: tf.data.Dataset, batch: Callable[[tf.data.Dataset], tf.data.Dataset],
    shuffle_seed: int | None = None, epochs: range | None = None, buffer: int | None = None,
) -> tf.data.Dataset:
    """Batches of `examples` made by `batch` (pad, vectorize), prefetched.

    Without a seed: one pass in order (validation, evaluation). With one: one pass,
    reshuffled (seeded) at every iteration, as a plain Keras `fit` wants. With a seed and
    `epochs`: those epochs back to back, epoch e shuffled by (seed, e) alone, so a run
    resumed at epoch k gets exactly the batches an uninterrupted run got from epoch k on,
    without reading the epochs before it. `buffer` bounds the shuffle (a stream larger than
    memory); without it every example is in it.
    """
    if shuffle_seed is None:
        return batch(examples).prefetch(tf.data.AUTOTUNE)
    count = buffer or examples.cardinality()
    if epochs is None:
        shuffled = examples.shuffle(count, seed=shuffle_seed, reshuffle_each_iteration=True)
        return batch(shuffled).prefetch(tf.data.AUTOTUNE)

    def epoch(number):
        seed = tf.constant(shuffle_seed, tf.int64) * SEED_STRIDE + number
        return batch(examples.shuffle(count, seed=seed, reshuffle_each_iteration=False))

    return tf.data.Dataset.range(epochs.start, epochs.stop).flat_map(epoch).prefetch(tf.data.AUTOTUNE)


def steps_per_epoch(examples: int, batch_size: int) -> int:
    """Batches in one pass over `examples` (the last one may be short)."""
    return -(-examples // batch_size)
