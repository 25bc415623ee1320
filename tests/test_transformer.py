"""The mini transformer: padding never attended to, the causal LM, options, pretrained vectors."""

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


def test_the_fused_attention_equals_keras_multi_head_attention():
    from seqzoo.layers.transformer_encoder import TransformerEncoderBlock

    dim, heads, size = 8, 2, 4
    x = np.random.default_rng(0).normal(size=(2, 5, dim)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    block = TransformerEncoderBlock(heads, ff_dim=16)
    block.build(x.shape)
    rng = np.random.default_rng(1)
    for weight in block.query_key_value.weights + block.attention_output.weights:
        weight.assign(rng.normal(size=weight.shape))
    reference = keras.layers.MultiHeadAttention(heads, key_dim=size)
    reference.build(x.shape, x.shape)
    kernel, bias = (keras.ops.convert_to_numpy(w) for w in block.query_key_value.weights)
    kernel, bias = kernel.reshape(dim, 3, heads, size), bias.reshape(3, heads, size)
    for index, dense in enumerate((reference._query_dense, reference._key_dense, reference._value_dense)):
        dense.set_weights([kernel[:, index], bias[index]])
    reference._output_dense.set_weights(block.attention_output.get_weights())
    ours = block.self_attention(x, mask)
    expected = reference(x, x, attention_mask=mask[:, None, :])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(ours), keras.ops.convert_to_numpy(expected),
                               atol=1e-5)


def test_word_order_matters_through_the_positions():
    model = seqzoo.build("transformer", preset="tiny")
    a = keras.ops.convert_to_numpy(model(np.array([[5, 6, 7]], "int32")))
    b = keras.ops.convert_to_numpy(model(np.array([[7, 6, 5]], "int32")))
    assert np.abs(a - b).max() > 1e-6


def test_the_issue_example_builds_two_blocks_of_four_heads():
    model = seqzoo.build("transformer", layers=2, heads=4, model_dim=128)
    blocks = [layer for layer in model.layers if layer.name.startswith("block_")]
    assert len(blocks) == 2 and blocks[0].heads == 4
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


@pytest.mark.parametrize("positions", ["sinusoidal", "learned"])
def test_the_causal_lm_never_sees_later_steps(positions):
    model = seqzoo.build("transformer_lm", preset="tiny", positions=positions, layers=2)
    ids = np.array([[2, 5, 6, 7, 8, 9]], "int32")
    changed = ids.copy()
    changed[0, 3] = 11
    a, b = (keras.ops.convert_to_numpy(model(x)) for x in (ids, changed))
    np.testing.assert_allclose(a[0, :3], b[0, :3], atol=1e-6)  # steps before 3: untouched
    assert np.abs(a[0, 3:] - b[0, 3:]).max(axis=-1).min() > 1e-6  # step 3 on: all changed


def test_the_generator_slides_its_window_past_the_context():
    from seqzoo.decoding import TransformerGenerator

    model = seqzoo.build("transformer_lm", preset="tiny")
    generator = TransformerGenerator(model, window=6)
    ids = np.arange(2, 12, dtype="int32")[None]  # 10 tokens into a window of 6
    states = generator.initial_states(1)
    for token in ids[0]:
        probabilities, states = generator.step(token[None], states)
    # The 7th token found the window full: 3 kept (ids 3..5) + 7th, 8th, 9th; the 10th found it full
    # again: ids 6..8 kept + the 10th.
    assert states[0].numpy().tolist() == [[8, 9, 10, 11, 0, 0]] and states[1].numpy().tolist() == [4]
    expected = keras.ops.convert_to_numpy(model(ids[:, 6:]))[0, -1]
    np.testing.assert_allclose(probabilities.numpy()[0], expected, atol=1e-6)
    prefilled, _ = generator.prefill(np.pad(ids, [[0, 0], [3, 0]]))  # left-padded, longer than 6
    np.testing.assert_allclose(prefilled.numpy()[0], keras.ops.convert_to_numpy(model(ids[:, -6:]))[0, -1],
                               atol=1e-6)


@pytest.mark.parametrize("norm_first, positions", [(False, "sinusoidal"), (True, "learned")])
def test_cached_generation_is_the_window_re_run_while_the_text_fits(norm_first, positions):
    from seqzoo.decoding import TransformerGenerator

    model = seqzoo.build("transformer_lm", preset="tiny", layers=2, norm_first=norm_first,
                         positions=positions)
    generator = TransformerGenerator(model, window=16)
    prompts = np.array([[0, 0, 0, 5, 6], [3, 4, 5, 6, 7]], "int32")  # left-padded, as the vectorizer gives
    tokens = generator.generate(prompts, 11, temperature=0.0, top_k=0, top_p=1.0, seed=0).numpy()
    for row, prompt in enumerate(prompts):
        text = [int(i) for i in prompt if i]
        for _ in range(11):  # the window re-run: the whole text through the model for every token
            text.append(int(np.argmax(keras.ops.convert_to_numpy(model(np.array([text])))[0, -1])))
        assert tokens[row].tolist() == text[-11:]
    states = generator.initial_states(2)
    for step in range(len(prompts[1])):
        probabilities, states = generator.step(prompts[1][step:step + 1].repeat(2), states)
    # context, length, then 2 blocks x (keys, values), each [heads, window, model_dim / heads]
    assert [tuple(state.shape) for state in states] == [(2, 16), (2,)] + [(2, 2, 16, 8)] * 4
    np.testing.assert_allclose(probabilities[0], keras.ops.convert_to_numpy(model(prompts[1:]))[0, -1],
                               atol=1e-6)


def test_the_issue_example_builds_a_causal_lm():
    model = seqzoo.build("transformer_lm", layers=2, heads=4, model_dim=128)
    blocks = [layer for layer in model.layers if layer.name.startswith("block_")]
    assert len(blocks) == 2 and all(block.causal for block in blocks)
    assert model.output_shape == (None, None, 256)
