"""What every in-graph generator shares: a step function over flat states, and the sampling loop."""

from __future__ import annotations

import tensorflow as tf

from seqzoo.decoding.sampling import sample_next


class Generator:
    """Generation from a language model, one token at a time, inside the graph.

    A subclass says what its state is (`state_specs`, `initial_states`), how
    one token advances it (`step`), and how left-padded prompts start it
    (`prefill`); the sampling loop is written once, here. States are flat lists
    of tensors, so the `step` signature of an export can name each one.
    """

    vocab_size: int

    def state_specs(self) -> list[tuple[str, list[int], tf.DType]]:
        """(name, shape without the batch axis, dtype) of each state tensor."""
        raise NotImplementedError

    def initial_states(self, batch_size) -> list[tf.Tensor]:
        """The states before any token: zeros of `state_specs`."""
        return [tf.zeros([batch_size, *shape], dtype) for _, shape, dtype in self.state_specs()]

    def step(self, token_ids, states: list[tf.Tensor]):
        """ids [batch] + states -> next-token probabilities [batch, vocab] + new states."""
        raise NotImplementedError

    def prefill(self, prompt_ids):
        """Left-padded prompts [batch, time] -> probabilities after each last token, states.

        Steps through the prompts; padding (id 0) leaves a row's states unchanged, so rows
        of any length end aligned on the last column.
        """
        batch = tf.shape(prompt_ids)[0]

        def body(t, probabilities, states):
            ids = prompt_ids[:, t]
            new_probabilities, new_states = self.step(ids, states)
            keep = tf.not_equal(ids, 0)[:, None]
            states = [tf.where(tf.reshape(keep, [-1] + [1] * (len(new.shape) - 1)), new, old)
                      for new, old in zip(new_states, states, strict=True)]
            return t + 1, tf.where(keep, new_probabilities, probabilities), states

        _, probabilities, states = tf.while_loop(
            lambda t, *_: t < tf.shape(prompt_ids)[1], body,
            (tf.constant(0), tf.zeros([batch, self.vocab_size]), self.initial_states(batch)),
        )
        return probabilities, states

    def generate(self, prompt_ids, max_new_tokens, temperature, top_k, top_p, seed, banned=None):
        """New token ids [batch, max_new_tokens] after left-padded prompts, in the graph."""
        probabilities, states = self.prefill(prompt_ids)
        seed = tf.cast(seed, tf.int32)

        def body(i, probabilities, states, tokens):
            next_ids = sample_next(probabilities, temperature, top_k, top_p, tf.stack([seed, i]), banned)
            probabilities, states = self.step(next_ids, states)
            return i + 1, probabilities, states, tokens.write(i, next_ids)

        *_, tokens = tf.while_loop(
            lambda i, *_: i < max_new_tokens, body,
            (tf.constant(0), probabilities, states, tf.TensorArray(tf.int32, size=max_new_tokens)),
        )
        # An empty TensorArray cannot stack (its element shape is unknown): zero tokens is [batch, 0].
        return tf.cond(
            max_new_tokens > 0, lambda: tf.transpose(tokens.stack()),
            lambda: tf.zeros([tf.shape(prompt_ids)[0], 0], tf.int32),
        )
