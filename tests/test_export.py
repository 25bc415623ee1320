"""Export: the version layout, the card, atomic publishing, and what the served model takes."""

import json

import numpy as np
import pytest
import tensorflow as tf

import seqzoo
from seqzoo.exporters import ExportedModel, latest_version
from seqzoo.exporters import exporter as exporter_module


def test_version_folder_holds_saved_model_tflite_vocabulary_and_card(exported_sentiment):
    assert exported_sentiment.name == "1"
    names = {p.name for p in exported_sentiment.iterdir()}
    assert {"saved_model.pb", "variables", "sentiment.tflite", "vocabulary.json",
            "seqzoo.json"} <= names
    assert not [p for p in exported_sentiment.parent.iterdir() if p.name.startswith(".")]


def test_card_records_labels_config_metrics_parity_and_versions(exported_sentiment):
    card = json.loads((exported_sentiment / "seqzoo.json").read_text())
    assert card["labels"] == ["neg", "pos"]
    assert card["model"] == "sentiment" and card["version"] == 1
    assert card["config"]["model"]["rnn"]["units"] == 8
    assert set(card["metrics"]) == {"val_loss", "val_accuracy"}
    assert card["parity"]["saved_model_max_abs_diff"] <= 1e-5
    assert card["parity"]["tflite_max_abs_diff"] <= 1e-5
    assert card["requires_tensorflow_text"] is False
    assert card["versions"]["tensorflow"] == tf.__version__
    vocabulary = json.loads((exported_sentiment / "vocabulary.json").read_text())
    assert vocabulary[:2] == ["", "[UNK]"] and card["vocabulary_size"] == len(vocabulary)


def test_serving_default_takes_text_and_returns_probabilities_and_label(exported_sentiment):
    serve = tf.saved_model.load(str(exported_sentiment)).signatures["serving_default"]
    assert serve.structured_input_signature[1] == {
        "text": tf.TensorSpec([None], tf.string, name="text")}
    out = serve(text=tf.constant(["a gorgeous film", "dull and tedious"]))
    assert out["probabilities"].shape == (2, 2)
    assert [label.decode() for label in out["label"].numpy()] == ["pos", "neg"]


def test_served_model_takes_empty_huge_and_invalid_utf8_strings(exported_sentiment):
    serve = tf.saved_model.load(str(exported_sentiment)).signatures["serving_default"]
    out = serve(text=tf.constant(["", "film " * 20000, b"\xff\xfe\xc3 bad bytes"]))
    probabilities = out["probabilities"].numpy()
    assert probabilities.shape == (3, 2)
    assert np.all(np.isfinite(probabilities))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-6)


def test_tflite_and_saved_model_predictions_agree(exported_sentiment):
    exported = ExportedModel(exported_sentiment.parent)
    texts = ["a gorgeous film", "dull and tedious", ""]
    for a, b in zip(exported.predict(texts), exported.predict(texts, "tflite"), strict=True):
        assert a["label"] == b["label"]
        assert a["probability"] == pytest.approx(b["probability"], abs=1e-5)


def test_versions_count_up_and_never_overwrite(sentiment_run, tmp_path):
    first = seqzoo.export_run(sentiment_run, base=tmp_path)
    stamp = (first / "seqzoo.json").read_text()
    second = seqzoo.export_run(sentiment_run, base=tmp_path)
    assert (first.name, second.name) == ("1", "2")
    assert (first / "seqzoo.json").read_text() == stamp
    assert latest_version(tmp_path / "sentiment") == second
    models_config = (tmp_path / "models.config").read_text()
    assert f'base_path: "{(tmp_path / "sentiment").resolve()}"' in models_config
    assert models_config.count("config {") == 1


def test_a_failed_export_leaves_nothing_behind(sentiment_run, tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise seqzoo.UserError("parity check failed: injected")

    monkeypatch.setattr(exporter_module, "check_parity", fail)
    with pytest.raises(ValueError, match="injected"):
        seqzoo.export_run(sentiment_run, base=tmp_path)
    assert list((tmp_path / "sentiment").iterdir()) == []
    assert not (tmp_path / "models.config").exists()


def test_an_export_base_that_cannot_be_created_is_a_clear_error(sentiment_run, tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(ValueError, match=r"^export base '.*/file/models' is not writable: Not a directory$"):
        seqzoo.export_run(sentiment_run, base=tmp_path / "file" / "models")


def test_a_folder_without_versions_is_named(tmp_path):
    with pytest.raises(ValueError, match="holds no exported versions"):
        latest_version(tmp_path)


def test_a_custom_export_name_needs_the_entry_it_was_built_from(sentiment_run, tmp_path):
    run = seqzoo.load_run(sentiment_run)
    with pytest.raises(ValueError, match="export name 'reviews' is not a zoo entry; pass entry="):
        seqzoo.export(run.model, run.vectorizer, name="reviews", labels=run.meta["labels"], base=tmp_path)
    path = seqzoo.export(run.model, run.vectorizer, name="reviews", entry="sentiment",
                         labels=run.meta["labels"], base=tmp_path)
    assert path == tmp_path / "reviews" / "1"
    assert (path / "reviews.tflite").is_file()
