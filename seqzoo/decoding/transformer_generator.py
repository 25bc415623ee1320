"""Generation from a causal transformer LM with a key/value cache over a window of recent tokens."""

from __future__ import annotations

import keras
import tensorflow as tf

from seqzoo.decoding.generator import Generator
from seqzoo.layers.positions import PositionEncoding
from seqzoo.layers.transformer_encoder import TransformerEncoderBlock


class TransformerGenerator(Generator):
    """Steps a trained `transformer_lm` one token at a time, with each block's keys and values
    cached.

    The state is the window of the last `window` token ids (right-padded), how many are filled,
    and each block's keys and values of those tokens (`keys_<i>`, `values_<i>`: [heads, window,
    size]). A step computes only the new token's query, key and value in each block and attends
    to the cached ones, so it costs one column of work where re-running the window costs
    `window` columns. While the text fits in the window, every step's probabilities are the
    window re-run's (the causal mask keeps the right padding out of both).

    Past the window: the cached keys hold their absolute positions, so the window cannot slide
    a token at a time without recomputing them all. Instead, when a step finds the window full,
    it keeps the last `window // 2` tokens, recomputes their caches in one parallel pass at
    positions 0.. (as a prompt), and goes on: the context is then between half a window and a
    whole one, and the recomputation costs one pass per `window // 2` new tokens.

    Args:
        model: keras.Model. A causal transformer LM built by `seqzoo.build`.
        window: int. Tokens of context: the prompt length the vectorizer keeps
            (`text.max_length`), at most the trained positions.

    Example:
    ```python
    generator = TransformerGenerator(model, window=128)
    tokens = generator.generate(prompt_ids, 100, temperature=0.8, top_k=0, top_p=0.9, seed=7)
    ```
    """

    def __init__(self, model: keras.Model, window: int):
        self.model = model
        self.window = window
        self.keep = max(window // 2, 1)  # tokens kept when a full window slides
        self.layers = model.layers[1:]  # a chain: embedding ... positions, blocks ... probabilities
        self.blocks = [layer for layer in self.layers if isinstance(layer, TransformerEncoderBlock)]
        self.vocab_size = model.output_shape[-1]

    @classmethod
    def for_model(cls, model: keras.Model, window: int) -> TransformerGenerator:
        return cls(model, window)

    def state_specs(self) -> list[tuple[str, list[int], tf.DType]]:
        caches = []
        for i, block in enumerate(self.blocks):
            shape = [block.heads, self.window, block.query_key_value.kernel.shape[0] // block.heads]
            caches += [(f"keys_{i}", shape, tf.float32), (f"values_{i}", shape, tf.float32)]
        return [("context", [self.window], tf.int32), ("length", [], tf.int32), *caches]

    def step(self, token_ids, states):
        probabilities, states, _ = self._step(token_ids, states)
        return probabilities, states

    def recorded_groups(self) -> list[tuple[str, int]]:
        """b<block>: each block's output channels (the residual stream after it)."""
        return [(f"b{i}", block.query_key_value.kernel.shape[0]) for i, block in enumerate(self.blocks, 1)]

    def recorded_step(self, inputs, states):
        _, states, blocks = self._step(inputs, states)
        return blocks, states

    def _step(self, token_ids, states):
        """(probabilities, new states, each block's output [batch, channels]) of one token."""
        context, length, *caches = states
        full = length >= self.window
        context, length, caches = tf.cond(tf.reduce_any(full),
                                          lambda: self._slide(full, context, length, caches),
                                          lambda: (context, length, caches))
        slot = tf.one_hot(length, self.window, on_value=1, off_value=0, dtype=tf.int32)
        context = context * (1 - slot) + slot * tf.cast(token_ids, tf.int32)[:, None]
        x, new_caches, blocks = tf.cast(token_ids, tf.int32)[:, None], [], []
        for layer in self.layers:
            if isinstance(layer, TransformerEncoderBlock):
                x, keys, values = layer.cached_call(x, *caches[len(new_caches) : len(new_caches) + 2], length)
                new_caches += [keys, values]
                blocks.append(x[:, 0])
            elif isinstance(layer, PositionEncoding):
                x = x + layer.vectors(length[:, None], x)
            else:
                x = layer(x, training=False)
        return x[:, 0], [context, length + 1, *new_caches], blocks

    def prefill(self, prompt_ids):
        """The left-padded prompts right-aligned into the window (their last `window` ids), and
        their caches from one parallel pass."""
        prompt_ids = tf.cast(prompt_ids[:, -self.window :], tf.int32)
        lengths = tf.reduce_sum(tf.cast(prompt_ids != 0, tf.int32), axis=1)
        right_padded = tf.reverse_sequence(tf.reverse(prompt_ids, axis=[1]), lengths, seq_axis=1,
                                           batch_axis=0)
        context = tf.pad(right_padded, [[0, 0], [0, self.window - tf.shape(prompt_ids)[1]]])
        context = tf.ensure_shape(context, [None, self.window])  # static: the caches' shapes follow
        probabilities, caches = self._prefill(context)
        return tf.gather(probabilities, tf.maximum(lengths - 1, 0), axis=1, batch_dims=1), [
            context, lengths, *caches]

    def _prefill(self, context):
        """Probabilities [batch, window, vocab] over a right-padded window and its caches."""
        x, caches = context, []
        for layer in self.layers:
            if isinstance(layer, TransformerEncoderBlock):
                x, keys, values = layer.cached_prefill(x)
                caches += [keys, values]
            else:
                x = layer(x, training=False)
        return x, caches

    def _slide(self, full, context, length, caches):
        """Rows whose window is full keep their last `keep` tokens, re-read as a prompt."""
        kept = tf.concat([context[:, self.window - self.keep :],
                          tf.zeros_like(context[:, : self.window - self.keep])], axis=1)
        _, kept_caches = self._prefill(kept)
        rows = tf.reshape(full, [-1, 1, 1, 1])
        return (tf.where(full[:, None], kept, context), tf.where(full, self.keep, length),
                [tf.where(rows, new, old) for new, old in zip(kept_caches, caches, strict=True)])
