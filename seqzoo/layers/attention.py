"""Attention over encoder states: Bahdanau (additive), Luong (dot, general), multi-head."""

from __future__ import annotations

import keras
from keras import ops

from seqzoo.errors import UserError, check_choice

ATTENTIONS = ("bahdanau", "luong_dot", "luong_general", "multihead")
MASKED = -1e9  # a score for padded positions: exp() is 0, and TFLite needs no -inf


@keras.saving.register_keras_serializable(package="seqzoo")
class Attention(keras.layers.Layer):
    """Scores every encoder state z_j against a decoder state g; returns the context and weights.

    `bahdanau`: rel(z_j) = v_a^T tanh(W_a [g; z_j]), written as W_q g + W_k z_j with
    W_a = [W_q W_k], so W_k z_j is computed once per source (`keys`), not once per step.
    `luong_dot`: g . z_j (g and z_j must have the same size). `luong_general`: g^T W z_j.
    `multihead`: scaled dot products in `heads` learned subspaces, contexts concatenated
    and projected (weights returned: the mean over heads). alpha = softmax over j, padded
    positions masked; context c = sum_j alpha_j z_j.

    Args:
        kind: str. `bahdanau`, `luong_dot`, `luong_general` or `multihead`.
        units: int. Size of the additive score's hidden layer (bahdanau), of the
            multi-head projections (multihead; divisible by `heads`), or of W z_j
            (luong_general: the decoder state's size). luong_dot has no weights.
        heads: int. Heads of `multihead`.

    Example:
    ```python
    attention = Attention("bahdanau", units=64)
    keys = attention.keys(memory)                                # once per source
    context, weights = attention(query, keys, memory, memory_mask)  # once per step
    ```
    """

    def __init__(self, kind: str, units: int, heads: int = 1, **kwargs):
        super().__init__(**kwargs)
        check_choice("attention", kind, ATTENTIONS)
        if kind == "multihead" and units % heads:
            raise UserError(f"multihead attention needs units divisible by heads, got {units} and {heads}")
        # === Config ===
        self.kind = kind
        self.units = units
        self.heads = heads
        # === Layers ===
        if kind != "luong_dot":
            self.key_dense = keras.layers.Dense(units, use_bias=False, name="key")
        if kind in ("bahdanau", "multihead"):
            self.query_dense = keras.layers.Dense(units, use_bias=False, name="query")
        if kind == "bahdanau":
            self.score_dense = keras.layers.Dense(1, use_bias=False, name="score")  # v_a
        if kind == "multihead":
            self.value_dense = keras.layers.Dense(units, use_bias=False, name="value")
            self.output_dense = keras.layers.Dense(units, use_bias=False, name="output")

    def build(self, query_shape, keys_shape, memory_shape, memory_mask_shape):
        if self.kind != "luong_dot" and not self.key_dense.built:  # `keys` may have built it
            self.key_dense.build(memory_shape)
        if self.kind in ("bahdanau", "multihead"):
            self.query_dense.build(query_shape)
        if self.kind == "bahdanau":
            self.score_dense.build((None, None, self.units))
        if self.kind == "multihead":
            if not self.value_dense.built:
                self.value_dense.build(memory_shape)
            self.output_dense.build((None, self.units))

    def keys(self, memory):
        """What the scores need from the encoder states, computed once per source: [batch, source, k]."""
        if self.kind == "luong_dot":
            return memory
        if self.kind == "multihead":  # keys and values side by side
            return ops.concatenate([self.key_dense(memory), self.value_dense(memory)], axis=-1)
        return self.key_dense(memory)

    def call(self, query, keys, memory, memory_mask):
        """query [batch, q], keys (from `keys`), memory [batch, source, m], memory_mask [batch, source]
        -> context [batch, m] (multihead: [batch, units]), weights [batch, source]."""
        if self.kind == "multihead":
            return self._multihead(query, keys, memory_mask)
        if self.kind == "luong_dot" and query.shape[-1] != memory.shape[-1]:
            raise UserError(f"luong_dot attention needs decoder and encoder states of one size, "
                            f"got {query.shape[-1]} and {memory.shape[-1]}")
        if self.kind == "bahdanau":
            hidden = ops.tanh(ops.expand_dims(self.query_dense(query), 1) + keys)
            scores = ops.squeeze(self.score_dense(hidden), -1)
        else:
            scores = ops.sum(ops.expand_dims(query, 1) * keys, axis=-1)
        weights = _masked_softmax(scores, memory_mask)
        return ops.sum(ops.expand_dims(weights, -1) * memory, axis=1), weights

    def _multihead(self, query, keys, memory_mask):
        batch, heads, size = ops.shape(query)[0], self.heads, self.units // self.heads
        q = ops.reshape(self.query_dense(query), (batch, 1, heads, size))
        k = ops.reshape(keys[:, :, : self.units], (batch, -1, heads, size))
        v = ops.reshape(keys[:, :, self.units :], (batch, -1, heads, size))
        scores = ops.sum(q * k, axis=-1) / size**0.5  # [batch, source, heads]
        weights = _masked_softmax(ops.transpose(scores, (0, 2, 1)), ops.expand_dims(memory_mask, 1))
        context = ops.einsum("bhs,bshd->bhd", weights, v)
        return self.output_dense(ops.reshape(context, (batch, self.units))), ops.mean(weights, axis=1)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(kind=self.kind, units=self.units, heads=self.heads)
        return config


def _masked_softmax(scores, mask):
    return ops.softmax(ops.where(ops.cast(mask, "bool"), scores, MASKED), axis=-1)
