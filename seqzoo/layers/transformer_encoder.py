"""One transformer encoder block: self-attention and a feed-forward layer, each residual."""

from __future__ import annotations

import keras
from keras import ops

from seqzoo.layers.attention import MASKED


@keras.saving.register_keras_serializable(package="seqzoo")
class TransformerEncoderBlock(keras.layers.Layer):
    """Multi-head self-attention over unpadded steps, then a position-wise feed-forward.

    The attention computes what `keras.layers.MultiHeadAttention` does (a test holds them
    equal), with the query, key and value projections fused into one matmul and padding
    kept out by an additive bias on the keys ([batch, 1, 1, time]) rather than a
    [batch, time, time] boolean mask. Small models on CPU are bound by the number of ops,
    and this way the masked block trains and serves faster than the keras.io example's
    unmasked one (bench/bench_transformer.py).

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
        # EinsumDense, not Dense: on [batch, time, dim], Dense adds a round trip of eight
        # shape ops per projection (each a CPU dispatch, in training and in serving).
        size = dim // self.heads
        self.query_key_value = keras.layers.EinsumDense(
            "btd,dk->btk", (None, 3 * dim), bias_axes="k", name="query_key_value"
        )
        self.attention_output = keras.layers.EinsumDense(
            "btnh,nhd->btd", (None, dim), bias_axes="d", name="attention_output"
        )
        self.attention_norm = keras.layers.LayerNormalization(epsilon=1e-5, name="attention_norm")
        self.feed_forward_in = keras.layers.EinsumDense(
            "btd,df->btf", (None, self.ff_dim), bias_axes="f", activation=self.activation, name="ff_in"
        )
        self.feed_forward_out = keras.layers.EinsumDense(
            "btf,fd->btd", (None, dim), bias_axes="d", name="ff_out"
        )
        self.feed_forward_norm = keras.layers.LayerNormalization(epsilon=1e-5, name="ff_norm")
        self.dropout_layer = keras.layers.Dropout(self.dropout)
        for position_wise in (self.query_key_value, self.attention_output, self.feed_forward_in,
                              self.feed_forward_out):
            position_wise.supports_masking = True  # as Dense: steps stay where they are
        self.query_key_value.build(input_shape)
        self.attention_output.build((*input_shape[:-1], self.heads, size))
        self.attention_norm.build(input_shape)
        self.feed_forward_in.build(input_shape)
        self.feed_forward_out.build((*input_shape[:-1], self.ff_dim))
        self.feed_forward_norm.build(input_shape)

    def call(self, x, mask=None, training=None):
        h = self.attention_norm(x) if self.norm_first else x
        return self._feed_forward(x, self.self_attention(h, mask), training)

    def self_attention(self, x, mask=None):
        """Scaled dot-product attention in `heads` subspaces: [batch, time, dim] -> same.

        Padded keys (`mask` False) get an additive bias of MASKED, [batch, 1, 1, keys];
        later keys (`causal`) are replaced by MASKED with a select. Adding a
        [1, 1, queries, keys] causal bias instead is 100x slower on CPU when the length is
        dynamic (as in a SavedModel): oneDNN fuses the add into the matmul, slowly.
        """
        return self._attend(*self._heads(x), mask)

    def cached_call(self, x, keys, values, position):
        """`call` for one new step of a causal block, with a key/value cache (generation).

        x [batch, 1, dim] is each row's step at its `position` [batch] (how many steps it
        has cached); keys and values [batch, heads, window, size] hold those steps' (what
        `cached_prefill` or earlier calls left). The step's key and value are written at
        `position`; it attends to positions <= its own. Returns the output [batch, 1, dim] and
        the caches. Positions past the window write nothing: the caller slides first."""
        h = self.attention_norm(x) if self.norm_first else x
        query, key, value = self._heads(h)
        window = keys.shape[2]  # static: the generator pins the window
        slot = ops.reshape(ops.one_hot(position, window, dtype=keys.dtype), (-1, 1, window, 1))
        keys = keys * (1 - slot) + key * slot
        values = values * (1 - slot) + value * slot
        seen = ops.expand_dims(ops.arange(window), 0) <= ops.expand_dims(position, 1)  # [batch, window]
        h = self._attend(query, keys, values, allowed=ops.reshape(seen, (-1, 1, 1, window)))
        return self._feed_forward(x, h), keys, values

    def cached_prefill(self, x):
        """`call` on right-padded steps [batch, window, dim] of a causal block, with the keys and
        values its attention read ([batch, heads, window, size]: a generator's first cache)."""
        h = self.attention_norm(x) if self.norm_first else x
        query, key, value = self._heads(h)
        return self._feed_forward(x, self._attend(query, key, value)), key, value

    def _heads(self, x):
        """[batch, time, dim] -> query, key, value, each [batch, heads, time, size]."""
        batch, time, size = ops.shape(x)[0], ops.shape(x)[1], x.shape[-1] // self.heads
        heads = ops.reshape(self.query_key_value(x), (batch, time, 3, self.heads, size))
        return ops.unstack(ops.transpose(heads, (2, 0, 3, 1, 4)), 3, axis=0)

    def _attend(self, query, key, value, mask=None, allowed=None):
        """The attention's output [batch, queries, dim]. Keys are kept out by `mask` [batch, keys]
        (padding, False), by `causal` (the queries are the keys' steps), or by `allowed`
        (a boolean that broadcasts to the scores [batch, heads, queries, keys])."""
        batch, keys = ops.shape(key)[0], ops.shape(key)[2]
        scores = ops.einsum("bnqh,bnkh->bnqk", query * key.shape[-1] ** -0.5, key)
        if mask is not None:
            scores = scores + ops.reshape((1.0 - ops.cast(mask, scores.dtype)) * MASKED, (batch, 1, 1, keys))
        if self.causal and allowed is None:
            steps = ops.arange(keys)
            allowed = ops.expand_dims(steps, 1) >= steps
        if allowed is not None:
            scores = ops.where(allowed, scores, MASKED)
        # One key (statically): every weight is 1, and Keras' softmax would warn about axis size 1.
        weights = ops.ones_like(scores) if scores.shape[-1] == 1 else ops.softmax(scores, axis=-1)
        context = ops.transpose(ops.matmul(weights, value), (0, 2, 1, 3))
        return self.attention_output(context)

    def _feed_forward(self, x, attended, training=None):
        """The rest of the block after the attention: residual, norms and the feed-forward layer."""
        x = x + self.dropout_layer(attended, training=training)
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
