"""An embedding that also maps vectors back to logits over the vocabulary (tied weights)."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="seqzoo")
class ReversibleEmbedding(keras.layers.Embedding):
    """`keras.layers.Embedding` that, called with `reverse=True`, returns x @ table^T.

    Tying the input and output embeddings (Press & Wolf 2017) halves a language
    model's vocabulary parameters; the same layer is called twice in the graph.

    Example:
    ```python
    table = ReversibleEmbedding(1000, 64)
    logits = table(rnn_output_of(table(token_ids)), reverse=True)  # [batch, time, 1000]
    ```
    """

    def call(self, inputs, reverse: bool = False):
        if reverse:
            return ops.matmul(inputs, ops.transpose(self.embeddings))
        return super().call(inputs)

    def compute_mask(self, inputs, mask=None, reverse: bool = False):
        return mask if reverse else super().compute_mask(inputs, mask)

    def compute_output_spec(self, inputs, reverse: bool = False):
        if reverse:
            shape = (*inputs.shape[:-1], self.input_dim)
            return keras.KerasTensor(shape, dtype=self.compute_dtype)
        return super().compute_output_spec(inputs)
