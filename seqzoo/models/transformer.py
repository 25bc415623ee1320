"""The mini transformer: an encoder classifier (`transformer`) and a causal LM (`transformer_lm`)."""

from __future__ import annotations

import keras

from seqzoo.decoding import TransformerGenerator
from seqzoo.errors import UserError, check_choice
from seqzoo.layers import POOLINGS, Pretrained, sequence_pooling, token_embedding
from seqzoo.layers.positions import POSITIONS, PositionEncoding
from seqzoo.layers.transformer_encoder import TransformerEncoderBlock
from seqzoo.registry import register

ACTIVATIONS = ("relu", "gelu")


@register("transformer", task="classification")
def transformer(
    *, vocab_size: int, model_dim: int, layers: int, heads: int, ff_dim: int, activation: str,
    dropout: float, norm_first: bool, positions: str, max_positions: int, pooling: str,
    num_classes: int, pretrained: Pretrained | None = None,
) -> keras.Model:
    """A transformer encoder over token ids with a pooled classification head.

    Args:
        vocab_size: int. Number of token ids (padding and OOV included).
        model_dim: int. Width of the token vectors and every block.
        layers: int. Encoder blocks.
        heads: int. Attention heads per block (model_dim must divide by it).
        ff_dim: int. Width of each block's feed-forward layer.
        activation: str. Its activation: `relu` or `gelu`.
        dropout: float. Dropout on the embeddings and on each sub-layer's output.
        norm_first: bool. Pre-norm blocks (and a final norm) instead of post-norm.
        positions: str. `sinusoidal` or `learned`.
        max_positions: int. Longest sequence the learned positions cover.
        pooling: str. `mean` or `max` over unpadded steps.
        num_classes: int. Output classes.
        pretrained: Pretrained. Aligned pretrained vectors (projected to model_dim
            when `embeddings.project` is set).

    Example:
    ```python
    model = seqzoo.build("transformer", layers=2, heads=4, model_dim=128)
    ```
    """
    check_choice("positions", positions, POSITIONS)
    check_choice("activation", activation, ACTIVATIONS)
    check_choice("pooling", pooling, [p for p in POOLINGS if p != "last"])
    if model_dim % heads:
        raise UserError(f"model_dim {model_dim} does not divide into {heads} heads")
    if num_classes < 2:
        raise UserError(f"num_classes must be at least 2, got {num_classes}")
    token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    x = token_embedding(token_ids, vocab_size=vocab_size, dim=model_dim, dropout=dropout,
                        pretrained=pretrained)
    x = PositionEncoding(positions, max_positions, name="positions")(x)
    for index in range(layers):
        x = TransformerEncoderBlock(heads, ff_dim, dropout, norm_first, activation=activation,
                                    name=f"block_{index}")(x)
    if norm_first:
        x = keras.layers.LayerNormalization(epsilon=1e-5, name="final_norm")(x)
    x = sequence_pooling(pooling)(x)
    probabilities = keras.layers.Dense(
        num_classes, activation="softmax", name="probabilities", dtype="float32")(x)
    return keras.Model(token_ids, probabilities, name="transformer")


@register("transformer_lm", task="language_model", generator=TransformerGenerator)
def transformer_lm(
    *, vocab_size: int, model_dim: int, layers: int, heads: int, ff_dim: int, activation: str,
    dropout: float, norm_first: bool, positions: str, max_positions: int,
    pretrained: Pretrained | None = None,
) -> keras.Model:
    """A causal transformer language model: step t attends to steps <= t and predicts t + 1.

    Generation (`seqzoo.decoding.TransformerGenerator`) slides a window of the
    last `text.max_length` tokens; sampling is shared with the RNN LMs.

    Args:
        vocab_size: int. Number of token ids (padding, OOV and [BOS] included).
        model_dim, layers, heads, ff_dim, activation, dropout, norm_first, positions: as for
            `transformer`.
        max_positions: int. Longest window the learned positions cover.
        pretrained: Pretrained. Aligned pretrained vectors for the embedding.

    Example:
    ```python
    lm = seqzoo.build("transformer_lm", layers=2, heads=4, model_dim=128)
    lm(token_ids)  # [batch, time, vocab_size] next-token probabilities
    ```
    """
    check_choice("positions", positions, POSITIONS)
    check_choice("activation", activation, ACTIVATIONS)
    if model_dim % heads:
        raise UserError(f"model_dim {model_dim} does not divide into {heads} heads")
    token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    # Training windows are never padded, and the causal mask keeps generation's right padding out.
    x = token_embedding(token_ids, vocab_size=vocab_size, dim=model_dim, dropout=dropout,
                        pretrained=pretrained, mask_zero=False)
    x = PositionEncoding(positions, max_positions, name="positions")(x)
    for index in range(layers):
        x = TransformerEncoderBlock(heads, ff_dim, dropout, norm_first, causal=True,
                                    activation=activation, name=f"block_{index}")(x)
    if norm_first:
        x = keras.layers.LayerNormalization(epsilon=1e-5, name="final_norm")(x)
    logits = keras.layers.Dense(vocab_size, name="logits")(x)
    probabilities = keras.layers.Activation("softmax", name="probabilities", dtype="float32")(logits)
    return keras.Model(token_ids, probabilities, name="transformer_lm")
