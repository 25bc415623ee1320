"""Token ids -> vectors: the embedding every text entry starts from, optionally pretrained."""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from seqzoo.errors import UserError, check_choice
from seqzoo.layers.partially_frozen_embedding import PartiallyFrozenEmbedding

TRAINABLE_MODES = ("frozen", "full", "oov_only")


@dataclass
class Pretrained:
    """An aligned pretrained matrix and how the model may train it.

    `matrix` [vocab_size, vector_dim] comes from `seqzoo.embeddings.build_matrix`;
    `oov_ids` are the rows it initialised rather than found.
    """

    matrix: np.ndarray
    oov_ids: list[int]
    trainable: str = "full"
    project: bool = False


def token_embedding(
    token_ids, *, vocab_size: int, dim: int, dropout: float = 0.0,
    pretrained: Pretrained | None = None, mask_zero: bool = True,
):
    """Embeds ids [batch, time] -> [batch, time, dim], masking id 0 (padding).

    Args:
        token_ids: int tensor. Ids from a `seqzoo.text.Vectorizer`.
        vocab_size: int. Number of ids, padding and OOV included.
        dim: int. Embedding size the model works with.
        dropout: float. Dropout on the embedded vectors while training.
        pretrained: Pretrained. Start from aligned vectors: `frozen`, `full`
            (all rows train) or `oov_only` (only rows not found train). A vector
            size other than `dim` needs `project=True` (a learned projection).
        mask_zero: bool. Mask padding for the layers after; off where inputs are
            never padded (language-model windows), which trains faster.
    """
    if pretrained is None:
        layer = keras.layers.Embedding(vocab_size, dim, mask_zero=mask_zero, name="embedding")
        x = layer(token_ids)
    else:
        x = _pretrained_embedding(token_ids, vocab_size, dim, pretrained, mask_zero)
    if dropout:
        x = keras.layers.Dropout(dropout, name="embedding_dropout")(x)
    return x


def sequence_input(input_channels: int | None, **embedding):
    """A model's input and what its sequence layers read: token ids [batch, time] through
    `token_embedding` (its keyword arguments), or, with `input_channels`, float frames
    [batch, time, input_channels] (numeric series, piano rolls) read as they are."""
    if input_channels is None:
        inputs = keras.Input(shape=(None,), dtype="int32", name="token_ids")
        return inputs, token_embedding(inputs, **embedding)
    inputs = keras.Input(shape=(None, input_channels), name="values")
    return inputs, inputs


def _pretrained_embedding(token_ids, vocab_size: int, dim: int, pretrained: Pretrained,
                          mask_zero: bool):
    check_choice("embeddings trainable mode", pretrained.trainable, TRAINABLE_MODES)
    rows, vector_dim = pretrained.matrix.shape
    if rows != vocab_size:
        raise UserError(f"pretrained matrix has {rows} rows but the vocabulary has {vocab_size} ids")
    if vector_dim != dim and not pretrained.project:
        raise UserError(
            f"pretrained vectors have dimension {vector_dim} but the model's embedding dim is {dim}; "
            f"set embedding.dim={vector_dim} or embeddings.project=true"
        )
    if pretrained.trainable == "oov_only":
        layer = PartiallyFrozenEmbedding(
            vocab_size, vector_dim, num_trainable=len(pretrained.oov_ids), mask_zero=mask_zero,
            name="embedding",
        )
        x = layer(token_ids)
        layer.set_rows(pretrained.matrix, pretrained.oov_ids)
    else:
        layer = keras.layers.Embedding(
            vocab_size, vector_dim, mask_zero=mask_zero, weights=[pretrained.matrix],
            trainable=pretrained.trainable == "full", name="embedding",
        )
        x = layer(token_ids)
    if vector_dim != dim:
        x = keras.layers.Dense(dim, use_bias=False, name="embedding_projection")(x)
    return x
