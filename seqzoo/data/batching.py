"""Examples -> model batches, in the order a training run (and a resumed one) must see them."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf

from seqzoo.errors import UserError

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
        # The order is (seed, epoch)'s alone, not the global seed's too; and with a global seed of 0
        # TensorFlow would test the tensor seed as a Python bool (train.seed=0 failed here).
        tf.compat.v1.get_default_graph().seed = None  # this function's graph only
        seed = tf.constant(shuffle_seed, tf.int64) * SEED_STRIDE + number
        return batch(examples.shuffle(count, seed=seed, reshuffle_each_iteration=False))

    return tf.data.Dataset.range(epochs.start, epochs.stop).flat_map(epoch).prefetch(tf.data.AUTOTUNE)


def steps_per_epoch(examples: int, batch_size: int) -> int:
    """Batches in one pass over `examples` (the last one may be short)."""
    return -(-examples // batch_size)


def mean_over_valid(mask: tf.Tensor) -> tf.Tensor:
    """Weights from a batch's 0/1 mask: 0 on padding, total / valid elsewhere, so Keras' mean over
    every position of the batch is the mean over its valid ones."""
    return mask * tf.cast(tf.size(mask), mask.dtype) / tf.reduce_sum(mask)


def split_whole(count: int, validation_fraction: float, test_fraction: float, seed: int,
                what: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(train, validation, test) indices of `count` whole items (scores, recordings), in a seeded
    order, by the given fractions; each part gets at least one. `what` names the items in errors."""
    if count < 3:
        raise UserError(f"at least 3 usable {what} are needed (train, validation, test), got {count}")
    if validation_fraction + test_fraction >= 1:
        raise UserError(f"validation_fraction + test_fraction must be below 1, got "
                        f"{validation_fraction} + {test_fraction}")
    order = np.random.default_rng(seed).permutation(count)
    validation = max(1, round(count * validation_fraction))
    test = max(1, min(round(count * test_fraction), count - validation - 1))
    return order[validation + test:], order[:validation], order[validation:validation + test]
