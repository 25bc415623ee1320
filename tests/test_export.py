"""Export: the version layout, the card, atomic publishing, and what the served model takes."""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import seqzoo
import seqzoo.errors
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
    assert card["meta"] == {"labels": ["neg", "pos"]}
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


def test_a_version_exported_before_the_card_had_its_meta_key_predicts_as_before(sentiment_run, tmp_path):
    from seqzoo.exporters.integrity import card_digest

    version = seqzoo.export_run(sentiment_run, base=tmp_path)
    before = ExportedModel(version).predict(["a gorgeous film", "dull"])
    card = json.loads((version / "seqzoo.json").read_text())
    old = {key: value for key, value in card.items() if key not in ("meta", "card_sha256")}
    old.update(card["meta"])  # how cards spread the task's metadata until it had a key of its own
    (version / "seqzoo.json").write_text(json.dumps({**old, "card_sha256": card_digest(old)}))
    exported = ExportedModel(version)
    assert exported.meta["labels"] == ["neg", "pos"]
    assert exported.predict(["a gorgeous film", "dull"]) == before


def test_the_card_lists_every_file_of_the_version_with_its_size_and_sha256(exported_sentiment):
    version = exported_sentiment
    card = json.loads((version / "seqzoo.json").read_text())
    on_disk = sorted(path.relative_to(version).as_posix()
                     for path in version.rglob("*") if path.is_file() and path.name != "seqzoo.json")
    assert sorted(card["files"]) == on_disk
    assert "saved_model.pb" in card["files"] and "sentiment.tflite" in card["files"]
    assert card["files"]["vocabulary.json"]["bytes"] == (version / "vocabulary.json").stat().st_size


@pytest.mark.parametrize("damage, reason", [
    (lambda v: (v / "sentiment.tflite").unlink(), "sentiment.tflite is missing"),
    (lambda v: (v / "vocabulary.json").write_text("[]"), "vocabulary.json has changed since export"),
    (lambda v: (v / "seqzoo.json").write_text("{not json"), "seqzoo.json does not read (JSONDecodeError)"),
    (lambda v: [p.unlink() for p in v.rglob("*") if p.is_file()], "seqzoo.json is missing"),
])
def test_a_damaged_newest_version_is_named_and_never_hides_the_good_one(sentiment_run, tmp_path, damage,
                                                                       reason):
    good = seqzoo.export_run(sentiment_run, base=tmp_path)
    newest = seqzoo.export_run(sentiment_run, base=tmp_path)
    damage(newest)
    skipped = f"'{newest}' is damaged \\({re.escape(reason)}.*; using version 1"
    with pytest.warns(seqzoo.errors.SeqzooNote, match=skipped):
        assert ExportedModel(tmp_path / "sentiment").path == good
    with pytest.raises(ValueError, match=f"exported version '{newest}' is damaged: {re.escape(reason)}"):
        ExportedModel(newest)
    damage(good)
    none_whole = f"holds no whole exported version; the newest, '{newest}', is damaged"
    with pytest.raises(ValueError, match=none_whole):
        ExportedModel(tmp_path / "sentiment")


def test_the_cli_prints_the_skipped_version_as_a_note_and_still_predicts(capsys, sentiment_run, tmp_path):
    from seqzoo.cli import main

    seqzoo.export_run(sentiment_run, base=tmp_path)
    (tmp_path / "sentiment" / "2").mkdir()  # an empty newest version, as a copy cut short leaves
    assert main(["predict", str(tmp_path / "sentiment"), "a gorgeous film"]) == 0
    out, err = capsys.readouterr()
    assert err == f"seqzoo: note: '{tmp_path / 'sentiment' / '2'}' is damaged (seqzoo.json is missing); " \
                  "using version 1\n"
    assert out.endswith("\ta gorgeous film\n")


def test_the_folder_of_a_killed_export_is_removed_by_the_next_one(sentiment_run, tmp_path):
    import socket

    killed = tmp_path / "sentiment" / f".export@{socket.gethostname()}@999999999@abc"
    running = tmp_path / "sentiment" / f".export@{socket.gethostname()}@{os.getpid()}@def"
    for folder in (killed, running):
        (folder / "variables").mkdir(parents=True)
    removed = "removed '.*999999999@abc', the unfinished folder of an export that was killed"
    with pytest.warns(seqzoo.errors.SeqzooNote, match=removed):
        seqzoo.export_run(sentiment_run, base=tmp_path)
    assert not killed.exists() and running.exists()


def test_a_full_disk_during_export_is_one_line_and_publishes_nothing(sentiment_run, tmp_path):
    # A real write failure: the file-size limit makes the kernel refuse the SavedModel's writes.
    script = (
        "import os, resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))\n"
        "from seqzoo.cli import main\n"
        "sys.exit(main(['export', sys.argv[1], '--base', sys.argv[2]]))\n"
    )
    result = subprocess.run([sys.executable, "-c", script, str(sentiment_run), str(tmp_path)],
                            capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    last = result.stderr.strip().splitlines()[-1]
    assert result.returncode == 2, result.stderr[-2000:]
    assert re.fullmatch(rf"seqzoo: error: export to '{tmp_path / 'sentiment'}' failed, nothing was "
                        r"published: .*File too large.*", last), last
    assert list((tmp_path / "sentiment").iterdir()) == []


KILLED_EXPORT = """
import os, signal, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import seqzoo
from seqzoo.exporters import exporter
run, base, where = sys.argv[1:4]
die = lambda *args, **kwargs: os.kill(os.getpid(), signal.SIGKILL)
if where == "saved_model":  # half a SavedModel written
    write = exporter.write_saved_model
    exporter.write_saved_model = lambda path, *a: (write(path, *a), (path / "saved_model.pb").unlink(), die())
elif where == "publish":  # everything written, killed before the rename
    exporter._publish = die
else:  # published, killed before models.config
    exporter.write_models_config = die
seqzoo.export_run(run, base=base)
"""


@pytest.mark.parametrize("where, published", [("saved_model", 0), ("publish", 0),
                                              pytest.param("models_config", 1, marks=pytest.mark.large)])
def test_an_export_killed_anywhere_leaves_no_half_version_and_the_next_export_is_whole(
        sentiment_run, tmp_path, where, published):
    killed = subprocess.run([sys.executable, "-c", KILLED_EXPORT, str(sentiment_run), str(tmp_path), where],
                            capture_output=True, text=True)
    assert killed.returncode == -9, killed.stderr[-2000:]
    model_dir = tmp_path / "sentiment"
    assert sorted(p.name for p in model_dir.iterdir() if p.name.isdigit()) == [str(v + 1) for v in
                                                                                range(published)]
    if published:
        path = seqzoo.export_run(sentiment_run, base=tmp_path)
    else:
        with pytest.warns(seqzoo.errors.SeqzooNote, match="the unfinished folder of an export that was"):
            path = seqzoo.export_run(sentiment_run, base=tmp_path)
    assert path.name == str(published + 1)
    assert [p.name for p in model_dir.iterdir() if p.name.startswith(".")] == []
    assert latest_version(model_dir) == path
    for version in model_dir.iterdir():
        assert ExportedModel(version).predict(["a gorgeous film"])[0]["label"] in ("neg", "pos")
    assert (tmp_path / "models.config").read_text().count("config {") == 1


def test_the_card_records_the_savedmodel_fingerprint_and_the_training_data(exported_sentiment,
                                                                           sentiment_file):
    from seqzoo.files import data_fingerprint

    card = json.loads((exported_sentiment / "seqzoo.json").read_text())
    fingerprint = tf.saved_model.experimental.read_fingerprint(str(exported_sentiment))
    assert card["saved_model_fingerprint"]["saved_model_checksum"] == str(fingerprint.saved_model_checksum)
    assert card["saved_model_fingerprint"]["signature_def_hash"] == str(fingerprint.signature_def_hash)
    assert card["training_data"] == data_fingerprint(sentiment_file)


def test_verify_says_a_version_is_as_exported_and_names_what_changed(sentiment_run, tmp_path, capsys):
    from seqzoo.cli import main

    version = seqzoo.export_run(sentiment_run, base=tmp_path)
    assert main(["verify", str(version)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"ok: '{version}' is as exported: its ") and "trained on " in out
    (version / "assets" / "extra.txt").write_text("x")
    (version / "vocabulary.json").write_text("[]")
    assert main(["verify", str(tmp_path / "sentiment")]) == 2
    error = capsys.readouterr().err.strip()
    assert error == (f"seqzoo: error: '{version}' has changed since export: vocabulary.json has changed "
                     "since export (size or sha256); assets/extra.txt was added since export")
    assert main(["verify", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_the_warmup_requests_replay_through_the_saved_model_and_models_config_parses(exported_sentiment):
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    from seqzoo.exporters.warmup import replay_warmup

    assert replay_warmup(exported_sentiment) == ["serving_default"]
    config = text_format.Parse((exported_sentiment.parent.parent / "models.config").read_text(),
                               model_server_config_pb2.ModelServerConfig())
    [model] = config.model_config_list.config
    assert model.name == "sentiment" and model.base_path == str(exported_sentiment.parent.resolve())
    assert model.model_platform == "tensorflow"


def test_request_renders_the_rest_body_and_the_grpc_request_and_names_mistakes(exported_sentiment, tmp_path,
                                                                                 capsys):
    from tensorflow_serving.apis import predict_pb2

    from seqzoo.cli import main

    assert main(["request", str(exported_sentiment), "a gorgeous film", "naïve", "--rest"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == {"signature_name": "serving_default", "instances": ["a gorgeous film", "naïve"]}
    assert err.strip() == "seqzoo: POST it to http://localhost:8501/v1/models/sentiment/versions/1:predict"
    assert main(["request", str(exported_sentiment), "dull", "--rest", "--columnar"]) == 0
    assert json.loads(capsys.readouterr().out)["inputs"] == {"text": ["dull"]}
    bad_utf8 = os.fsdecode(b"caf\xe9")  # a command-line argument that is not UTF-8
    assert main(["request", str(exported_sentiment), bad_utf8, "--rest"]) == 0
    assert json.loads(capsys.readouterr().out)["instances"] == [{"b64": "Y2Fm6Q=="}]
    assert main(["request", str(exported_sentiment), "dull", "--grpc", "--out", str(tmp_path / "r.pb")]) == 0
    request = predict_pb2.PredictRequest.FromString((tmp_path / "r.pb").read_bytes())
    assert (request.model_spec.name, request.model_spec.version.value) == ("sentiment", 1)
    assert request.inputs["text"].string_val == [b"dull"]
    capsys.readouterr()
    for argv, message in [
        (["--signature", "generate", "x", "--rest"],
         "the export has no signature 'generate'; it has serving_default"),
        (["--rest"], "give the text to send (INPUT ...), or --input text=VALUE"),
        (["x", "--input", "beam_width=2", "--grpc"],
         "no input 'beam_width' in this signature; its inputs are text"),
        (["--input", "text=3", "--grpc"], "input 'text' takes string [None], got 3"),
        (["x", "--input", "text=[1]", "--grpc"], "input 'text' is given twice: as INPUT and as --input"),
        (["--input", 'text="x"', "--grpc"], "input 'text' takes string [None], got shape []"),
    ]:
        assert main(["request", str(exported_sentiment), *argv]) == 2
        assert capsys.readouterr().err.strip() == f"seqzoo: error: {message}"


def test_quantized_tflite_files_are_measured_against_float32_or_listed_with_the_reason(sentiment_run,
                                                                                        tmp_path):
    """float16 and dynamic-range files are made and agree with float32 on the held-out inputs; full int8
    of a recurrent model is either made and measured or listed with the converter's reason (its
    calibration crashes on the RNN's WHILE loop in TF 2.21: the export survives that, in a child)."""
    from ai_edge_litert.interpreter import Interpreter

    from seqzoo.exporters.exported import ExportedModel
    from seqzoo.exporters.integrity import changes

    version = seqzoo.export_run(sentiment_run, base=tmp_path, quantize="float16,dynamic,int8")
    card = json.loads((version / "seqzoo.json").read_text())
    report = card["tflite"]["quantized"]
    size = (version / "sentiment.tflite").stat().st_size
    assert report["float32"] == {"file": "sentiment.tflite", "bytes": size,
                                 "latency_ms": report["float32"]["latency_ms"]}
    assert report["float32"]["latency_ms"] > 0
    assert report["heldout_inputs"] == card["parity"]["texts"] - 3  # not the 3 edge cases
    texts = ["a gorgeous film", "dull and tedious", "zzqx"]
    float32 = ExportedModel(version).predict(texts, "tflite")
    for kind in ("float16", "dynamic"):
        variant = report[kind]
        assert variant["made"] and variant["bytes"] == (version / f"sentiment.{kind}.tflite").stat().st_size
        assert variant["agreement"]["label_agreement"] == 1.0
        assert 0 <= variant["agreement"]["max_probability_difference"] < 0.01
        interpreter = Interpreter(model_path=str(version / variant["file"]))
        runner = interpreter.get_signature_runner("serving_default")
        vectorizer = ExportedModel(version)._app_vectorizer()
        for text, row in zip(texts, float32, strict=True):
            got = runner(token_ids=vectorizer([text]).numpy())["probabilities"][0]
            np.testing.assert_allclose(got, list(row["probabilities"].values()), atol=0.01)
    int8 = report["int8"]
    if int8["made"]:
        assert set(int8["agreement"]) == {"label_agreement", "max_probability_difference"}
    else:
        assert int8["reason"].startswith("model 'sentiment' does not convert to int8 TFLite: ")
        assert not (version / "sentiment.int8.tflite").exists()
    assert changes(version) == []  # every variant is in the card's file table


def test_a_corpus_is_hashed_whole_for_its_first_gib_and_past_it_by_size_mtime_and_ends(tmp_path, monkeypatch):
    """The training data's fingerprint must not cost another pass over a 100 GB corpus."""
    import seqzoo.files as files

    monkeypatch.setattr(files, "WHOLE_FILE_HASH_LIMIT", 100)  # bytes hashed whole, in all
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_bytes(b"a" * 60)
    (corpus / "b.txt").write_bytes(b"b" * (3 << 20))  # past the limit: its size, mtime and two ends
    before = files.data_fingerprint(corpus)

    def edit(name: str, offset: int) -> None:
        path = corpus / name
        stat = path.stat()
        with open(path, "r+b") as file:
            file.seek(offset)
            file.write(b"x")
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))

    edit("b.txt", 3 << 19)  # the middle of b: not read
    assert files.data_fingerprint(corpus) == before
    edit("b.txt", 5)  # its first MiB
    assert files.data_fingerprint(corpus)["sha256"] != before["sha256"]
    after_b = files.data_fingerprint(corpus)
    edit("a.txt", 30)  # a, hashed whole
    assert files.data_fingerprint(corpus)["sha256"] != after_b["sha256"]


def test_request_values_are_checked_against_the_signature_never_wrapped_or_clamped():
    from seqzoo.exporters.requests import fill_inputs

    specs = {"seed": tf.TensorSpec([], tf.int32), "temperature": tf.TensorSpec([], tf.float32),
             "prime": tf.TensorSpec([None], tf.float32), "state_0": tf.TensorSpec([None, 4], tf.float32)}
    for value, message in [
        (99_999_999_999, r"input 'seed' takes int32 \[\]: 99999999999 is out of its range "
                         r"\(-2147483648 to 2147483647\)"),
        (1.5, r"input 'seed' takes int32 \[\], got 1.5"),
        ("x", r"input 'seed' takes int32 \[\], got \"x\""),
        ([1, 2], r"input 'seed' takes int32 \[\], got shape \[2\]"),
    ]:
        with pytest.raises(seqzoo.errors.UserError, match=message):
            fill_inputs(specs, {"seed": value})
    with pytest.raises(seqzoo.errors.UserError, match="input 'temperature' holds a value that is not finite"):
        fill_inputs(specs, {"temperature": float("nan")})
    inputs, zeros = fill_inputs(specs, {"prime": [0.5, -0.5], "seed": 7})
    assert (inputs["seed"], inputs["temperature"]) == (7, 1.0) and inputs["prime"].dtype == np.float32
    assert zeros == ["state_0"] and inputs["state_0"].shape == (1, 4)  # a template, named
