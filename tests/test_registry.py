"""The registry: names, factories, compiled models, and errors naming the closest name."""

import keras
import pytest

import seqzoo
from seqzoo.registry import register


def test_list_models_includes_sentiment_sorted():
    names = seqzoo.list_models()
    assert "sentiment" in names
    assert names == sorted(names)


def test_unknown_model_names_the_closest():
    with pytest.raises(ValueError, match=r"^unknown model 'sentimnt'; did you mean 'sentiment'\?$"):
        seqzoo.build("sentimnt")


def test_registering_a_name_twice_fails():
    with pytest.raises(RuntimeError, match="registered twice"):
        register("sentiment", task="classification")(lambda **_: None)


def test_build_returns_a_model_compiled_with_the_config_defaults():
    model = seqzoo.build("sentiment", cell="gru", units=64, num_classes=3, learning_rate=0.02)
    assert isinstance(model, keras.Model)
    assert model.get_layer("gru_0").units == 64
    assert model.output_shape == (None, 3)
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.02)
    assert model.loss == "sparse_categorical_crossentropy"


def test_unknown_choice_in_a_factory_names_the_closest():
    with pytest.raises(ValueError, match=r"unknown cell 'lstn'; did you mean 'lstm'\?"):
        seqzoo.build("sentiment", cell="lstn")


def test_unknown_optimizer_names_the_closest():
    with pytest.raises(ValueError, match=r"unknown optimizer 'adamw2'; did you mean 'adamw'\?"):
        seqzoo.build("sentiment", optimizer="adamw2")
