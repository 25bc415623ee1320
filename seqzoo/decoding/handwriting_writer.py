"""Writing with a handwriting network (Graves 2013): each point sampled from the mixture the
network gives and fed back, in a graph loop; a synthesis network stops once its window has passed
the text's last character."""

from __future__ import annotations

import keras
import tensorflow as tf

from seqzoo.data.handwriting import START
from seqzoo.layers.graves_rnn import POINT_SIZE
from seqzoo.layers.mixture_density import sample_mixture


class HandwritingWriter:
    """Steps a trained `handwriting_prediction` / `handwriting_synthesis` model one point at a time.

    The layers are found in the model: `rnn` (a `GravesRNN`) and `mixture` (a `MixtureDensity`).
    Points are in the network's units (offsets divided by the card's `offset_scale`).

    Example:
    ```python
    writer = HandwritingWriter(model)
    points, lengths, window = writer.write(char_ids, bias=1.0, seed=3, max_points=1500)
    ```
    """

    def __init__(self, model: keras.Model):
        self.rnn = model.get_layer("rnn")
        self.head = model.get_layer("mixture")
        self.synthesis = self.rnn.window is not None

    def _primed(self, start, states, prime, one_hot):
        """(prime's last point, the states after reading `start` and the points before it)."""
        inputs = tf.concat([start[:, None], tf.cast(prime[:, :-1], tf.float32)], axis=1)

        def read(i, states):
            return i + 1, self.rnn.step(inputs[:, i], states, one_hot)[1]

        _, states = tf.while_loop(lambda i, _: i < tf.shape(inputs)[1], read, (tf.constant(0), states))
        return tf.cast(prime[:, -1], tf.float32), states

    def state_specs(self) -> list[tuple[str, list[int], tf.DType]]:
        return [(name, [size], tf.float32) for name, size in self.rnn.state_specs()]

    def step(self, point, states: list, chars=None):
        """point [batch, 3] + states (+ character ids [batch, chars]) -> (mixture [batch, 1 + 6M],
        new states, phi [batch, chars + 1] or None)."""
        text = self.rnn.one_hot(chars) if self.synthesis else None
        features, states, phi = self.rnn.step(point, list(states), text)
        return self.head(features), states, phi

    def write(self, chars, bias, seed, max_points, greedy: bool = False, batch=None, trim: bool = True,
              uniform=None, prime=None):
        """Points [batch, n, 3] (n <= max_points), how many each row wrote [batch], and the window's
        weights on the characters at each point [batch, n, chars] (synthesis; else [batch, n, 0]).
        n is the most any row wrote; with `trim=False` it is max_points (zeros after each row's end):
        fixed shapes, which XLA compiles (`tf.function(..., jit_compile=True)`: several times faster
        on a CPU; its random numbers differ, so the same seed writes otherwise than the plain graph).

        Synthesis: character ids [batch, chars] (0 = padding at the end); a row stops after the point
        at which the window's weight one past its last character exceeds its weight on every
        character (Graves' criterion), its last point's pen lifted; an empty text writes nothing.
        Prediction: `chars` None, `batch` rows, each writes max_points points.

        The randomness: drawn from `seed`, or given as `uniform` [max_points, batch, 4] (numbers in
        [0, 1), `sample_mixture`'s), as the `.tflite` `write` takes it.

        Priming (Graves section 5.5, synthesis): `prime` [batch, p >= 1, 3], a writer's points (the
        network's units) of a text that `chars` begins with (then a space and the text to write). The
        network reads them first, and writes on from the state and window they leave, in that hand;
        only the new points are returned."""
        # The buffers' rows are as static as the inputs' (a fixed batch and width convert to LiteRT).
        rows, columns = (chars.shape[0], chars.shape[1]) if self.synthesis else (batch, 0)
        if self.synthesis:
            batch, width = tf.shape(chars)[0], tf.shape(chars)[1]
            lengths = tf.reduce_sum(tf.cast(chars > 0, tf.int32), axis=1)
            one_hot = self.rnn.one_hot(chars)
            done = tf.equal(lengths, 0)
        else:
            width, lengths, one_hot = 0, None, None
            done = tf.zeros([batch], tf.bool)
        seed = tf.cast(0 if seed is None else seed, tf.int32)
        point = tf.tile(tf.constant(START[None]), [batch, 1])
        states = self.rnn.initial_states(batch)
        if prime is not None:
            point, states = self._primed(point, states, prime, one_hot)

        def body(i, point, states, done, written, points, windows):
            features, states, phi = self.rnn.step(point, states, one_hot)
            point = sample_mixture(self.head(features), bias, tf.stack([seed, i]), greedy,
                                   None if uniform is None else uniform[i])
            if self.synthesis:
                columns = tf.range(width + 1)[None]
                on_text = tf.where(columns < lengths[:, None], phi, -1.0)
                past = tf.gather(phi, lengths, batch_dims=1) > tf.reduce_max(on_text, axis=1)
                window = phi[:, :width]
            else:
                past, window = tf.zeros_like(done), tf.zeros([batch, 0])
            ending = tf.logical_and(past, tf.logical_not(done))
            point = tf.where(ending[:, None], tf.concat([point[:, :2], tf.ones([batch, 1])], axis=1), point)
            live = tf.cast(tf.logical_not(done), tf.float32)
            points = points.write(i, point * live[:, None])
            windows = windows.write(i, window * live[:, None])
            written += tf.cast(tf.logical_not(done), tf.int32)
            return i + 1, point, states, tf.logical_or(done, past), written, points, windows

        _, _, _, _, written, points, windows = tf.while_loop(
            lambda i, point, states, done, *_: tf.logical_and(
                i < max_points, tf.logical_not(tf.reduce_all(done))
            ),
            body,
            (
                tf.constant(0),
                point,
                states,
                done,
                tf.zeros([batch], tf.int32),
                tf.TensorArray(tf.float32, size=max_points, element_shape=[rows, POINT_SIZE]),
                tf.TensorArray(tf.float32, size=max_points, element_shape=[rows, columns]),
            ),
        )
        steps = tf.reduce_max(tf.concat([written, [0]], axis=0))

        def stacked(array, size):
            if array.element_shape.is_fully_defined():  # unwritten rows stack as zeros
                return tf.transpose(array.stack(), [1, 0, 2])
            return tf.cond(steps > 0, lambda: tf.transpose(array.stack(), [1, 0, 2]),  # else they cannot
                           lambda: tf.zeros([batch, max_points, size]))

        points, windows = stacked(points, POINT_SIZE), stacked(windows, width)
        if not trim:
            return points, written, windows
        return points[:, :steps], written, windows[:, :steps]
