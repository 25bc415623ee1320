"""Generation from a causal transformer LM over a sliding window of recent tokens."""

from __future__ import annotations

import keras
import tensorflow as tf

from seqzoo.decoding.generator import Generator


class TransformerGenerator(Generator):
    """Steps a trained `transformer_lm` one token at a time.

    The state is the window of the last `window` token ids, right-padded, and
    how many are filled. Each step writes the new id, runs the model over the
    window and reads the probabilities at the last filled position: with causal
    attention the padding to the right changes nothing. A full window drops its
    oldest token. There is no key/value cache: each step costs one forward pass
    over the window.

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
        self.vocab_size = model.output_shape[-1]

    @classmethod
    def for_model(cls, model: keras.Model, window: int) -> TransformerGenerator:
        return cls(model, window)

    def state_specs(self) -> list[tuple[str, list[int], tf.DType]]:
        return [("context", [self.window], tf.int32), ("length", [], tf.int32)]

    def step(self, token_ids, states):
        context, length = states
        full = length >= self.window
        shifted = tf.concat([context[:, 1:], tf.zeros_like(context[:, :1])], axis=1)
        context = tf.where(full[:, None], shifted, context)
        length = tf.where(full, self.window - 1, length)
        slot = tf.one_hot(length, self.window, on_value=1, off_value=0, dtype=tf.int32)
        context = context * (1 - slot) + slot * tf.cast(token_ids, tf.int32)[:, None]
        length = length + 1
        return self._at(context, length), [context, length]

    def prefill(self, prompt_ids):
        """The left-padded prompts right-aligned into the window (their last `window` ids)."""
        prompt_ids = tf.cast(prompt_ids[:, -self.window :], tf.int32)
        lengths = tf.reduce_sum(tf.cast(prompt_ids != 0, tf.int32), axis=1)
        right_padded = tf.reverse_sequence(tf.reverse(prompt_ids, axis=[1]), lengths, seq_axis=1,
                                           batch_axis=0)
        context = tf.pad(right_padded, [[0, 0], [0, self.window - tf.shape(prompt_ids)[1]]])
        return self._at(context, lengths), [context, lengths]

    def _at(self, context, length):
        """Next-token probabilities after each row's last filled position."""
        probabilities = self.model(context, training=False)
        return tf.gather(probabilities, tf.maximum(length - 1, 0), axis=1, batch_dims=1)
