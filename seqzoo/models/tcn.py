"""Temporal convolutional networks: `tcn` (a classifier over tokens), `tcn_tagger` (a tag per
token) and `tcn_lm` (a causal LM)."""

from __future__ import annotations

import keras

from seqzoo.decoding import TCNGenerator
from seqzoo.errors import UserError, check_choice
from seqzoo.layers import POOLINGS, Pretrained, sequence_input, sequence_pooling, token_embedding
from seqzoo.layers.tcn import TCN
from seqzoo.registry import register

HEADS = ("classification", "regression")


@register("tcn", task="classification")
def tcn(
    *, vocab_size: int, embedding: dict, tcn: dict, pooling: str, num_classes: int,
    input_channels: int | None = None, head: str = "classification",
    pretrained: Pretrained | None = None,
) -> keras.Model:
    """Embedding (or float channels) -> TCN -> pooling over steps -> softmax (or one value).

    Args:
        vocab_size: int. Number of token ids (padding and OOV included).
        embedding: dict. `dim` and `dropout` of the token embedding.
        tcn: dict. The `TCN` layer's options: `filters`, `kernel_size`, `dilations`,
            `stacks`, `normalization`, `activation`, `dropout`, `padding`.
        pooling: str. `mean` or `max` over the unpadded steps; with float inputs also
            `last` (a causal TCN's last step sees the whole receptive field).
        num_classes: int. Output classes of the classification head.
        input_channels: int or None. None: token ids through the shared embedding. N:
            float sequences [batch, time, N] (numeric series; unpadded).
        head: str. `classification` (softmax over `num_classes`) or `regression` (one
            linear value: compile with `loss="mse"`).
        pretrained: Pretrained. Aligned pretrained vectors for the embedding.

    Example:
    ```python
    model = seqzoo.build("tcn", kernel_size=8, dilations=[1, 2, 4, 8, 16, 32, 64, 128], filters=24)
    model.get_layer("tcn").receptive_field  # 3571
    adding = seqzoo.build("tcn", input_channels=2, head="regression", pooling="last", loss="mse")
    ```
    """
    check_choice("head", head, HEADS)
    check_choice("pooling", pooling, POOLINGS if input_channels else [p for p in POOLINGS if p != "last"])
    if head == "classification" and num_classes < 2:
        raise UserError(f"num_classes must be at least 2, got {num_classes}")
    inputs, x = sequence_input(input_channels, vocab_size=vocab_size, pretrained=pretrained, **embedding)
    x = TCN(**tcn, return_sequences=pooling != "last", name="tcn")(x)
    if pooling != "last":
        x = sequence_pooling(pooling)(x)
    if head == "regression":
        return keras.Model(inputs, keras.layers.Dense(1, name="value")(x), name="tcn")
    probabilities = keras.layers.Dense(
        num_classes, activation="softmax", name="probabilities", dtype="float32")(x)
    return keras.Model(inputs, probabilities, name="tcn")


@register("tcn_tagger", task="tagging")
def tcn_tagger(*, vocab_size: int, embedding: dict, tcn: dict, num_tags: int,
               pretrained: Pretrained | None = None) -> keras.Model:
    """Embedding -> TCN -> a softmax over the tags at every token (padding masked).

    With `padding: same` (the default here) each token's tag reads the words on both
    sides, as a bidirectional LSTM's does; `causal` tags from the left context only.

    Example:
    ```python
    model = seqzoo.build("tcn_tagger", num_tags=9, kernel_size=3, dilations=[1, 2, 4, 8])
    ```
    """
    if num_tags < 2:
        raise UserError(f"num_tags must be at least 2, got {num_tags}")
    token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    x = token_embedding(token_ids, vocab_size=vocab_size, pretrained=pretrained, **embedding)
    x = TCN(**tcn, return_sequences=True, name="tcn")(x)
    probabilities = keras.layers.Dense(
        num_tags, activation="softmax", name="probabilities", dtype="float32")(x)
    return keras.Model(token_ids, probabilities, name="tcn_tagger")


@register("tcn_lm", task="language_model", generator=TCNGenerator)
def tcn_lm(*, vocab_size: int, embedding: dict, tcn: dict, pretrained: Pretrained | None = None
           ) -> keras.Model:
    """Embedding -> causal TCN -> softmax over the vocabulary at every step.

    Generation (`seqzoo.decoding.TCNGenerator`) streams: each new token costs one
    column of every convolution, with the last (k - 1) * d inputs of each cached.

    Example:
    ```python
    lm = seqzoo.build("tcn_lm", preset="small")
    lm.get_layer("tcn").receptive_field
    ```
    """
    if tcn.get("padding", "causal") != "causal":
        raise UserError("a language model's TCN must be causal (padding: causal)")
    token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    x = token_embedding(token_ids, vocab_size=vocab_size, pretrained=pretrained, mask_zero=False,
                        **embedding)
    x = TCN(**tcn, return_sequences=True, name="tcn")(x)
    logits = keras.layers.Dense(vocab_size, name="logits")(x)
    probabilities = keras.layers.Activation("softmax", name="probabilities", dtype="float32")(logits)
    return keras.Model(token_ids, probabilities, name="tcn_lm")
