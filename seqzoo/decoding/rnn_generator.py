"""Generation from a recurrent LM by stepping its cells and carrying their states.

The trained Keras model runs whole sequences. Generating from it the classic
way (call the model on the growing prefix for every new token) costs O(n^2);
here each new token costs one step of each layer's cell, with the states
carried in a loop that runs inside the graph, so it is fast and it exports.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from seqzoo.decoding.sampling import sample_next


class RNNGenerator:
    """Steps a trained `char_lm` / `word_lm` one token at a time.

    The layers are found in the model: `embedding`, its recurrent layers in
    order, `residual_<i>` adds, and `logits` (or the tied embedding).

    Args:
        model: keras.Model. A language model built by `seqzoo.build`.

    Example:
    ```python
    generator = RNNGenerator(model)
    tokens = generator.generate(prompt_ids, max_new_tokens=100, temperature=0.8,
                                top_k=0, top_p=0.9, seed=7)
    ```
    """

    def __init__(self, model: keras.Model):
        self.model = model
        self.embedding = model.get_layer("embedding")
        self.rnn_layers = [layer for layer in model.layers if isinstance(layer, keras.layers.RNN)]
        names = {layer.name for layer in model.layers}
        self.residual = [f"residual_{i}" in names for i in range(len(self.rnn_layers))]
        self.logits = model.get_layer("logits") if "logits" in names else None
        self.vocab_size = model.output_shape[-1]

    def state_sizes(self) -> list[list[int]]:
        """Per layer, the sizes of its states (LSTM: [h, c]; GRU: [h])."""
        sizes = []
        for layer in self.rnn_layers:
            size = layer.cell.state_size
            sizes.append(list(size) if isinstance(size, (list, tuple)) else [size])
        return sizes

    def initial_states(self, batch_size) -> list[list[tf.Tensor]]:
        return [[tf.zeros([batch_size, size]) for size in sizes] for sizes in self.state_sizes()]

    def step(self, token_ids, states):
        """ids [batch] + states -> next-token probabilities [batch, vocab] + new states."""
        x = self.embedding.call(token_ids)
        new_states = []
        for layer, residual, layer_states in zip(self.rnn_layers, self.residual, states, strict=True):
            output, state = layer.cell.call(x, list(layer_states), training=False)
            new_states.append(list(state) if isinstance(state, (list, tuple)) else [state])
            x = output + x if residual else output
        logits = self.logits(x) if self.logits is not None else self.embedding.call(x, reverse=True)
        return ops.softmax(logits, axis=-1), new_states

    def prefill(self, prompt_ids):
        """Left-padded prompts [batch, time] -> probabilities after the last token, states.

        Padding (id 0) leaves a row's states unchanged, so rows of any length end
        aligned on the last column.
        """
        batch = tf.shape(prompt_ids)[0]

        def body(t, probabilities, states):
            ids = prompt_ids[:, t]
            new_probabilities, new_states = self.step(ids, states)
            keep = tf.not_equal(ids, 0)[:, None]
            states = tf.nest.map_structure(lambda new, old: tf.where(keep, new, old), new_states, states)
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
