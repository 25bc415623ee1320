"""Many-to-many recurrent tagger: embedding -> (bidirectional) RNN stack -> a softmax per token."""

from __future__ import annotations

import keras

from seqzoo.errors import UserError
from seqzoo.layers import Pretrained, rnn_stack, token_embedding
from seqzoo.registry import register


@register("bilstm_tagger", task="tagging")
def bilstm_tagger(
    *, vocab_size: int, embedding: dict, rnn: dict, num_tags: int,
    pretrained: Pretrained | None = None,
) -> keras.Model:
    """One tag per token from a bidirectional LSTM: each step sees the whole sentence.

    Padding is masked: the backward direction starts at each sentence's last
    real token, and padded steps count in neither the loss nor the metrics.

    Args:
        vocab_size: int. Number of token ids (padding and OOV included).
        embedding: dict. `dim` and `dropout` of the token embedding.
        rnn: dict. `cell`, `units`, `layers`, `dropout`, `bidirectional`,
            `merge_mode`, `residual` (see `rnn_stack`).
        num_tags: int. Tags to choose from at each token.
        pretrained: Pretrained. Aligned pretrained vectors for the embedding.

    Example:
    ```python
    model = seqzoo.build("bilstm_tagger", num_tags=9)
    model(token_ids)  # [batch, time, 9] tag probabilities
    ```
    """
    if num_tags < 2:
        raise UserError(f"num_tags must be at least 2, got {num_tags}")
    token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    x = token_embedding(token_ids, vocab_size=vocab_size, pretrained=pretrained, **embedding)
    x = rnn_stack(x, **rnn, return_sequences=True)
    probabilities = keras.layers.Dense(
        num_tags, activation="softmax", name="probabilities", dtype="float32")(x)
    return keras.Model(token_ids, probabilities, name="bilstm_tagger")
