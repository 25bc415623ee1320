"""deep_rnn: a dilated layer's recurrence reaches exactly d steps back; residual stacks."""

import keras
import numpy as np
import pytest

import seqzoo
from seqzoo.layers.dilated_rnn import DilatedRNN


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_a_change_at_step_t_reaches_only_steps_t_plus_multiples_of_d(cell):
    layer = DilatedRNN(cell, 4, dilation=3)
    x = np.random.default_rng(0).normal(size=(1, 10, 5)).astype("float32")
    changed = x.copy()
    changed[0, 2] += 1.0
    diff = np.abs(keras.ops.convert_to_numpy(layer(changed) - layer(x)))[0].max(axis=-1)
    assert [t for t in range(10) if diff[t] > 1e-7] == [2, 5, 8]


def test_dilation_1_is_an_ordinary_recurrent_layer():
    layer = DilatedRNN("lstm", 4, dilation=1)
    x = np.random.default_rng(1).normal(size=(2, 6, 3)).astype("float32")
    plain = keras.layers.LSTM(4, return_sequences=True)
    plain.build((None, None, 3))
    layer.build((None, None, 3))
    plain.set_weights(layer.rnn.get_weights())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x)),
                               keras.ops.convert_to_numpy(plain(x)), atol=1e-6)


def test_the_issue_example_stacks_exponential_dilations_with_residuals():
    model = seqzoo.build("deep_rnn", layers=4, residual=True, skip_every=2)
    dilations = [model.get_layer(f"dilated_lstm_{i}").dilation for i in range(4)]
    assert dilations == [1, 2, 4, 8]
    assert [layer.name for layer in model.layers if layer.name.startswith("residual")] == [
        "residual_1", "residual_2", "residual_3"]


def test_padding_does_not_change_the_prediction():
    model = seqzoo.build("deep_rnn", preset="tiny", layers=3, skip_every=2)
    a = keras.ops.convert_to_numpy(model(np.array([[5, 6, 7, 8, 9]], "int32")))
    b = keras.ops.convert_to_numpy(model(np.array([[5, 6, 7, 8, 9, 0, 0, 0]], "int32")))
    np.testing.assert_allclose(a, b, atol=1e-6)
