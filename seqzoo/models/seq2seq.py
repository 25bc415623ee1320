"""The encoder-decoder entries: seq2seq (a context vector) and seq2seq_attn (attention)."""

from __future__ import annotations

import keras

from seqzoo.layers import Pretrained, token_embedding
from seqzoo.layers.recurrent_decoder import RecurrentDecoder
from seqzoo.layers.recurrent_encoder import RecurrentEncoder
from seqzoo.registry import register


def encoder_decoder(
    *, vocab_size: int, embedding: dict, encoder: dict, units: int, dropout: float,
    target_vocab_size: int, target_embedding_dim: int, name: str, pretrained: Pretrained | None = None,
    attention: str | None = None, attention_units: int = 64, heads: int = 4,
) -> keras.Model:
    """[source ids, target ids (teacher forcing)] -> next-target-token probabilities.

    The source is embedded (pretrained vectors allowed) and read by a `RecurrentEncoder`
    (layer `encoder`); a `RecurrentDecoder` (layer `decoder`) predicts each target token
    from the ones before it and the source. The search loops in `seqzoo.decoding` call
    the same two layers.

    Args:
        vocab_size: int. Source token ids.
        embedding: dict. `dim` and `dropout` of the source embedding.
        encoder: dict. `cell`, `layers`, `bidirectional` of the encoder (the decoder
            uses the same cell).
        units: int. Size of the encoder memory and of the decoder state.
        attention: str or None. None (the context vector alone), `bahdanau`,
            `luong_dot`, `luong_general` or `multihead`.
        attention_units: int. Hidden size of the additive score / multi-head projections.
        heads: int. Heads of `multihead` attention.
        dropout: float. Dropout on the recurrent layers' inputs while training.
        target_vocab_size: int. Target token ids ([START] and [END] included).
        target_embedding_dim: int. Size of the target embedding.
        pretrained: Pretrained. Aligned pretrained vectors for the source embedding.
        name: str. The model's name.
    """
    source_ids = keras.Input(shape=(None,), dtype="int32", name="source_ids")
    target_ids = keras.Input(shape=(None,), dtype="int32", name="target_ids")
    embedded = token_embedding(source_ids, vocab_size=vocab_size, pretrained=pretrained, **embedding)
    memory, summary = RecurrentEncoder(units=units, dropout=dropout, **encoder, name="encoder")(embedded)
    decoder = RecurrentDecoder(
        target_vocab_size, target_embedding_dim, encoder["cell"], units, attention=attention,
        attention_units=attention_units, heads=heads, dropout=dropout, name="decoder",
    )
    probabilities = decoder(target_ids, memory, keras.ops.not_equal(source_ids, 0), summary)
    return keras.Model([source_ids, target_ids], probabilities, name=name)


@register("seq2seq", task="translation")
def seq2seq(**config) -> keras.Model:
    """The encoder-decoder of the lecture: the source's final state C starts the decoder
    and is fed at every step, p(y_t | C, y_<t) (see `encoder_decoder`).

    Example:
    ```python
    model = seqzoo.build("seq2seq", units=128)
    ```
    """
    return encoder_decoder(**config, name="seq2seq")


@register("seq2seq_attn", task="translation")
def seq2seq_attn(**config) -> keras.Model:
    """The encoder-decoder with attention: every step reads all encoder states
    (see `encoder_decoder`).

    Example:
    ```python
    model = seqzoo.build("seq2seq_attn", attention="bahdanau", encoder={"bidirectional": True})
    ```
    """
    return encoder_decoder(**config, name="seq2seq_attn")
