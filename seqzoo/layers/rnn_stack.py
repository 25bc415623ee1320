"""A stack of recurrent layers (LSTM, GRU or simple RNN), optionally bidirectional."""

from __future__ import annotations

import keras

from seqzoo.errors import UserError, check_choice

CELLS = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU, "simple_rnn": keras.layers.SimpleRNN}
MERGE_MODES = ("concat", "sum", "ave", "mul")


def rnn_stack(
    x,
    *,
    cell: str,
    units: int,
    layers: int,
    dropout: float = 0.0,
    bidirectional: bool = False,
    merge_mode: str = "concat",
    residual: bool = False,
    return_sequences: bool = True,
):
    """Runs `layers` recurrent layers over x [batch, time, features], respecting its mask.

    Args:
        x: float tensor. The embedded sequence (its Keras mask marks padding).
        cell: str. `lstm`, `gru` or `simple_rnn`.
        units: int. Units per layer (per direction when bidirectional).
        layers: int. How many layers are stacked.
        dropout: float. Dropout on each layer's inputs while training.
        bidirectional: bool. Wrap each layer in `keras.layers.Bidirectional`.
        merge_mode: str. How the two directions combine: `concat`, `sum`, `ave`, `mul`.
        residual: bool. Add each layer's input to its output, from the second layer
            on (where the sizes match): `residual_1`, `residual_2`, ... layers.
        return_sequences: bool. Return every step of the last layer, else its final output.

    Returns:
        [batch, time, units'] if return_sequences else [batch, units'], where
        units' is `units`, doubled when bidirectional and concatenated.
    """
    rnn_class = CELLS[check_choice("cell", cell, CELLS)]
    check_choice("merge_mode", merge_mode, MERGE_MODES)
    if layers < 1:
        raise UserError(f"rnn layers must be at least 1, got {layers}")
    for index in range(layers):
        last = index == layers - 1
        layer = rnn_class(
            units, dropout=dropout, return_sequences=return_sequences or not last,
            name=f"{cell}_{index}",
        )
        if bidirectional:
            layer = keras.layers.Bidirectional(layer, merge_mode=merge_mode,
                                               name=f"bidirectional_{cell}_{index}")
        output = layer(x)
        if residual and index > 0 and (return_sequences or not last):
            output = keras.layers.Add(name=f"residual_{index}")([output, x])
        x = output
    return x
