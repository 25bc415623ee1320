"""Position information added to token vectors: sinusoidal (fixed) or learned."""

from __future__ import annotations

import math

import keras
from keras import ops

POSITIONS = ("sinusoidal", "learned")


@keras.saving.register_keras_serializable(package="seqzoo")
class PositionEncoding(keras.layers.Layer):
    """Adds a position vector to each step of [batch, time, dim]; keeps the mask.

    `sinusoidal` is the fixed encoding of Vaswani et al. (2017), computed for any
    length; `learned` is a trained table of `max_positions` rows.

    Args:
        kind: str. `sinusoidal` or `learned`.
        max_positions: int. Rows of the learned table (longest sequence).

    Example:
    ```python
    x = PositionEncoding("sinusoidal")(token_vectors)
    ```
    """

    def __init__(self, kind: str = "sinusoidal", max_positions: int = 512, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        # === Config ===
        self.kind = kind
        self.max_positions = max_positions

    def build(self, input_shape):
        if self.kind == "learned":
            self.table = self.add_weight(
                shape=(self.max_positions, input_shape[-1]), initializer="uniform", name="positions"
            )

    def call(self, inputs):
        return inputs + self.vectors(ops.expand_dims(ops.arange(ops.shape(inputs)[1]), 0), inputs)

    def vectors(self, positions, inputs):
        """The position vectors [rows, time, dim] of int positions [rows, time], in `inputs`'
        dtype and width: the whole sequence's (rows 1) or, for a generator's step, each row's
        own position (time 1)."""
        dim = inputs.shape[-1]
        if self.kind == "learned":
            return ops.cast(ops.take(self.table, positions, axis=0), inputs.dtype)
        rates = ops.exp(ops.cast(ops.arange(0, dim, 2), inputs.dtype) * (-math.log(10000.0) / dim))
        angles = ops.expand_dims(ops.cast(positions, inputs.dtype), -1) * rates  # [rows, time, dim / 2]
        table = ops.stack([ops.sin(angles), ops.cos(angles)], axis=-1)
        return ops.reshape(table, (ops.shape(positions)[0], ops.shape(positions)[1], -1))[..., :dim]

    def compute_mask(self, inputs, mask=None):
        return mask

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(kind=self.kind, max_positions=self.max_positions)
        return config
