"""Training wiring: the run directory, resuming a killed run, tensorflow-text tokenizers."""

import csv
import json

import keras
import pytest
import tensorflow as tf

import seqzoo


class StopAfterEpoch(keras.callbacks.Callback):
    """Kills training at the end of an epoch, as a Ctrl-C or a lost machine would."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


def epochs_logged(run_dir):
    with open(run_dir / "history.csv") as file:
        return [int(row["epoch"]) for row in csv.DictReader(file)]


def test_run_directory_holds_model_vectorizer_and_metadata(sentiment_run):
    meta = json.loads((sentiment_run / "run.json").read_text())
    assert meta["model"] == "sentiment" and meta["meta"] == {"labels": ["neg", "pos"]}
    assert meta["config"]["text"]["max_tokens"] == len(
        json.loads((sentiment_run / "vectorizer.json").read_text())["vocabulary"]) + 2
    assert 0.0 <= meta["metrics"]["val_accuracy"] <= 1.0
    assert (sentiment_run / "logs").is_dir() and not (sentiment_run / "backup").exists()
    run = seqzoo.load_run(sentiment_run)
    assert run.model.output_shape == (None, 2)


def test_a_killed_run_resumes_at_its_next_epoch(sentiment_file, tmp_path):
    options = dict(preset="tiny", overrides={"patience": 10}, epochs=4, out=tmp_path, verbose=0)
    with pytest.raises(KeyboardInterrupt):
        seqzoo.train("sentiment", sentiment_file, callbacks=[StopAfterEpoch(1)], **options)
    assert epochs_logged(tmp_path) == [0, 1]
    assert not (tmp_path / "run.json").exists() and (tmp_path / "backup").is_dir()

    seqzoo.train("sentiment", sentiment_file, **options)
    assert epochs_logged(tmp_path) == [0, 1, 2, 3]
    assert (tmp_path / "run.json").exists()


def test_a_tensorflow_text_tokenizer_exports_and_the_card_says_so(sentiment_file, tmp_path):
    run = seqzoo.train("sentiment", sentiment_file, preset="tiny", out=tmp_path / "run",
                       overrides={"tokenizer": "wordpiece", "max_tokens": 200}, verbose=0)
    path = seqzoo.export_run(run, base=tmp_path / "sm")
    card = json.loads((path / "seqzoo.json").read_text())
    assert card["requires_tensorflow_text"] is True
    assert card["parity"]["tflite_max_abs_diff"] <= 1e-5
    import tensorflow_text  # noqa: F401  (the SavedModel's WordPiece ops live there)

    out = tf.saved_model.load(str(path)).signatures["serving_default"](text=tf.constant(["filmic"]))
    assert out["probabilities"].shape == (1, 2)
    from seqzoo.exporters import ExportedModel

    assert ExportedModel(path).predict(["filmic"], "tflite")[0]["label"] in ("neg", "pos")
