"""Recurrent language models: `char_lm` and `word_lm` predict the next token at every step."""

from __future__ import annotations

import keras

from seqzoo.decoding import RNNGenerator
from seqzoo.errors import UserError
from seqzoo.layers import Pretrained, rnn_stack, token_embedding
from seqzoo.layers.reversible_embedding import ReversibleEmbedding
from seqzoo.registry import register


def language_model(
    *, vocab_size: int, embedding: dict, rnn: dict, tie_embeddings: bool,
    pretrained: Pretrained | None = None, name: str,
) -> keras.Model:
    """Embedding -> RNN stack (every step) -> softmax over the vocabulary.

    The lecture's language model: at step t it sees tokens 1..t and predicts
    token t+1. Generation (`seqzoo.decoding.RNNGenerator`) steps the same layers'
    cells with carried states, so it never re-reads the prefix. Training windows
    are never padded, so nothing is masked (the generator handles padded prompts).

    Args:
        vocab_size: int. Number of token ids (padding, OOV and [BOS] included).
        embedding: dict. `dim` and `dropout` of the token embedding.
        rnn: dict. `cell` (lstm | gru | simple_rnn), `units`, `layers`, `dropout`, `residual`
            (add each layer's input to its output from the second layer on).
        tie_embeddings: bool. Share the input embedding as the output projection
            (needs `rnn.units == embedding.dim`).
        pretrained: Pretrained. Aligned pretrained vectors for the embedding.
        name: str. The model's name.

    Example:
    ```python
    lm = seqzoo.build("word_lm", preset="small", tie_embeddings=True)
    lm(token_ids)  # [batch, time, vocab_size] next-token probabilities
    ```
    """
    if rnn["cell"] not in ("lstm", "gru", "simple_rnn"):
        raise UserError(f"language models use cell lstm, gru or simple_rnn, got {rnn['cell']!r}")
    token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    if tie_embeddings:
        if rnn["units"] != embedding["dim"]:
            raise UserError(f"tie_embeddings needs rnn.units ({rnn['units']}) equal to "
                            f"embedding.dim ({embedding['dim']})")
        if pretrained is not None and pretrained.trainable == "oov_only":
            raise UserError("tie_embeddings works with pretrained vectors trainable: frozen or full")
        table = ReversibleEmbedding(
            vocab_size, embedding["dim"], name="embedding",
            weights=None if pretrained is None else [pretrained.matrix],
            trainable=pretrained is None or pretrained.trainable == "full",
        )
        x = table(token_ids)
        if embedding["dropout"]:
            x = keras.layers.Dropout(embedding["dropout"], name="embedding_dropout")(x)
    else:
        x = token_embedding(token_ids, vocab_size=vocab_size, pretrained=pretrained, mask_zero=False,
                            **embedding)
    x = rnn_stack(x, **rnn, return_sequences=True)
    logits = table(x, reverse=True) if tie_embeddings else keras.layers.Dense(vocab_size, name="logits")(x)
    probabilities = keras.layers.Activation("softmax", name="probabilities", dtype="float32")(logits)
    return keras.Model(token_ids, probabilities, name=name)


@register("char_lm", task="language_model", generator=RNNGenerator)
def char_lm(**config) -> keras.Model:
    """The character-level RNN language model (see `language_model`)."""
    return language_model(**config, name="char_lm")


@register("word_lm", task="language_model", generator=RNNGenerator)
def word_lm(**config) -> keras.Model:
    """The word-level RNN language model (see `language_model`)."""
    return language_model(**config, name="word_lm")
