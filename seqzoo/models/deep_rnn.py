"""The deep RNN: stacked recurrent layers, residual across layers, dilated across time."""

from __future__ import annotations

import keras

from seqzoo.errors import UserError, check_choice
from seqzoo.layers import POOLINGS, Pretrained, sequence_pooling, token_embedding
from seqzoo.layers.dilated_rnn import DilatedRNN
from seqzoo.layers.rnn_stack import CELLS
from seqzoo.registry import register


def deep_rnn_model(
    *, vocab_size: int, embedding: dict, cell: str, units: int, layers: int, dropout: float,
    residual: bool, skip_every: int, head: str, outputs: int, pretrained: Pretrained | None = None,
    pooling: str = "mean", name: str,
) -> keras.Model:
    """A deep RNN with residual and skip connections, as the lecture draws it.

    Layer i's recurrence reaches skip_every**i steps back (skip_every = 1: an
    ordinary stack; 2: steps 1, 2, 4, 8 back, the dilations of Chang et al. 2017),
    so deep layers see far with few steps. From the second layer on, each layer's
    input is added to its output when `residual` is set.

    Args:
        vocab_size: int. Number of token ids.
        embedding: dict. `dim` and `dropout` of the token embedding.
        cell: str. `lstm`, `gru` or `simple_rnn`.
        units: int. Units per layer.
        layers: int. Recurrent layers.
        dropout: float. Dropout on each layer's inputs while training.
        residual: bool. Residual connections between layers.
        skip_every: int. The dilation base: layer i reaches skip_every**i steps back.
        pretrained: Pretrained. Aligned pretrained vectors for the embedding.
        head: str. `pooled` (many-to-one: `mean` or `max` pooling, then softmax) or
            `per_step` (many-to-many: a softmax at every step).
        outputs: int. Classes (pooled) or tags (per step).
        pooling: str. `mean` or `max` over unpadded steps, for the pooled head.
        name: str. The model's name.
    """
    check_choice("cell", cell, CELLS)
    if head == "pooled":
        check_choice("pooling", pooling, [p for p in POOLINGS if p != "last"])
    if layers < 1 or skip_every < 1:
        raise UserError(f"layers and skip_every must be at least 1, got {layers} and {skip_every}")
    if outputs < 2:
        raise UserError(f"a softmax head needs at least 2 classes or tags, got {outputs}")
    token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    x = token_embedding(token_ids, vocab_size=vocab_size, pretrained=pretrained, **embedding)
    for index in range(layers):
        output = DilatedRNN(cell, units, skip_every**index, dropout, name=f"dilated_{cell}_{index}")(x)
        x = keras.layers.Add(name=f"residual_{index}")([output, x]) if residual and index else output
    if head == "pooled":
        x = sequence_pooling(pooling)(x)
    probabilities = keras.layers.Dense(
        outputs, activation="softmax", name="probabilities", dtype="float32")(x)
    return keras.Model(token_ids, probabilities, name=name)


@register("deep_rnn", task="classification")
def deep_rnn(*, num_classes: int, **config) -> keras.Model:
    """The deep RNN, many-to-one: pooled over steps, one label per text (see `deep_rnn_model`).

    Example:
    ```python
    model = seqzoo.build("deep_rnn", layers=4, residual=True, skip_every=2)
    ```
    """
    return deep_rnn_model(**config, head="pooled", outputs=num_classes, name="deep_rnn")


@register("deep_rnn_tagger", task="tagging")
def deep_rnn_tagger(*, num_tags: int, **config) -> keras.Model:
    """The deep RNN, many-to-many: one tag per token (see `deep_rnn_model`).

    Example:
    ```python
    model = seqzoo.build("deep_rnn_tagger", num_tags=9, skip_every=2)
    ```
    """
    return deep_rnn_model(**config, head="per_step", outputs=num_tags, name="deep_rnn_tagger")
