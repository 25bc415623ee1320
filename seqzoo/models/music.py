"""Polyphonic music: `tcn_music`, `lstm_music`, `gru_music` and `rnn_music` read piano-roll frames
(88 binary notes) and give, at every step, 88 independent note probabilities for the next frame."""

from __future__ import annotations

import keras

from seqzoo.data.music import PITCHES
from seqzoo.decoding import RNNGenerator, TCNGenerator
from seqzoo.errors import UserError
from seqzoo.layers import TCN, rnn_stack, sequence_input
from seqzoo.registry import register


def _next_frame(inputs, x, name: str) -> keras.Model:
    logits = keras.layers.Dense(PITCHES, name="logits")(x)
    probabilities = keras.layers.Activation("sigmoid", name="probabilities", dtype="float32")(logits)
    return keras.Model(inputs, probabilities, name=name)


@register("tcn_music", task="music", generator=TCNGenerator)
def tcn_music(*, tcn: dict) -> keras.Model:
    """Frames -> causal TCN -> a sigmoid per pitch at every step: P(note on in the next frame).

    Generation streams the TCN (`TCN.step`, a cache per convolution), as `tcn_lm` does.

    Example:
    ```python
    model = seqzoo.build("tcn_music")           # kernel 3, dilations [1, 2], 150 filters
    model(frames)  # [batch, time, 88] -> [batch, time, 88]
    ```
    """
    if tcn.get("padding", "causal") != "causal":
        raise UserError("a music model's TCN must be causal (padding: causal)")
    inputs, x = sequence_input(PITCHES)
    return _next_frame(inputs, TCN(**tcn, return_sequences=True, name="tcn")(x), "tcn_music")


def recurrent_music(*, rnn: dict, name: str) -> keras.Model:
    """Frames -> RNN stack (every step) -> a sigmoid per pitch; generation carries the cells' states."""
    inputs, x = sequence_input(PITCHES)
    return _next_frame(inputs, rnn_stack(x, **rnn, return_sequences=True), name)


@register("lstm_music", task="music", generator=RNNGenerator)
def lstm_music(**config) -> keras.Model:
    """The LSTM next-frame model (see `recurrent_music`)."""
    return recurrent_music(**config, name="lstm_music")


@register("gru_music", task="music", generator=RNNGenerator)
def gru_music(**config) -> keras.Model:
    """The GRU next-frame model (see `recurrent_music`)."""
    return recurrent_music(**config, name="gru_music")


@register("rnn_music", task="music", generator=RNNGenerator)
def rnn_music(**config) -> keras.Model:
    """The simple-RNN next-frame model (see `recurrent_music`)."""
    return recurrent_music(**config, name="rnn_music")
