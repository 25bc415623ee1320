"""The decoder of seq2seq: one recurrent step, written once, for teacher forcing and for search."""

from __future__ import annotations

import keras
from keras import ops

from seqzoo.errors import check_choice
from seqzoo.layers.attention import ATTENTIONS, Attention

CELL_CLASSES = {"lstm": keras.layers.LSTMCell, "gru": keras.layers.GRUCell,
                "simple_rnn": keras.layers.SimpleRNNCell}
INPUT_FEEDING = ("luong_dot", "luong_general", "multihead")  # attend after the step, feed h~ back


@keras.saving.register_keras_serializable(package="seqzoo")
class RecurrentDecoder(keras.layers.Layer):
    """Target ids (teacher forcing) + encoder memory -> next-token probabilities at every step.

    One step, g_i = cell(g_{i-1}, [y_{i-1}; c_i]), reads the source through c_i:
    - `attention: null` (the plain encoder-decoder): c_i = C, the encoder's summary,
      at every step (memory is C alone).
    - `bahdanau`: c_i attends over the memory with the previous state g_{i-1}.
    - `luong_dot`, `luong_general`, `multihead`: the step runs first, c_i attends with
      the new state, and the attentional state h~_i = tanh(W_c [c_i; g_i]) is fed
      into the next step (Luong et al. 2015's input feeding).
    The output is softmax(W_o tanh(W_c [c_i; g_i])). The initial state is
    tanh(W_b C) per state tensor. `step` is what the search loops call; `call` runs
    the same step over all target positions.

    Args:
        vocab_size: int. Target token ids, padding and OOV included.
        embedding_dim: int. Size of the target embedding.
        cell: str. `lstm`, `gru` or `simple_rnn`.
        units: int. Size of the decoder state.
        attention: str or None. None, `bahdanau`, `luong_dot`, `luong_general`, `multihead`.
        attention_units: int. Hidden size of the additive score / of the multi-head projections.
        heads: int. Heads of `multihead`.
        dropout: float. Dropout on the cell's inputs while training.

    Example:
    ```python
    decoder = RecurrentDecoder(40, 32, "lstm", 64, attention="bahdanau", attention_units=64)
    probabilities = decoder(target_ids, memory, memory_mask, summary)  # [batch, time, 40]
    ```
    """

    def __init__(self, vocab_size: int, embedding_dim: int, cell: str, units: int,
                 attention: str | None = "bahdanau", attention_units: int = 64, heads: int = 4,
                 dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        check_choice("decoder cell", cell, CELL_CLASSES)
        if attention is not None:
            check_choice("attention", attention, ATTENTIONS)
        self.supports_masking = True
        # === Config ===
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.cell = cell
        self.units = units
        self.attention = attention
        self.attention_units = attention_units
        self.heads = heads
        self.dropout = dropout
        # === Layers ===
        self.embedding = keras.layers.Embedding(vocab_size, embedding_dim, name="target_embedding")
        self.rnn_cell = CELL_CLASSES[cell](units, dropout=dropout, name=f"{cell}_cell")
        self.state_count = 2 if cell == "lstm" else 1
        self.bridges = [keras.layers.Dense(units, activation="tanh", name=f"bridge_{i}")
                        for i in range(self.state_count)]
        self.attention_layer = None
        if attention is not None:
            size = units if attention == "luong_general" else attention_units
            self.attention_layer = Attention(attention, size, heads, name="attention")
        self.attentional = keras.layers.Dense(units, activation="tanh", name="attentional")
        self.output_dense = keras.layers.Dense(vocab_size, activation="softmax", name="probabilities")

    def build(self, target_ids_shape, memory_shape, memory_mask_shape, summary_shape):
        self.embedding.build(target_ids_shape)
        for bridge in self.bridges:
            bridge.build(summary_shape)
        if self.attention_layer is None:
            context_size = summary_shape[-1]
        else:
            context_size = self.attention_units if self.attention == "multihead" else memory_shape[-1]
            self.attention_layer.build((None, self.units), None, memory_shape, memory_mask_shape)
        feed_size = self.units if self.input_feeding else context_size
        self.rnn_cell.build((None, self.embedding_dim + feed_size))
        self.attentional.build((None, context_size + self.units))
        self.output_dense.build((None, None, self.units))

    @property
    def input_feeding(self) -> bool:
        return self.attention in INPUT_FEEDING

    def initial_states(self, summary) -> list:
        """The decoder's first states from the encoder summary C [batch, units']."""
        states = [bridge(summary) for bridge in self.bridges]
        if self.input_feeding:
            states.append(ops.zeros_like(states[0]))  # h~_0
        return states

    def attend_to(self, memory, memory_mask, summary):
        """(memory, keys, mask) the steps read, computed once per source. Without attention
        the memory is C alone: [batch, 1, units']."""
        if self.attention_layer is None:
            memory = ops.expand_dims(summary, 1)
            return memory, memory, ops.ones_like(memory[:, :, 0], dtype="bool")
        return memory, self.attention_layer.keys(memory), memory_mask

    def step(self, token_ids, states, memory, keys, memory_mask, training=None):
        """One step: token ids [batch] -> (probabilities [batch, vocab], new states, weights
        [batch, source])."""
        features, states, weights = self._step(self.embedding(token_ids), states, memory, keys,
                                               memory_mask, training)
        return self.output_dense(features), states, weights

    def _step(self, embedded, states, memory, keys, memory_mask, training=None):
        cell_states = states[: self.state_count]
        if self.attention_layer is None:
            context, weights = memory[:, 0], ops.ones_like(memory[:, :, 0])  # C, and a map of ones
            feed = context
        elif self.input_feeding:
            feed = states[-1]
        else:  # bahdanau: attend with g_{i-1}
            context, weights = self.attention_layer(cell_states[0], keys, memory, memory_mask)
            feed = context
        output, cell_states = self.rnn_cell(ops.concatenate([embedded, feed], axis=-1), cell_states,
                                            training=training)
        cell_states = list(cell_states) if isinstance(cell_states, (list, tuple)) else [cell_states]
        if self.input_feeding:
            context, weights = self.attention_layer(output, keys, memory, memory_mask)
        features = self.attentional(ops.concatenate([context, output], axis=-1))
        return features, cell_states + ([features] if self.input_feeding else []), weights

    def call(self, target_ids, memory, memory_mask, summary, training=None):
        initial_states = self.initial_states(summary)
        memory, keys, memory_mask = self.attend_to(memory, memory_mask, summary)

        # keras.ops.scan on TensorFlow stacks outputs shaped like the carry, so the carry
        # holds the step's features too: [*states, features].
        def body(carry, embedded):
            features, states, _ = self._step(embedded, carry[:-1], memory, keys, memory_mask, training)
            return [*states, features], [*states, features]

        embedded = ops.transpose(self.embedding(target_ids), (1, 0, 2))  # time first, for scan
        features = ops.zeros_like(initial_states[0][:, :1]) + ops.zeros((1, self.units))
        _, stacked = ops.scan(body, [*initial_states, features], embedded)
        return self.output_dense(ops.transpose(stacked[-1], (1, 0, 2)))

    def compute_mask(self, target_ids, *args, **kwargs):
        return ops.not_equal(target_ids, 0)  # padding stays out of the loss and the metrics

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(vocab_size=self.vocab_size, embedding_dim=self.embedding_dim, cell=self.cell,
                      units=self.units, attention=self.attention, attention_units=self.attention_units,
                      heads=self.heads, dropout=self.dropout)
        return config
