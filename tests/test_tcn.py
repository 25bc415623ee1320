"""The TCN layer: its receptive field measured, streaming equal to the full pass, options."""

import keras
import numpy as np
import pytest

import seqzoo
from seqzoo.errors import UserError
from seqzoo.layers.tcn import TCN


def changed_steps(layer, length, perturbed_step):
    x = np.random.default_rng(0).normal(size=(1, length, 3)).astype("float32")
    moved = x.copy()
    moved[0, perturbed_step] += 1.0
    a, b = (keras.ops.convert_to_numpy(layer(v)) for v in (x, moved))
    return np.where(np.abs(a - b)[0].max(axis=-1) > 0)[0]


@pytest.mark.parametrize("kernel_size, dilations, stacks, normalization", [
    (2, [1, 2, 4, 8], 1, "weight"), (3, [1, 2, 4], 2, "none"), (5, [1, 3], 1, "layer"),
])
def test_the_receptive_field_measured_equals_the_formula(kernel_size, dilations, stacks, normalization):
    # tanh: a ReLU that is off at a step would hide that the step is connected. Seeded: with some
    # initial weights the change reaching the farthest step rounds away in float32.
    keras.utils.set_random_seed(0)
    layer = TCN(filters=4, kernel_size=kernel_size, dilations=dilations, stacks=stacks,
                normalization=normalization, activation="tanh")
    field = 1 + 2 * (kernel_size - 1) * stacks * sum(dilations)
    assert layer.receptive_field == field
    steps = changed_steps(layer, field + 20, 0)  # a change at step 0 reaches steps 0 .. field - 1
    assert steps.min() == 0 and steps.max() == field - 1 and len(steps) == field


def test_the_issue_example_has_the_papers_receptive_field():
    model = seqzoo.build("tcn", kernel_size=8, dilations=[1, 2, 4, 8, 16, 32, 64, 128], filters=24)
    assert model.get_layer("tcn").receptive_field == 1 + 2 * 7 * 255


@pytest.mark.parametrize("normalization", ["none", "layer", "weight"])
def test_streaming_steps_equal_the_full_sequence(normalization):
    layer = TCN(filters=6, kernel_size=3, dilations=[1, 2, 4], stacks=2, normalization=normalization)
    x = np.random.default_rng(1).normal(size=(2, 40, 3)).astype("float32")
    full = keras.ops.convert_to_numpy(layer(x))
    caches, outputs = layer.initial_caches(2), []
    for t in range(40):
        out, caches = layer.step(x[:, t], caches)
        outputs.append(keras.ops.convert_to_numpy(out))
    np.testing.assert_allclose(np.stack(outputs, axis=1), full, atol=1e-5)
    assert [c.shape[1] for c in caches[:2]] == [2, 2] and caches[-1].shape[1] == 8  # (k-1)*d


def test_same_padding_sees_the_future_and_cannot_stream():
    layer = TCN(filters=4, kernel_size=3, dilations=[1], padding="same")
    assert changed_steps(layer, 10, 5).min() < 5
    with pytest.raises(ValueError, match="padding 'same' sees the future and cannot stream"):
        layer.step(np.zeros((1, 3), "float32"), layer.initial_caches(1))


def test_a_1x1_convolution_matches_channels_only_where_they_differ():
    layer = TCN(filters=6, kernel_size=2, dilations=[1, 2])
    assert layer(np.zeros((1, 5, 3), "float32")).shape == (1, 5, 6)
    assert ["shortcut" in block for block in layer.blocks] == [True, False]


def test_padding_after_the_text_does_not_change_the_classifier():
    model = seqzoo.build("tcn", preset="tiny")
    short = keras.ops.convert_to_numpy(model(np.array([[5, 6, 7]], "int32")))
    padded = keras.ops.convert_to_numpy(model(np.array([[5, 6, 7, 0, 0, 0]], "int32")))
    np.testing.assert_allclose(padded, short, atol=1e-6)


@pytest.mark.parametrize("name, overrides, message", [
    ("tcn", {"normalization": "batch"}, "unknown normalization 'batch'; valid: layer, none, weight"),
    ("tcn", {"dilations": []}, "config key 'model.tcn.dilations' needs at least one item"),
    ("tcn_lm", {"padding": "same"}, "a language model's TCN must be causal (padding: causal)"),
])
def test_bad_options_are_named(name, overrides, message):
    with pytest.raises(ValueError) as err:
        seqzoo.build(name, preset="tiny", **overrides)
    assert message in str(err.value)


def test_same_padding_gives_each_text_the_same_tags_however_much_padding_its_batch_adds():
    model = seqzoo.build("tcn_tagger", preset="tiny", num_tags=3)
    short = keras.ops.convert_to_numpy(model(np.array([[5, 6, 7]], "int32")))[0]
    padded = keras.ops.convert_to_numpy(model(np.array([[5, 6, 7, 0, 0, 0, 0]], "int32")))[0]
    np.testing.assert_allclose(padded[:3], short, atol=1e-6)
    assert model.get_layer("tcn").padding == "same"


def test_float_channel_regression_tcn_learns_the_adding_problem():
    from seqzoo.paper import adding_problem

    keras.utils.set_random_seed(0)
    model = seqzoo.build("tcn", preset="tiny", input_channels=2, head="regression", pooling="last",
                         tcn={"kernel_size": 4, "dilations": [1, 2, 4], "filters": 16},
                         loss="mse", metrics=["mae"], learning_rate=0.005)
    assert model.get_layer("tcn").receptive_field >= 20 and not model.get_layer("tcn").return_sequences
    x, y = adding_problem(512, 20, seed=0)
    assert model.input.shape == (None, None, 2) and model(x[:3]).shape == (3, 1)
    history = model.fit(x, y, batch_size=32, epochs=15, verbose=0).history["loss"]
    assert history[-1] < 0.05 < 1 / 6, history  # predicting the mean scores 1/6


def test_last_pooling_needs_float_inputs_and_float_models_are_not_text_exports(tmp_path):
    with pytest.raises(UserError, match="unknown pooling 'last'"):
        seqzoo.build("tcn", preset="tiny", pooling="last")
    model = seqzoo.build("tcn", preset="tiny", input_channels=1, head="regression", loss="mse")
    with pytest.raises(UserError, match="reads float sequences; `seqzoo.export` serves text models only"):
        seqzoo.export(model, None, name="tcn", base=tmp_path)
    assert not any(tmp_path.iterdir())
