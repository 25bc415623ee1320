"""The sentiment entry: its options, and outputs that ignore padding."""

import keras
import numpy as np
import pytest

import seqzoo


@pytest.mark.parametrize("pooling", ["last", "mean", "max"])
@pytest.mark.parametrize("cell", ["lstm", "gru", "simple_rnn"])
def test_padding_does_not_change_the_prediction(cell, pooling):
    model = seqzoo.build("sentiment", preset="tiny", cell=cell, pooling=pooling, bidirectional=True)
    unpadded = keras.ops.convert_to_numpy(model(np.array([[5, 6, 7]], "int32")))
    padded = keras.ops.convert_to_numpy(model(np.array([[5, 6, 7, 0, 0, 0]], "int32")))
    np.testing.assert_allclose(padded, unpadded, atol=1e-6)


def test_stacked_bidirectional_layers_double_the_units():
    model = seqzoo.build("sentiment", preset="tiny", layers=2, bidirectional=True, units=5)
    assert [layer.name for layer in model.layers if "bidirectional" in layer.name] == [
        "bidirectional_lstm_0", "bidirectional_lstm_1",
    ]
    assert model.get_layer("bidirectional_lstm_1").output.shape == (None, 10)


def test_multiclass_head():
    model = seqzoo.build("sentiment", preset="tiny", num_classes=5)
    assert model(np.array([[2, 3]], "int32")).shape == (1, 5)


@pytest.mark.parametrize("overrides, message", [
    ({"pooling": "avg"}, "unknown pooling 'avg'; valid: last, max, mean"),
    ({"num_classes": 1}, "config key 'model.num_classes' must be at least 2, got 1"),
    ({"layers": 0}, "config key 'model.rnn.layers' must be at least 1, got 0"),
])
def test_bad_model_options_are_named(overrides, message):
    with pytest.raises(ValueError) as err:
        seqzoo.build("sentiment", preset="tiny", **overrides)
    assert str(err.value) == message


@pytest.mark.parametrize("merge_mode, width", [("concat", 10), ("sum", 5), ("ave", 5), ("mul", 5)])
def test_bilstm_merge_modes(merge_mode, width):
    model = seqzoo.build("bilstm", preset="tiny", units=5, merge_mode=merge_mode, pooling="last")
    assert model.get_layer("bidirectional_lstm_0").output.shape == (None, width)
    assert model.name == "bilstm"


def test_an_unknown_merge_mode_names_the_closest():
    with pytest.raises(ValueError, match=r"unknown merge_mode 'concatenate'; did you mean 'concat'\?"):
        seqzoo.build("bilstm", preset="tiny", merge_mode="concatenate")
