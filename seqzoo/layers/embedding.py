"""Token ids -> vectors: the embedding every text entry starts from."""

from __future__ import annotations

import keras


def token_embedding(token_ids, *, vocab_size: int, dim: int, dropout: float = 0.0):
    """Embeds ids [batch, time] -> [batch, time, dim], masking id 0 (padding).

    Args:
        token_ids: int tensor. Ids from a `seqzoo.text.Vectorizer`.
        vocab_size: int. Number of ids, padding and OOV included.
        dim: int. Embedding size.
        dropout: float. Dropout on the embedded vectors while training.
    """
    x = keras.layers.Embedding(vocab_size, dim, mask_zero=True, name="embedding")(token_ids)
    if dropout:
        x = keras.layers.Dropout(dropout, name="embedding_dropout")(x)
    return x
