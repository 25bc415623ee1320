"""The encoder of seq2seq: a recurrent stack that returns every state and a summary of the text."""

from __future__ import annotations

import keras
from keras import ops

from seqzoo.errors import UserError, check_choice
from seqzoo.layers.rnn_stack import CELLS


@keras.saving.register_keras_serializable(package="seqzoo")
class RecurrentEncoder(keras.layers.Layer):
    """Embedded source [batch, source, dim] -> (memory [batch, source, units], summary [batch, units]).

    `memory` holds the top layer's state z_j at every step (what attention reads);
    `summary` is its final state (the context vector C of the plain encoder-decoder),
    both directions concatenated when bidirectional: each direction then has units / 2,
    so the memory is `units` wide either way. Padding is masked.

    Args:
        cell: str. `lstm`, `gru` or `simple_rnn`.
        units: int. Size of the memory and the summary (even when bidirectional).
        layers: int. Stacked recurrent layers.
        bidirectional: bool. Read the source both ways.
        dropout: float. Dropout on each layer's inputs while training.

    Example:
    ```python
    memory, summary = RecurrentEncoder("lstm", 64, layers=1, bidirectional=True)(embedded)
    ```
    """

    def __init__(self, cell: str, units: int, layers: int = 1, bidirectional: bool = False,
                 dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        check_choice("encoder cell", cell, CELLS)
        if layers < 1:
            raise UserError(f"encoder layers must be at least 1, got {layers}")
        if bidirectional and units % 2:
            raise UserError(f"a bidirectional encoder splits units between two directions: "
                            f"units must be even, got {units}")
        self.supports_masking = True
        # === Config ===
        self.cell = cell
        self.units = units
        self.layers = layers
        self.bidirectional = bidirectional
        self.dropout = dropout
        # === Layers ===
        size = units // 2 if bidirectional else units
        self.rnns = []
        for index in range(layers):
            last = index == layers - 1
            rnn = CELLS[cell](size, dropout=dropout, return_sequences=True, return_state=last,
                              name=f"{cell}_{index}")
            if bidirectional:
                rnn = keras.layers.Bidirectional(rnn, name=f"bidirectional_{cell}_{index}")
            self.rnns.append(rnn)

    def build(self, x_shape):
        for rnn in self.rnns:
            rnn.build(x_shape)
            x_shape = (*x_shape[:-1], self.units)

    def call(self, x, mask=None, training=None):
        for rnn in self.rnns[:-1]:
            x = rnn(x, mask=mask, training=training)
        memory, *states = self.rnns[-1](x, mask=mask, training=training)
        # The final hidden state of each direction (an LSTM also returns its cell state).
        per_direction = len(states) // (2 if self.bidirectional else 1)
        summary = ops.concatenate(states[::per_direction], axis=-1) if self.bidirectional else states[0]
        return memory, summary

    def compute_mask(self, x, mask=None):
        return None

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(cell=self.cell, units=self.units, layers=self.layers,
                      bidirectional=self.bidirectional, dropout=self.dropout)
        return config
