"""Generation from a recurrent LM by stepping its cells and carrying their states.

The trained Keras model runs whole sequences. Generating from it the classic
way (call the model on the growing prefix for every new token) costs O(n^2);
here each new token costs one step of each layer's cell, with the states
carried in a loop that runs inside the graph, so it is fast and it exports.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from seqzoo.decoding.generator import Generator, frame_or_embedding


class RNNGenerator(Generator):
    """Steps a trained `char_lm` / `word_lm` one token at a time (or `lstm_music` and its kin one
    frame at a time).

    The layers are found in the model: `embedding` (none for frames), its recurrent
    layers in order, `residual_<i>` adds, `logits` (or the tied embedding) and
    `probabilities`. The states are `state_<layer>_<k>`: h (and c for an LSTM) of each layer.

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
        self.embed = frame_or_embedding(self, model)
        self.rnn_layers = [layer for layer in model.layers if isinstance(layer, keras.layers.RNN)]
        names = {layer.name for layer in model.layers}
        self.residual = [f"residual_{i}" in names for i in range(len(self.rnn_layers))]
        self.logits = model.get_layer("logits") if "logits" in names else None
        self.probabilities = model.get_layer("probabilities")
        self.vocab_size = model.output_shape[-1]

    def _layer_state_sizes(self) -> list[list[int]]:
        """Per layer, the sizes of its states (LSTM: [h, c]; GRU: [h])."""
        sizes = []
        for layer in self.rnn_layers:
            size = layer.cell.state_size
            sizes.append(list(size) if isinstance(size, (list, tuple)) else [size])
        return sizes

    def state_specs(self) -> list[tuple[str, list[int], tf.DType]]:
        return [(f"state_{layer}_{k}", [size], tf.float32)
                for layer, sizes in enumerate(self._layer_state_sizes()) for k, size in enumerate(sizes)]

    def recorded_groups(self) -> list[tuple[str, int]]:
        """h<layer> (and c<layer> for an LSTM, as tanh(c): the value its output reads, in -1..1)."""
        return [(("h", "c")[k] + str(layer), size)
                for layer, sizes in enumerate(self._layer_state_sizes(), start=1)
                for k, size in enumerate(sizes)]

    def recorded_step(self, inputs, states):
        _, states = self.step(inputs, states)
        cell_state = [name.startswith("c") for name, _ in self.recorded_groups()]
        return [tf.tanh(s) if c else s for s, c in zip(states, cell_state, strict=True)], states

    def step(self, inputs, states):
        x = self.embed(inputs)
        new_states, position = [], 0
        for layer, residual, sizes in zip(self.rnn_layers, self.residual, self._layer_state_sizes(),
                                          strict=True):
            layer_states = list(states[position : position + len(sizes)])
            position += len(sizes)
            output, state = layer.cell.call(x, layer_states, training=False)
            new_states.extend(state if isinstance(state, (list, tuple)) else [state])
            x = output + x if residual else output
        logits = self.logits(x) if self.logits is not None else self.model.get_layer("embedding").call(
            x, reverse=True)
        return self.probabilities(logits), new_states
