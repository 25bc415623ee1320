"""Many-to-one recurrent classifiers: embedding -> RNN stack -> pooling -> softmax.

`sentiment` and `bilstm` are the same architecture with different defaults
(zoo_configs/sentiment.yaml, zoo_configs/bilstm.yaml).
"""

from __future__ import annotations

import keras

from seqzoo.errors import UserError, check_choice
from seqzoo.layers import POOLINGS, Pretrained, rnn_stack, sequence_pooling, token_embedding
from seqzoo.registry import register


def recurrent_classifier(
    *, vocab_size: int, embedding: dict, rnn: dict, pooling: str, num_classes: int,
    pretrained: Pretrained | None = None, name: str = "recurrent_classifier",
) -> keras.Model:
    """A many-to-one recurrent classifier over token ids.

    The lecture's sentiment RNN: every word goes through the recurrence and one
    prediction is made for the whole text, from the last step (`last`) or from
    the mean or max over all unpadded steps.

    Args:
        vocab_size: int. Number of token ids (padding and OOV included).
        embedding: dict. `dim` and `dropout` of the token embedding.
        rnn: dict. `cell`, `units`, `layers`, `dropout`, `bidirectional`, and
            optionally `merge_mode` and `residual` (see `rnn_stack`).
        pooling: str. `last`, `mean` or `max`.
        num_classes: int. Output classes; 2 for binary sentiment.
        pretrained: Pretrained. Aligned pretrained vectors for the embedding.
        name: str. The model's name.

    Example:
    ```python
    model = seqzoo.build("sentiment", cell="gru", units=64, num_classes=2)
    model.predict(np.array([[2, 5, 3]]))  # [[p_class0, p_class1]]
    ```
    """
    check_choice("pooling", pooling, POOLINGS)
    if num_classes < 2:
        raise UserError(f"num_classes must be at least 2, got {num_classes}")
    token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    x = token_embedding(token_ids, vocab_size=vocab_size, pretrained=pretrained, **embedding)
    x = rnn_stack(x, **rnn, return_sequences=pooling != "last")
    if pooling != "last":
        x = sequence_pooling(pooling)(x)
    probabilities = keras.layers.Dense(
        num_classes, activation="softmax", name="probabilities", dtype="float32")(x)
    return keras.Model(token_ids, probabilities, name=name)


@register("sentiment", task="classification")
def sentiment(**config) -> keras.Model:
    """The lecture's many-to-one sentiment RNN (see `recurrent_classifier`)."""
    return recurrent_classifier(**config, name="sentiment")


@register("bilstm", task="classification")
def bilstm(**config) -> keras.Model:
    """A bidirectional LSTM classifier (see `recurrent_classifier`)."""
    return recurrent_classifier(**config, name="bilstm")
