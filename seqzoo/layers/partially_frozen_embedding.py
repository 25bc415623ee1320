"""An embedding whose pretrained rows are frozen and whose OOV rows train."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops


@keras.saving.register_keras_serializable(package="seqzoo")
class PartiallyFrozenEmbedding(keras.layers.Layer):
    """Embeds ids from a frozen pretrained table, except the ids listed as trainable.

    Rows found in pretrained vectors stay as they are; the OOV token and the
    words that were not found get rows of their own that train. Everything lives
    in variables (never graph constants), so `.keras` files, SavedModels and
    TFLite files carry it. Id 0 is padding.

    Args:
        input_dim: int. Number of ids.
        output_dim: int. Vector size.
        num_trainable: int. How many ids have trainable rows.
        mask_zero: bool. Mask id 0 (padding) for the layers after.

    Example:
    ```python
    layer = PartiallyFrozenEmbedding(1000, 300, num_trainable=2)
    layer.set_rows(matrix, trainable_ids=[1, 57])  # ids 1 and 57 train, the rest are frozen
    ```
    """

    def __init__(self, input_dim: int, output_dim: int, num_trainable: int, mask_zero: bool = True,
                 **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        # === Config ===
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.num_trainable = num_trainable
        self.mask_zero = mask_zero

    def build(self, input_shape=None):
        self.pretrained = self.add_weight(
            shape=(self.input_dim, self.output_dim), initializer="zeros", trainable=False,
            name="pretrained",
        )
        # Row 0 is a placeholder for "frozen": trainable ids use rows 1..num_trainable.
        self.trainable_rows = self.add_weight(
            shape=(self.num_trainable + 1, self.output_dim), initializer="zeros", name="oov_rows",
        )
        self.row_of_id = self.add_weight(
            shape=(self.input_dim,), initializer="zeros", dtype="int32", trainable=False,
            name="row_of_id",
        )

    def set_rows(self, matrix: np.ndarray, trainable_ids: list[int]) -> None:
        """Loads the full matrix; `trainable_ids` start from their matrix rows and train."""
        if not self.built:
            self.build()
        row_of_id = np.zeros(self.input_dim, np.int32)
        row_of_id[trainable_ids] = np.arange(1, len(trainable_ids) + 1)
        rows = np.concatenate([np.zeros((1, self.output_dim), np.float32), matrix[trainable_ids]])
        self.pretrained.assign(matrix)
        self.trainable_rows.assign(rows)
        self.row_of_id.assign(row_of_id)

    def call(self, ids):
        rows = ops.take(self.row_of_id, ids, axis=0)
        frozen = ops.take(self.pretrained, ids, axis=0)
        trained = ops.take(self.trainable_rows, rows, axis=0)
        return ops.where(ops.expand_dims(rows > 0, -1), trained, frozen)

    def compute_mask(self, ids, mask=None):
        return ops.not_equal(ids, 0) if self.mask_zero else None

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.output_dim)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(input_dim=self.input_dim, output_dim=self.output_dim,
                      num_trainable=self.num_trainable, mask_zero=self.mask_zero)
        return config
