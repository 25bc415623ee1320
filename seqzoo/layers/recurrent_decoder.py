"""The decoder of seq2seq: one recurrent step, written once, for teacher forcing and for search."""

from __future__ import annotations

import keras
from keras import ops

from seqzoo.errors import UserError, check_choice
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

    Captioning bends it in three ways (Vinyals et al. 2014; Xu et al. 2015):
    - `summary_first`: (no attention) C is the first input x_{-1} = W_e C of a cell
      started from zeros, and is not fed again; the output is softmax(W_o tanh(W_c g_i)).
    - `gate`: the context is scaled by beta_i = sigmoid(w_b . q), q the attending state.
    - `attention_penalty` lambda: adds lambda * mean over the batch of
      sum_j (1 - sum_i alpha_ij)^2 (the doubly stochastic regulariser) to the loss.

    Args:
        vocab_size: int. Target token ids, padding and OOV included.
        embedding_dim: int. Size of the target embedding.
        cell: str. `lstm`, `gru` or `simple_rnn`.
        units: int. Size of the decoder state.
        attention: str or None. None, `bahdanau`, `luong_dot`, `luong_general`, `multihead`.
        attention_units: int. Hidden size of the additive score / of the multi-head projections.
        heads: int. Heads of `multihead`.
        dropout: float. Dropout on the cell's inputs while training.
        summary_first: bool. Feed C once, as the first input (needs attention None).
        gate: bool. Scale the context by a learned gate beta (needs attention).
        attention_penalty: float. lambda of the doubly stochastic regulariser (needs attention).

    Example:
    ```python
    decoder = RecurrentDecoder(40, 32, "lstm", 64, attention="bahdanau", attention_units=64)
    probabilities = decoder(target_ids, memory, memory_mask, summary)  # [batch, time, 40]
    ```
    """

    def __init__(self, vocab_size: int, embedding_dim: int, cell: str, units: int,
                 attention: str | None = "bahdanau", attention_units: int = 64, heads: int = 4,
                 dropout: float = 0.0, summary_first: bool = False, gate: bool = False,
                 attention_penalty: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        check_choice("decoder cell", cell, CELL_CLASSES)
        if attention is not None:
            check_choice("attention", attention, ATTENTIONS)
        if summary_first and attention is not None:
            raise UserError(f"summary_first feeds the context once, without attention; "
                            f"got attention={attention!r}")
        if (gate or attention_penalty) and attention is None:
            raise UserError("gate and attention_penalty act on attention weights: set attention")
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
        self.summary_first = summary_first
        self.gate = gate
        self.attention_penalty = attention_penalty
        # === Layers ===
        self.embedding = keras.layers.Embedding(vocab_size, embedding_dim, name="target_embedding")
        self.rnn_cell = CELL_CLASSES[cell](units, dropout=dropout, name=f"{cell}_cell")
        self.state_count = 2 if cell == "lstm" else 1
        self.bridges = [keras.layers.Dense(units, activation="tanh", name=f"bridge_{i}")
                        for i in range(0 if summary_first else self.state_count)]
        self.attention_layer = None
        if attention is not None:
            size = units if attention == "luong_general" else attention_units
            self.attention_layer = Attention(attention, size, heads, name="attention")
        self.first_input = keras.layers.Dense(embedding_dim, name="first_input") if summary_first else None
        self.gate_dense = keras.layers.Dense(1, activation="sigmoid", name="gate") if gate else None
        self.attentional = keras.layers.Dense(units, activation="tanh", name="attentional")
        self.output_dense = keras.layers.Dense(
            vocab_size, activation="softmax", name="probabilities", dtype="float32")

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
        if self.summary_first:
            self.first_input.build(summary_shape)
            feed_size = context_size = 0
        if self.gate:
            self.gate_dense.build((None, self.units))
        self.rnn_cell.build((None, self.embedding_dim + feed_size))
        self.attentional.build((None, context_size + self.units))
        self.output_dense.build((None, None, self.units))

    @property
    def input_feeding(self) -> bool:
        return self.attention in INPUT_FEEDING

    def initial_states(self, summary) -> list:
        """The decoder's first states from the encoder summary C [batch, units']."""
        if self.summary_first:  # one step of the cell from zeros, C its input
            zeros = ops.zeros_like(summary[:, :1]) + ops.zeros((1, self.units), self.compute_dtype)
            zeros = [zeros] * self.state_count
            _, states = self.rnn_cell(self.first_input(summary), zeros)
            return list(states) if isinstance(states, (list, tuple)) else [states]
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
            context, weights = self._attend(cell_states[0], keys, memory, memory_mask)
            feed = context
        inputs = embedded if self.summary_first else ops.concatenate([embedded, feed], axis=-1)
        output, cell_states = self.rnn_cell(inputs, cell_states, training=training)
        cell_states = list(cell_states) if isinstance(cell_states, (list, tuple)) else [cell_states]
        if self.input_feeding:
            context, weights = self._attend(output, keys, memory, memory_mask)
        if not self.summary_first:
            output = ops.concatenate([context, output], axis=-1)
        features = self.attentional(output)
        return features, cell_states + ([features] if self.input_feeding else []), weights

    def _attend(self, query, keys, memory, memory_mask):
        context, weights = self.attention_layer(query, keys, memory, memory_mask)
        if self.gate:
            context = context * self.gate_dense(query)
        return context, weights

    def call(self, target_ids, memory, memory_mask, summary, training=None):
        initial_states = self.initial_states(summary)
        memory, keys, memory_mask = self.attend_to(memory, memory_mask, summary)

        # keras.ops.scan on TensorFlow stacks outputs shaped like the carry, so the carry
        # holds the step's features and the attention summed over the steps so far:
        # [*states, features, coverage].
        # Each step's input is its embedded token and whether it is one (1) or padding (0).
        def body(carry, inputs):
            embedded, real = inputs[:, :-1], inputs[:, -1:]
            features, states, weights = self._step(embedded, carry[:-2], memory, keys, memory_mask, training)
            carry = [*states, features, carry[-1] + weights * real]
            return carry, carry

        real = ops.cast(ops.not_equal(target_ids, 0), self.compute_dtype)  # float16 in mixed precision
        inputs = ops.concatenate([self.embedding(target_ids), real[:, :, None]], axis=-1)
        features = ops.zeros_like(initial_states[0][:, :1]) + ops.zeros((1, self.units), self.compute_dtype)
        coverage = ops.cast(ops.zeros_like(memory_mask), self.compute_dtype)
        _, stacked = ops.scan(body, [*initial_states, features, coverage], ops.transpose(inputs, (1, 0, 2)))
        if self.attention_penalty:
            coverage = stacked[-1][-1]  # sum over the steps of each region's weight
            self.add_loss(self.attention_penalty * ops.mean(ops.sum((1.0 - coverage) ** 2, axis=-1)))
        return self.output_dense(ops.transpose(stacked[-2], (1, 0, 2)))

    def compute_mask(self, target_ids, *args, **kwargs):
        return ops.not_equal(target_ids, 0)  # padding stays out of the loss and the metrics

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(vocab_size=self.vocab_size, embedding_dim=self.embedding_dim, cell=self.cell,
                      units=self.units, attention=self.attention, attention_units=self.attention_units,
                      heads=self.heads, dropout=self.dropout, summary_first=self.summary_first,
                      gate=self.gate, attention_penalty=self.attention_penalty)
        return config
