"""Handwriting (Graves 2013): pen points in, a mixture density over the next point out.

`handwriting_prediction` writes freely, point by point (section 4); `handwriting_synthesis` writes
a given text, reading it through a soft window (section 5)."""

from __future__ import annotations

import keras

from seqzoo.layers.graves_rnn import POINT_SIZE, GravesRNN
from seqzoo.layers.mixture_density import MixtureDensity
from seqzoo.registry import register


@register("handwriting_prediction", task="handwriting_prediction")
def handwriting_prediction(*, rnn: dict, mixture: dict) -> keras.Model:
    """Points [batch, time, 3] (dx, dy, end of stroke; normalised) -> stacked LSTMs with skip
    connections -> mixture parameters [batch, time, 1 + 6M] of each next point.

    Example:
    ```python
    model = seqzoo.build("handwriting_prediction", units=128, layers=3, components=20)
    ```
    """
    points = keras.Input(shape=(None, POINT_SIZE), name="points")
    features = GravesRNN(rnn["units"], rnn["layers"], name="rnn")(points)
    return keras.Model(points, MixtureDensity(mixture["components"], name="mixture")(features),
                       name="handwriting_prediction")


@register("handwriting_synthesis", task="handwriting_synthesis")
def handwriting_synthesis(*, rnn: dict, mixture: dict, window: dict, alphabet_size: int) -> keras.Model:
    """Points [batch, time, 3] and the text's character ids [batch, chars] (0 = padding) -> the same
    network with Graves' soft window over the characters after its first layer -> mixture
    parameters [batch, time, 1 + 6M] of each next point.

    Example:
    ```python
    model = seqzoo.build("handwriting_synthesis", alphabet_size=28, units=128, components=20)
    ```
    """
    points = keras.Input(shape=(None, POINT_SIZE), name="points")
    chars = keras.Input(shape=(None,), dtype="int32", name="chars")
    features = GravesRNN(rnn["units"], rnn["layers"], window["components"], alphabet_size,
                         window["kappa_step"], name="rnn")([points, chars])
    return keras.Model([points, chars], MixtureDensity(mixture["components"], name="mixture")(features),
                       name="handwriting_synthesis")
