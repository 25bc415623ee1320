"""Alignment to a vocabulary, checked row by row against gensim's lookups, and into the models."""

import json

import keras
import numpy as np
import pytest
from gensim.test.utils import datapath

import seqzoo
from seqzoo import embeddings
from seqzoo.text import Vectorizer

GLOVE = datapath("test_glove.txt")
VOCABULARY = ["", "[UNK]", "the", "The", "OF", "zzqx", "1984", "and"]


@pytest.fixture(scope="module")
def glove():
    return embeddings.load(GLOVE)


def test_each_row_comes_from_the_first_rule_that_finds_the_word(glove):
    kv = embeddings.keyed_vectors([*glove.index_to_key, "####"],
                                  np.vstack([glove.vectors, np.full((1, 50), 7.0, np.float32)]))
    matrix, report = embeddings.build_matrix(kv, VOCABULARY, oov="zeros")
    assert report.rules == ["padding", "oov", "exact", "lowercase", "lowercase", "oov",
                            "digits_normalised", "exact"]
    np.testing.assert_array_equal(matrix[0], 0)
    for row, spelling in [(2, "the"), (3, "the"), (4, "of"), (6, "####"), (7, "and")]:
        np.testing.assert_array_equal(matrix[row], kv[spelling])
    np.testing.assert_array_equal(matrix[[1, 5]], 0)


def test_title_case_is_tried_after_lowercase():
    kv = embeddings.keyed_vectors(["Paris"], np.ones((1, 3), np.float32))
    _, report = embeddings.build_matrix(kv, ["", "[UNK]", "paris"])
    assert report.rules[2] == "title_case"


def test_fasttext_subwords_fill_words_the_vectors_lack():
    kv = embeddings.load(datapath("lee_fasttext.bin"))
    matrix, report = embeddings.build_matrix(kv, ["", "[UNK]", "the", "governmentalisation"])
    assert report.rules[2:] == ["exact", "subwords"]
    np.testing.assert_allclose(matrix[3], kv.get_vector("governmentalisation"))


def test_random_oov_rows_follow_the_found_rows_mean_and_std(glove):
    vocabulary = ["", "[UNK]", "the", *[f"unseen{i}" for i in range(3000)]]
    found = np.vstack([glove[w] for w in glove.index_to_key[:20]])
    kv = embeddings.keyed_vectors(glove.index_to_key[:20], found)
    matrix, _ = embeddings.build_matrix(kv, ["", "[UNK]", *glove.index_to_key[:20], *vocabulary[3:]])
    oov_rows = matrix[22:]
    np.testing.assert_allclose(oov_rows.mean(0), found.mean(0), atol=0.05)
    np.testing.assert_allclose(oov_rows.std(0), found.std(0), rtol=0.1)
    same_seed, _ = embeddings.build_matrix(kv, ["", "[UNK]", *glove.index_to_key[:20], *vocabulary[3:]])
    np.testing.assert_array_equal(matrix, same_seed)


def test_mean_initialisation(glove):
    matrix, _ = embeddings.build_matrix(glove, ["", "[UNK]", "the", "of", "zzqx"], oov="mean")
    np.testing.assert_allclose(matrix[4], (glove["the"] + glove["of"]) / 2, rtol=1e-6)


def test_report_counts_coverage_by_type_token_band_and_lists_top_oov(glove):
    _, report = embeddings.build_matrix(glove, VOCABULARY,
                                        token_counts={"the": 8, "zzqx": 2, "and": 5})
    assert report.rule_counts == {"exact": 2, "lowercase": 2, "oov": 2}
    assert report.type_coverage == pytest.approx(4 / 6)
    assert report.token_coverage == pytest.approx(13 / 15)
    assert report.band_coverage() == [("1-1000", 6, pytest.approx(4 / 6))]
    assert report.top_oov() == ["zzqx", "1984"]
    assert report.lines()[0] == ("embeddings: 6 words, dimension 50, type coverage 66.7%, "
                                 "token coverage 86.7%")


def test_a_vocabulary_with_no_word_in_the_vectors_is_an_error(glove):
    with pytest.raises(ValueError, match="none of the 2 vocabulary words is in the vectors"):
        embeddings.build_matrix(glove, ["", "[UNK]", "qqq", "zzz"])


@pytest.fixture(scope="module")
def vectorizer():
    return Vectorizer().adapt(["the film was one of the best", "a dull and tedious film zzqx"])


def pretrained_model(vectorizer, trainable, **overrides):
    return seqzoo.build("sentiment", preset="tiny", vectorizer=vectorizer, dim=50,
                        embeddings={"path": GLOVE, "trainable": trainable}, **overrides)


def fit_a_little(model, vectorizer):
    texts = ["the film was one of the best", "a dull and tedious film zzqx"]
    model.fit(vectorizer(texts), np.array([1, 0]), epochs=3, verbose=0)


def test_oov_only_trains_only_the_rows_not_found(vectorizer, glove):
    model = pretrained_model(vectorizer, "oov_only")
    layer = model.get_layer("embedding")
    before = keras.ops.convert_to_numpy(layer(np.arange(vectorizer.vocabulary_size())[None]))[0]
    fit_a_little(model, vectorizer)
    after = keras.ops.convert_to_numpy(layer(np.arange(vectorizer.vocabulary_size())[None]))[0]
    vocabulary = vectorizer.get_vocabulary()
    found = [i for i, w in enumerate(vocabulary) if w in glove.key_to_index]
    # Words absent from GloVe that occur in the texts ([UNK] does not, so it gets no gradient).
    unseen = [i for i, w in enumerate(vocabulary) if i >= 2 and w not in glove.key_to_index]
    assert unseen
    np.testing.assert_array_equal(after[found], before[found])
    np.testing.assert_array_equal(after[found], [glove[vocabulary[i]] for i in found])
    assert all(np.any(after[i] != before[i]) for i in unseen)


@pytest.mark.parametrize("trainable, changes", [("frozen", False), ("full", True)])
def test_frozen_and_full(vectorizer, trainable, changes):
    model = pretrained_model(vectorizer, trainable)
    before = model.get_layer("embedding").get_weights()[0].copy()
    fit_a_little(model, vectorizer)
    after = model.get_layer("embedding").get_weights()[0]
    assert bool(np.any(after != before)) is changes


def test_oov_only_survives_keras_saving_and_export(vectorizer, tmp_path):
    model = pretrained_model(vectorizer, "oov_only")
    fit_a_little(model, vectorizer)
    ids = vectorizer(["the best zzqx film"])
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded(ids)),
                                  keras.ops.convert_to_numpy(model(ids)))
    path = seqzoo.export(model, vectorizer, name="sentiment", labels=["neg", "pos"], base=tmp_path)
    parity = json.loads((path / "seqzoo.json").read_text())["parity"]
    assert parity["saved_model_max_abs_diff"] <= 1e-5 and parity["tflite_max_abs_diff"] <= 1e-5


def test_a_dimension_mismatch_names_both_sizes_unless_projected(vectorizer):
    with pytest.raises(ValueError, match=r"^pretrained vectors have dimension 50 but the model's "
                                         r"embedding dim is 8; set embedding.dim=50 or "
                                         r"embeddings.project=true$"):
        seqzoo.build("sentiment", preset="tiny", vectorizer=vectorizer, embeddings={"path": GLOVE})
    model = seqzoo.build("sentiment", preset="tiny", vectorizer=vectorizer,
                         embeddings={"path": GLOVE, "project": True})
    assert model.get_layer("embedding_projection").output.shape == (None, None, 8)


def test_pretrained_embeddings_need_the_vocabulary():
    with pytest.raises(ValueError, match="pass vectorizer="):
        seqzoo.build("sentiment", embeddings={"path": GLOVE})


def test_training_prints_the_alignment_report(sentiment_file, tmp_path, capsys):
    run = seqzoo.train("sentiment", sentiment_file, preset="tiny", out=tmp_path / "run", verbose=2,
                       overrides={"dim": 50, "embeddings": {"path": GLOVE, "trainable": "oov_only"}})
    out = capsys.readouterr().out
    assert "embeddings: " in out and "by rule: exact" in out and "top OOV: " in out
    assert seqzoo.load_run(run).model.get_layer("embedding").__class__.__name__ == (
        "PartiallyFrozenEmbedding")


def test_vectors_near_the_float32_limit_give_finite_rows_to_the_words_they_lack():
    from gensim.models import KeyedVectors

    kv = KeyedVectors(vector_size=4)
    kv.add_vectors(["film", "dull"], np.full((2, 4), 3e38, np.float32))
    vectorizer = Vectorizer(max_tokens=10).adapt(["film dull unseen"])
    matrix, report = embeddings.build_matrix(kv, vectorizer, oov="random")
    assert np.isfinite(matrix).all() and report.oov_ids == [1, 4]  # [UNK] and "unseen"
