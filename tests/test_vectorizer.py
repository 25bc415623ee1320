"""The in-graph vectorizer: 0 = padding, 1 = OOV, truncation, tokenizers, saving."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqzoo.text import Vectorizer

TEXTS = ["a gorgeous film", "dull and tedious", "a film. A FILM!"]


@pytest.fixture
def words():
    return Vectorizer(max_tokens=100, max_length=4).adapt(TEXTS)


def test_vocabulary_is_ranked_by_count_then_alphabetically_after_pad_and_oov(words):
    assert words.get_vocabulary() == [
        "", "[UNK]", "a", "film", "and", "dull", "gorgeous", "tedious",
    ]


def test_ids_pad_with_zero_and_map_unknown_words_to_one(words):
    np.testing.assert_array_equal(words(["a dull film", "unknown film"]).numpy(),
                                  [[2, 5, 3], [1, 3, 0]])


def test_long_texts_are_truncated_to_max_length(words):
    assert words(["a a a a a a a a"]).numpy().tolist() == [[2, 2, 2, 2]]


def test_an_empty_text_becomes_one_oov_step(words):
    np.testing.assert_array_equal(words(["", ""]).numpy(), [[1], [1]])
    np.testing.assert_array_equal(words(["a film", ""]).numpy(), [[2, 3], [1, 0]])


def test_invalid_utf8_is_replaced_not_an_error(words):
    assert words([b"\xff\xfe film"]).numpy().tolist() == [[1, 3]]


def test_standardisation_options():
    kept = Vectorizer(lowercase=False, strip_punctuation=False).adapt(["Film, film."])
    assert kept.get_vocabulary()[2:] == ["Film,", "film."]


def test_max_tokens_caps_the_vocabulary():
    capped = Vectorizer(max_tokens=4).adapt(["a a a b b c"])
    assert capped.get_vocabulary() == ["", "[UNK]", "a", "b"]
    assert capped(["c"]).numpy().tolist() == [[1]]


def test_char_mode_splits_unicode_characters():
    chars = Vectorizer(tokenizer="char", strip_punctuation=False).adapt(["héllo"])
    assert chars.get_vocabulary() == ["", "[UNK]", "l", "h", "o", "é"]
    assert chars(["hé!"]).numpy().tolist() == [[3, 5, 1]]


def test_adapts_from_a_batched_dataset():
    dataset = tf.data.Dataset.from_tensor_slices(["b a", "b c"]).batch(2)
    assert Vectorizer().adapt(dataset).get_vocabulary() == ["", "[UNK]", "b", "a", "c"]


def test_unicode_script_tokenizer_splits_on_script_changes():
    script = Vectorizer(tokenizer="unicode_script").adapt(["abc日本"])
    assert script.get_vocabulary()[2:] == ["abc", "日本"]
    assert script.needs_tensorflow_text


def test_wordpiece_learns_pieces_and_gives_every_piece_an_id():
    pieces = Vectorizer(tokenizer="wordpiece", max_tokens=80).adapt(
        ["the minister said", "ministers are saying things"] * 3)
    tokens = pieces.tokenize(["ministering"]).to_list()[0]
    assert tokens[0] == b"minister" and all(t.startswith(b"##") for t in tokens[1:])
    assert 1 not in pieces(["ministering"]).numpy()[0]


def test_serialises_with_its_vocabulary(words):
    restored = keras.layers.deserialize(keras.layers.serialize(words))
    np.testing.assert_array_equal(restored(["a dull film"]).numpy(), words(["a dull film"]).numpy())


def test_using_it_before_adapt_is_a_clear_error():
    with pytest.raises(ValueError, match=r"no vocabulary yet; call adapt\(\) first"):
        Vectorizer()(["a"])


def test_unknown_tokenizer_names_the_closest():
    with pytest.raises(ValueError, match=r"unknown tokenizer 'wordpeice'; did you mean 'wordpiece'\?"):
        Vectorizer(tokenizer="wordpeice")


def test_adapting_on_no_tokens_is_an_error():
    with pytest.raises(ValueError, match="the data has no tokens"):
        Vectorizer().adapt(["", "  "])
