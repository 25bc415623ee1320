"""Sequence [batch, time, features] -> vector [batch, features], respecting the mask."""

from __future__ import annotations

import keras
from keras import ops

POOLINGS = ("last", "mean", "max")


@keras.saving.register_keras_serializable(package="seqzoo")
class MaskedGlobalMaxPooling1D(keras.layers.Layer):
    """Max over time of the unmasked steps (keras.layers.GlobalMaxPooling1D ignores masks); a row
    with no unmasked step pools to zeros, not -inf."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return ops.max(inputs, axis=1)
        keep = ops.expand_dims(ops.cast(mask, "bool"), -1)
        lowest = ops.convert_to_tensor(float("-inf"), dtype=inputs.dtype)
        pooled = ops.max(ops.where(keep, inputs, lowest), axis=1)
        return ops.where(ops.any(keep, axis=1), pooled, ops.zeros_like(pooled))

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])


@keras.saving.register_keras_serializable(package="seqzoo")
class MaskedGlobalAveragePooling1D(MaskedGlobalMaxPooling1D):
    """Mean over time of the unmasked steps; a row with no unmasked step (all padding, as an app
    may feed the TFLite file) pools to zeros, where keras.layers.GlobalAveragePooling1D gives
    0 / 0 = NaN."""

    def call(self, inputs, mask=None):
        if mask is None:
            return ops.mean(inputs, axis=1)
        weights = ops.expand_dims(ops.cast(mask, inputs.dtype), -1)
        return ops.sum(inputs * weights, axis=1) / ops.maximum(ops.sum(weights, axis=1), 1.0)


def sequence_pooling(pooling: str) -> keras.layers.Layer:
    """The layer for `mean` or `max` pooling (`last` is the RNN's own final output)."""
    if pooling == "mean":
        return MaskedGlobalAveragePooling1D(name="mean_pooling")
    if pooling == "max":
        return MaskedGlobalMaxPooling1D(name="max_pooling")
    raise ValueError(f"no pooling layer for {pooling!r}")
