"""Graves' (2013) handwriting networks' recurrent part: stacked LSTM cells with skip connections
from the input to every layer and from every layer to the output (his figure 1), and, for
synthesis, the soft window over the text's characters after the first layer (section 5):

    (alpha, beta, kappa_hat) = exp(W h1_t + b)           K Gaussians each
    kappa_t = kappa_{t-1} + kappa_hat                     the window only moves forwards
    phi(t, u) = sum_k alpha_k exp(-beta_k (kappa_k - u)^2)
    w_t = sum_u phi(t, u) c_u                             c_u: character u, one-hot

The first layer reads the point and the last window; the others the point, the layer below and
the window. One step function serves training (scanned over the points) and generation (called
once per point, its states fed back), so both compute the same thing.
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf
from keras import ops

WINDOW_LOG_LIMIT = 10.0  # the window's exp() arguments are clipped here: no overflow
POINT_SIZE = 3  # dx, dy, end of stroke


@keras.saving.register_keras_serializable(package="seqzoo")
class GravesRNN(keras.layers.Layer):
    """Points [batch, time, 3] (and, with a window, character ids [batch, chars], 0 = padding) ->
    every layer's output at every point, concatenated [batch, time, layers * units].

    Args:
        units: int. Cells per LSTM layer.
        layers: int. LSTM layers.
        window_components: int. K, the window's Gaussians; 0: no window (the prediction network).
        alphabet_size: int. Character ids 1..alphabet_size - 1 (0 is padding); with a window only.
        kappa_step: float. The window's initial step per point, in characters (its bias starts at
            its log): about the characters per point of the data.

    Example:
    ```python
    rnn = GravesRNN(units=64, layers=3, window_components=10, alphabet_size=28)
    features = rnn([points, char_ids])  # [batch, time, 192]
    ```
    """

    def __init__(self, units: int, layers: int, window_components: int = 0, alphabet_size: int = 0,
                 kappa_step: float = 0.05, **kwargs):
        super().__init__(**kwargs)
        self.units, self.layers, self.window_components = units, layers, window_components
        self.alphabet_size, self.kappa_step = alphabet_size, kappa_step
        self.cells = [keras.layers.LSTMCell(units, name=f"lstm_{i}") for i in range(layers)]
        self.window = None
        if window_components:
            bias = [0.0] * (2 * window_components) + [math.log(kappa_step)] * window_components
            self.window = keras.layers.Dense(3 * window_components, name="window",
                                             bias_initializer=keras.initializers.Constant(bias))

    @property
    def characters(self) -> int:
        """The one-hot width of a character: the alphabet without padding (0 with no window)."""
        return max(self.alphabet_size - 1, 0) if self.window_components else 0

    def build(self, input_shape):
        for i, cell in enumerate(self.cells):
            cell.build((None, POINT_SIZE + self.characters + (self.units if i else 0)))
        if self.window is not None:
            self.window.build((None, self.units))

    def state_specs(self) -> list[tuple[str, int]]:
        """(name, size) of each state: h<i>, c<i> per layer, then kappa and window (with a window)."""
        specs = [(f"{kind}{i}", self.units) for i in range(self.layers) for kind in ("h", "c")]
        if self.window is not None:
            specs += [("kappa", self.window_components), ("window", self.characters)]
        return specs

    def initial_states(self, batch) -> list:
        return [ops.zeros((batch, size)) for _, size in self.state_specs()]

    def one_hot(self, char_ids):
        """Character ids [batch, chars] -> [batch, chars, characters]; padding (0) is all zeros."""
        return ops.one_hot(ops.cast(char_ids, "int32") - 1, self.characters)

    def step(self, point, states: list, text=None):
        """One point [batch, 3] + states (as `state_specs` lists them) + the text as `one_hot` gives
        it -> (every layer's output [batch, layers * units], new states, phi [batch, chars + 1]: the
        window's weight on each character and on the place one past the last, or None)."""
        point = ops.cast(point, "float32")
        window = states[-1] if self.window is not None else None
        x, new_states, outputs, phi = point, [], [], None
        for i, cell in enumerate(self.cells):
            inputs = ops.concatenate([point] + ([x] if i else []) + ([window] if window is not None else []),
                                     axis=-1)
            x, (h, c) = cell(inputs, [states[2 * i], states[2 * i + 1]])
            new_states += [h, c]
            outputs.append(x)
            if i == 0 and self.window is not None:
                window, kappa, phi = self._window(x, states[-2], text)
        if self.window is not None:
            new_states += [kappa, window]
        return ops.concatenate(outputs, axis=-1), new_states, phi

    def _window(self, h, kappa, text):
        """The soft window read from the first layer's output h: (w_t, kappa_t, phi)."""
        alpha, beta, kappa_hat = ops.split(
            ops.exp(ops.clip(self.window(h), -WINDOW_LOG_LIMIT, WINDOW_LOG_LIMIT)), 3, axis=-1)
        kappa = kappa + kappa_hat
        chars = ops.shape(text)[1]
        u = ops.cast(ops.arange(chars + 1), "float32")  # the characters, then one past the last
        phi = ops.sum(alpha[:, :, None] * ops.exp(-beta[:, :, None] * ops.square(kappa[:, :, None] - u)),
                      axis=1)
        window = ops.einsum("bu,buc->bc", phi[:, :chars], text)
        return window, kappa, phi

    def call(self, inputs, return_window: bool = False):
        """Every layer's output at every point [batch, time, layers * units]; with `return_window`,
        also the window's phi at every point [batch, time, chars + 1]."""
        points, text = (inputs if self.window is not None else (inputs, None))
        one_hot = self.one_hot(text) if self.window is not None else None
        batch = tf.shape(points)[0]
        chars = tf.shape(text)[1] if text is not None else 0

        def body(carried, point):
            outputs, states, phi = self.step(point, carried[2], one_hot)
            return outputs, phi if phi is not None else carried[1], states

        # tf.scan, not keras.ops.scan: Keras' TensorFlow scan needs each step's output shaped as its carry.
        start = (tf.zeros([batch, self.layers * self.units]), tf.zeros([batch, chars + 1]),
                 self.initial_states(batch))
        outputs, phi, _ = tf.scan(body, tf.transpose(tf.cast(points, "float32"), (1, 0, 2)), start)
        outputs, phi = tf.transpose(outputs, (1, 0, 2)), tf.transpose(phi, (1, 0, 2))
        return (outputs, phi) if return_window else outputs

    def compute_output_shape(self, input_shape):
        points = input_shape[0] if self.window is not None else input_shape
        return (points[0], points[1], self.layers * self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "layers": self.layers,
                "window_components": self.window_components, "alphabet_size": self.alphabet_size,
                "kappa_step": self.kappa_step}
