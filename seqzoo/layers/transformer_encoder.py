"""One transformer encoder block: self-attention and a feed-forward layer, each residual."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="seqzoo")
class TransformerEncoderBlock(keras.layers.Layer):
    """Multi-head self-attention over unpadded steps, then a position-wise feed-forward.

    Each sub-layer is residual, with layer normalisation after it (post-norm, as
    in Vaswani et al. 2017) or before it (pre-norm, which trains deep stacks more
    stably). Padding (the incoming Keras mask) is never attended to; with
    `causal`, neither is any later step (a decoder block, for language models).
    The causal mask is built from `arange` and a comparison, which convert to
    TFLite builtins (Keras' `use_causal_mask=True` pulls in a Flex op).

    Args:
        heads: int. Attention heads; the model dimension must divide by it.
        ff_dim: int. Width of the feed-forward layer.
        dropout: float. Dropout on each sub-layer's output before the residual add, as in
            Vaswani et al. (not on attention weights or inside the feed-forward layer,
            BERT-style additions that cost a [batch, heads, time, time] draw per block).
        norm_first: bool. Pre-norm instead of post-norm.
        causal: bool. Step t attends to steps <= t only.
        activation: str. The feed-forward activation: `relu` (Vaswani et al.) or `gelu`
            (BERT, GPT), which costs more on CPU.

    Example:
    ```python
    x = TransformerEncoderBlock(heads=4, ff_dim=256)(embedded_tokens)  # same shape
    ```
    """

    def __init__(self, heads: int, ff_dim: int, dropout: float = 0.0, norm_first: bool = False,
                 causal: bool = False, activation: str = "relu", **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        # === Config ===
        self.heads = heads
        self.ff_dim = ff_dim
        self.dropout = dropout
        self.norm_first = norm_first
        self.causal = causal
        self.activation = activation

    def build(self, input_shape):
        dim = input_shape[-1]
        if dim % self.heads:
            raise ValueError(f"model_dim {dim} does not divide into {self.heads} heads")
        # === Layers ===
        self.attention = keras.layers.MultiHeadAttention(
            self.heads, key_dim=dim // self.heads, name="attention"
        )
        self.attention_norm = keras.layers.LayerNormalization(epsilon=1e-5, name="attention_norm")
        self.feed_forward_in = keras.layers.Dense(self.ff_dim, activation=self.activation, name="ff_in")
        self.feed_forward_out = keras.layers.Dense(dim, name="ff_out")
        self.feed_forward_norm = keras.layers.LayerNormalization(epsilon=1e-5, name="ff_norm")
        self.dropout_layer = keras.layers.Dropout(self.dropout)
        self.attention.build(input_shape, input_shape)
        self.attention_norm.build(input_shape)
        self.feed_forward_in.build(input_shape)
        self.feed_forward_out.build((*input_shape[:-1], self.ff_dim))
        self.feed_forward_norm.build(input_shape)

    def call(self, x, mask=None, training=None):
        attention_mask = None if mask is None else ops.expand_dims(ops.cast(mask, "bool"), 1)
        if self.causal:
            steps = ops.arange(ops.shape(x)[1])
            earlier = ops.expand_dims(ops.greater_equal(ops.expand_dims(steps, 1), steps), 0)
            attention_mask = earlier if attention_mask is None else ops.logical_and(attention_mask, earlier)
        h = self.attention_norm(x) if self.norm_first else x
        h = self.attention(h, h, attention_mask=attention_mask, training=training)
        x = x + self.dropout_layer(h, training=training)
        if not self.norm_first:
            x = self.attention_norm(x)
        h = self.feed_forward_norm(x) if self.norm_first else x
        h = self.feed_forward_out(self.feed_forward_in(h))
        x = x + self.dropout_layer(h, training=training)
        return x if self.norm_first else self.feed_forward_norm(x)

    def compute_mask(self, x, mask=None):
        return mask

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(heads=self.heads, ff_dim=self.ff_dim, dropout=self.dropout,
                      norm_first=self.norm_first, causal=self.causal,
                      activation=self.activation)
        return config
