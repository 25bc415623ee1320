"""Sequence [batch, time, features] -> vector [batch, features], respecting the mask."""

from __future__ import annotations

import keras
from keras import ops

POOLINGS = ("last", "mean", "max")


@keras.saving.register_keras_serializable(package="seqzoo")
class MaskedGlobalMaxPooling1D(keras.layers.Layer):
    """Max over time of the unmasked steps (keras.layers.GlobalMaxPooling1D ignores masks)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is not None:
            lowest = ops.convert_to_tensor(float("-inf"), dtype=inputs.dtype)
            inputs = ops.where(ops.expand_dims(ops.cast(mask, "bool"), -1), inputs, lowest)
        return ops.max(inputs, axis=1)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])


def sequence_pooling(pooling: str) -> keras.layers.Layer:
    """The layer for `mean` or `max` pooling (`last` is the RNN's own final output)."""
    if pooling == "mean":
        return keras.layers.GlobalAveragePooling1D(name="mean_pooling")
    if pooling == "max":
        return MaskedGlobalMaxPooling1D(name="max_pooling")
    raise ValueError(f"no pooling layer for {pooling!r}")
