"""A recurrent layer whose recurrence reaches d steps back (a dilated RNN layer)."""

from __future__ import annotations

import keras
from keras import ops

from seqzoo.layers.rnn_stack import CELLS


@keras.saving.register_keras_serializable(package="seqzoo")
class DilatedRNN(keras.layers.Layer):
    """h_t = cell(x_t, h_{t-d}): the skip connection across time of Chang et al. (2017).

    Time is folded into d interleaved sub-sequences (steps k, k+d, k+2d, ...),
    an ordinary LSTM/GRU runs over each, and the outputs are unfolded again, so
    every step's state comes from d steps back. d = 1 is an ordinary layer.

    Padding needs no mask inside: right padding stays at the end of each
    sub-sequence and the recurrence only looks back, so no real step's output
    sees a padded one. The mask is passed on for pooling and the loss. (A masked
    inner RNN also converts to a TFLite loop that, run over an all-padding step,
    reads stale memory: its output changed from one invoke to the next.)

    Args:
        cell: str. `lstm`, `gru` or `simple_rnn`.
        units: int. Output size.
        dilation: int. How many steps back the recurrence reaches.
        dropout: float. Dropout on the inputs while training.

    Example:
    ```python
    y = DilatedRNN("lstm", 64, dilation=4)(x)  # [batch, time, 64]
    ```
    """

    def __init__(self, cell: str, units: int, dilation: int, dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        # === Config ===
        self.cell = cell
        self.units = units
        self.dilation = dilation
        self.dropout = dropout
        # === Layers ===
        self.rnn = CELLS[cell](units, dropout=dropout, return_sequences=True, name="rnn")

    def build(self, input_shape):
        self.rnn.build((None, None, input_shape[-1]))

    def call(self, x, mask=None, training=None):
        d = self.dilation
        batch, length = ops.shape(x)[0], ops.shape(x)[1]
        padded = (length + d - 1) // d * d
        x = ops.pad(x, [[0, 0], [0, padded - length], [0, 0]])
        # [batch, steps * d, f] -> [batch * d, steps, f]: sub-sequence k holds steps k, k+d, ...
        folded = ops.reshape(ops.transpose(ops.reshape(x, (batch, -1, d, x.shape[-1])), (0, 2, 1, 3)),
                             (batch * d, -1, x.shape[-1]))
        y = self.rnn(folded, training=training)
        y = ops.reshape(ops.transpose(ops.reshape(y, (batch, d, -1, self.units)), (0, 2, 1, 3)),
                        (batch, -1, self.units))
        return y[:, :length]

    def compute_mask(self, x, mask=None):
        return mask

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(cell=self.cell, units=self.units, dilation=self.dilation, dropout=self.dropout)
        return config
