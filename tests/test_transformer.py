"""The transformer encoder classifier: padding never attended to, options, pretrained vectors."""

import keras
import numpy as np
import pytest
from gensim.test.utils import datapath

import seqzoo
from seqzoo.text import Vectorizer


@pytest.mark.parametrize("positions", ["sinusoidal", "learned"])
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("pooling", ["mean", "max"])
def test_padding_does_not_change_the_prediction(positions, norm_first, pooling):
    model = seqzoo.build("transformer", preset="tiny", positions=positions, norm_first=norm_first,
                         pooling=pooling, layers=2)
    unpadded = keras.ops.convert_to_numpy(model(np.array([[5, 6, 7]], "int32")))
    padded = keras.ops.convert_to_numpy(model(np.array([[5, 6, 7, 0, 0, 0, 0]], "int32")))
    np.testing.assert_allclose(padded, unpadded, atol=1e-6)


def test_word_order_matters_through_the_positions():
    model = seqzoo.build("transformer", preset="tiny")
    a = keras.ops.convert_to_numpy(model(np.array([[5, 6, 7]], "int32")))
    b = keras.ops.convert_to_numpy(model(np.array([[7, 6, 5]], "int32")))
    assert np.abs(a - b).max() > 1e-6


def test_the_issue_example_builds_two_blocks_of_four_heads():
    model = seqzoo.build("transformer", layers=2, heads=4, model_dim=128)
    blocks = [layer for layer in model.layers if layer.name.startswith("block_")]
    assert len(blocks) == 2 and blocks[0].attention.num_heads == 4
    assert model.get_layer("embedding").output_dim == 128


@pytest.mark.parametrize("overrides, message", [
    ({"model_dim": 10, "heads": 4}, "model_dim 10 does not divide into 4 heads"),
    ({"positions": "rotary"}, "unknown positions 'rotary'; valid: learned, sinusoidal"),
    ({"pooling": "last"}, "unknown pooling 'last'; valid: max, mean"),
])
def test_bad_options_are_named(overrides, message):
    with pytest.raises(ValueError) as err:
        seqzoo.build("transformer", preset="tiny", **overrides)
    assert str(err.value) == message


def test_pretrained_vectors_of_another_size_are_projected_to_model_dim():
    vectorizer = Vectorizer().adapt(["the people said on tuesday"])
    model = seqzoo.build("transformer", preset="tiny", vectorizer=vectorizer,
                         embeddings={"path": datapath("test_glove.txt"), "project": True})
    assert model.get_layer("embedding").output_dim == 50
    assert model.get_layer("embedding_projection").output.shape == (None, None, 8)
    assert model(vectorizer(["the people said"])).shape == (1, 2)
