"""What every in-graph generator shares: a step function over flat states, and the sampling loop."""

from __future__ import annotations

import tensorflow as tf

from seqzoo.decoding.sampling import sample_next


class Generator:
    """Generation from a language model (a token at a time) or a music model (a piano-roll frame
    at a time), inside the graph.

    A subclass says what its state is (`state_specs`, `initial_states`), how
    one input advances it (`step`), and how prompts start it (`prefill`); the
    sampling loop is written once, here (`unroll`). States are flat lists of
    tensors, so the `step` signature of an export can name each one.
    """

    vocab_size: int  # outputs per step: the vocabulary, a frame's notes, or the mu-law levels
    frame_size: int | None = None  # None: ids in; N: float frames [batch, N] in (music)
    id_name = "token_ids"  # what the `step` signature calls its ids (audio: `code`)
    pads = True  # whether id 0 is padding in a prompt (tokens); audio's code 0 is a sample

    @classmethod
    def for_model(cls, model, window: int):
        """The generator over a built model (`window`: the context of one that needs it)."""
        return cls(model)

    def input_spec(self, batch_size: int | None) -> tf.TensorSpec:
        """What one step reads: ids [batch] int32, or frames [batch, frame_size] float32."""
        if self.frame_size is None:
            return tf.TensorSpec([batch_size], tf.int32, name=self.id_name)
        return tf.TensorSpec([batch_size, self.frame_size], tf.float32, name="frame")

    def state_specs(self) -> list[tuple[str, list[int], tf.DType]]:
        """(name, shape without the batch axis, dtype) of each state tensor."""
        raise NotImplementedError

    def recorded_groups(self) -> list[tuple[str, int]]:
        """(name, units) of what `seqzoo cells` records at every step: a recurrent layer's h and c, a
        TCN block's channels. None: this model's cells are not recorded."""
        return None

    def recorded_step(self, inputs, states: list[tf.Tensor]) -> tuple[list[tf.Tensor], list[tf.Tensor]]:
        """One step: inputs + states -> each recorded group's values [batch, units] + new states."""
        raise NotImplementedError

    def initial_states(self, batch_size) -> list[tf.Tensor]:
        """The states before any token: zeros of `state_specs`."""
        return [tf.zeros([batch_size, *shape], dtype) for _, shape, dtype in self.state_specs()]

    def step(self, inputs, states: list[tf.Tensor]):
        """ids [batch] (or frames [batch, frame_size]) + states -> next-step probabilities
        [batch, vocab_size] + new states."""
        raise NotImplementedError

    def prefill(self, prompt_ids):
        """Left-padded prompts [batch, time] (or frames [batch, time, frame_size]) ->
        probabilities after each last step, states.

        Steps through the prompts; padding (id 0) leaves a row's states unchanged, so rows
        of any length end aligned on the last column. Frames are never padding (a silent
        frame is a rest), nor are audio codes (`pads` False).
        """
        batch = tf.shape(prompt_ids)[0]

        def body(t, probabilities, states):
            ids = prompt_ids[:, t]
            new_probabilities, new_states = self.step(ids, states)
            if self.frame_size is not None or not self.pads:
                return t + 1, new_probabilities, new_states
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
        def choose(probabilities, step_seed):
            return sample_next(probabilities, temperature, top_k, top_p, step_seed, banned)

        return self.unroll(*self.prefill(prompt_ids), max_new_tokens, seed, choose)

    def unroll(self, probabilities, states, steps, seed, choose):
        """`steps` new inputs [batch, steps] (or [batch, steps, frame_size]) from probabilities and
        states (as `prefill` leaves them): each chosen by `choose(probabilities, seed [2])` and fed
        back, in a graph loop; step i is seeded (seed, i)."""
        seed = tf.cast(seed, tf.int32)
        spec = self.input_spec(None)

        def body(i, probabilities, states, chosen):
            next_inputs = choose(probabilities, tf.stack([seed, i]))
            probabilities, states = self.step(next_inputs, states)
            return i + 1, probabilities, states, chosen.write(i, next_inputs)

        *_, chosen = tf.while_loop(
            lambda i, *_: i < steps, body,
            (tf.constant(0), probabilities, states, tf.TensorArray(spec.dtype, size=steps)),
        )
        # An empty TensorArray cannot stack (its element shape is unknown): zero steps is [batch, 0, ...].
        batch = tf.shape(probabilities)[0]
        return tf.cond(
            steps > 0, lambda: tf.transpose(chosen.stack(), [1, 0, *range(2, spec.shape.rank + 1)]),
            lambda: tf.zeros([batch, 0, *spec.shape[1:]], spec.dtype),
        )


def frame_or_embedding(generator: Generator, model):
    """What a step feeds the first sequence layer: float frames as they are (setting
    `generator.frame_size`), or token ids through the model's `embedding`."""
    if model.inputs[0].dtype.startswith("float"):
        generator.frame_size = model.input_shape[-1]
        return lambda frames: frames
    return model.get_layer("embedding").call
