"""Reliability, round 3: the files seqzoo reads and writes, held to the same promises as its text
surfaces. No traceback, no hang, no lost file, no code run from the working folder: a user's
mistake is one line (exit 2 at the CLI), and what seqzoo wrote itself is read back as data to check."""

import io
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import seqzoo
from seqzoo.cli import main
from seqzoo.errors import UserError
from seqzoo.files import check_beside, regular_file, write_bytes, written

# --- code from the working folder ---------------------------------------------------------------


def test_the_child_process_of_an_export_imports_nothing_from_the_working_folder(tmp_path):
    from seqzoo.exporters.tflite import python_child

    (tmp_path / "numpy.py").write_text("raise SystemExit('the stray numpy.py of the working folder ran')\n")
    (tmp_path / "seqzoo").mkdir()
    (tmp_path / "seqzoo" / "__init__.py").write_text("raise SystemExit('a stray seqzoo package ran')\n")
    done = subprocess.run(python_child("import numpy, seqzoo; print(numpy.__file__, seqzoo.__file__)"),
                          cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert str(tmp_path) not in done.stdout


# --- one writer for every file --------------------------------------------------------------------


def test_a_target_that_is_a_folder_or_in_a_read_only_folder_is_one_line_and_leaves_nothing(tmp_path):
    (tmp_path / "taken").mkdir()
    with pytest.raises(UserError, match=r"^'.*taken' is a folder; name a file to write$"):
        write_bytes(tmp_path / "taken", b"x")
    (tmp_path / "a-file").write_text("mine")
    with pytest.raises(UserError, match=r"^cannot write '.*a-file/out.json': '.*a-file' is a file, not a "
                                        r"folder$"):
        write_bytes(tmp_path / "a-file" / "out.json", b"{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "taken"]
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        if not os.access(locked, os.W_OK):  # root may write anywhere: then there is nothing to refuse
            with pytest.raises(UserError, match="is not writable"):
                write_bytes(locked / "out.json", b"{}")
            assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(old=st.binary(max_size=64), new=st.binary(max_size=64),
       fail_at=st.sampled_from([None, "before", "after"]))
def test_a_write_is_whole_or_not_at_all_and_leaves_no_temporary_file(tmp_path, old, new, fail_at):
    target = tmp_path / "out.bin"
    target.write_bytes(old)
    try:
        with written(target) as tmp:
            if fail_at == "before":
                raise KeyboardInterrupt
            tmp.write_bytes(new)
            if fail_at == "after":
                raise ValueError("the library failed half-way")
    except (KeyboardInterrupt, ValueError):
        pass
    assert target.read_bytes() == (old if fail_at else new)
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_a_file_written_beside_the_named_one_never_replaces_a_file_of_the_users(tmp_path):
    score, picture = tmp_path / "x.mid", tmp_path / "x.png"
    assert check_beside(score, picture, "piano roll") == picture  # nothing there yet
    picture.write_bytes(b"the user's own picture")
    with pytest.raises(UserError, match=r"x.png' exists and '.*x.mid' does not, so it is not an earlier "
                                        r"run's piano roll: move it, or choose another --out$"):
        check_beside(score, picture, "piano roll")
    score.write_bytes(b"an earlier compose's score")  # a rerun: the pair is seqzoo's
    assert check_beside(score, picture, "piano roll") == picture


def test_attention_into_a_folder_is_one_line_before_the_model_runs(tmp_path, capsys):
    (tmp_path / "maps.png").mkdir()
    code = main(["attention", str(tmp_path / "absent-model"), "3 March", "--out", str(tmp_path / "maps.png")])
    assert code == 2 and capsys.readouterr().err == (f"seqzoo: error: '{tmp_path / 'maps.png'}' is a folder; "
                                                     "name a file to write\n")
    code = main(["attention", str(tmp_path / "absent-model"), "3 March", "--out", str(tmp_path / "maps.txt")])
    assert code == 2 and "cannot write a figure as 'maps.txt'" in capsys.readouterr().err


# --- readers: what a path is and how big it claims to be ------------------------------------------


def test_a_pipe_or_a_device_is_refused_at_once_never_read(tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(UserError, match=r"'.*pipe.png' is not a regular file \(a device, a pipe or a "
                                        r"socket\)"):
        regular_file(fifo, "image")
    with pytest.raises(UserError, match="is not a regular file"):
        regular_file("/dev/zero", "data file")
    with pytest.raises(UserError, match=r"is 10 bytes; at most 4 are read"):
        (tmp_path / "ten").write_bytes(b"0123456789")
        regular_file(tmp_path / "ten", "card", max_bytes=4)
    assert time.monotonic() - started < 5


def test_the_cli_refuses_a_pipe_as_an_image_and_a_device_as_data(tmp_path, capsys):
    os.mkfifo(tmp_path / "scene.png")
    assert main(["caption", str(tmp_path / "model"), str(tmp_path / "scene.png")]) == 2
    code = main(["train", "sentiment", "--data", "/dev/zero", "--preset", "tiny",
                 "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2 and "seqzoo: error: data file '/dev/zero' is not a regular file" in err
    assert not (tmp_path / "r").exists()


def wav_bytes(channels=1, rate=8000, bits=16, samples=80, format_tag=1, extra_chunks=b"", data_size=None):
    """A WAV file, each header field settable (to any lie)."""
    frame = channels * bits // 8
    body = (np.arange(samples * max(channels, 1)) % 50).astype("<i2").tobytes()[: samples * frame]
    fmt = struct.pack("<HHIIHH", format_tag, channels, rate, rate * frame & 0xFFFFFFFF, frame & 0xFFFF, bits)
    data = struct.pack("<4sI", b"data", len(body) if data_size is None else data_size) + body
    chunks = struct.pack("<4sI", b"fmt ", 16) + fmt + extra_chunks + data
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


@pytest.mark.parametrize("lie, reason", [
    (dict(rate=2**31 - 1), "declares a sample rate of 2,147,483,647 Hz (a recording has 1,000 to 384,000)"),
    (dict(channels=0), "declares 0 channels (a recording has 1 to 64)"),
    (dict(extra_chunks=struct.pack("<4sI", b"LIST", 2**32 - 1)),
     "its 'LIST' chunk claims 4,294,967,295 bytes"),
])
def test_a_wav_header_that_lies_is_named_not_believed(tmp_path, lie, reason):
    from seqzoo.data.audio import AudioError, read_wav

    path = tmp_path / "lie.wav"
    path.write_bytes(wav_bytes(**lie))
    with pytest.raises(AudioError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        read_wav(path, 8000)


def test_a_training_folder_skips_a_lying_wav_with_a_note(tmp_path):
    from seqzoo.data.audio import read_clips

    (tmp_path / "good.wav").write_bytes(wav_bytes())
    (tmp_path / "bad.wav").write_bytes(wav_bytes(rate=2**31 - 1))
    with pytest.warns(seqzoo.errors.SeqzooNote, match=r"skipped 1 of 2 audio files .*'bad.wav': declares"):
        clips = read_clips(tmp_path, 8000)
    assert clips.names == ["good.wav"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(channels=st.integers(0, 2**16 - 1), rate=st.integers(0, 2**32 - 1),
       bits=st.sampled_from([0, 8, 16, 24, 32, 7]),
       samples=st.integers(0, 200), format_tag=st.sampled_from([1, 3, 0, 65534]),
       data_size=st.one_of(st.none(), st.integers(0, 2**32 - 1)), cut=st.integers(0, 60))
def test_any_wav_header_reads_to_finite_samples_or_one_reason(tmp_path, channels, rate, bits, samples,
                                                              format_tag, data_size, cut):
    from seqzoo.data.audio import AudioError, read_wav

    data = wav_bytes(channels, rate, bits, samples, format_tag, data_size=data_size)
    path = tmp_path / "any.wav"
    path.write_bytes(data[: len(data) - cut])
    started = time.monotonic()
    try:
        waveform = read_wav(path, 8000)
    except AudioError as err:
        assert "\n" not in str(err)
    else:
        assert np.isfinite(waveform).all() and np.abs(waveform).max(initial=0) <= 1
    assert time.monotonic() - started < 10


def test_an_animated_gif_counts_every_frame_against_the_pixel_limit():
    import tensorflow as tf
    from PIL import Image

    from seqzoo.data import images

    frames = [Image.new("RGB", (1000, 1000), (i, 0, 0)) for i in range(50)]  # 50 million pixels decoded
    data = io.BytesIO()
    frames[0].save(data, "GIF", save_all=True, append_images=frames[1:], duration=40)
    one = io.BytesIO()
    frames[0].save(one, "GIF")
    _, ok = images.decode_images(tf.constant([data.getvalue(), one.getvalue()]), 32)
    assert ok.numpy().tolist() == [False, True]


def test_a_score_the_parser_would_take_minutes_or_gigabytes_over_is_not_given_to_it(tmp_path):
    from seqzoo.data.music import MIDI_MAX_BYTES, ScoreError, parse_score

    big = tmp_path / "long.mid"
    big.write_bytes(b"MThd" + b"\0" * MIDI_MAX_BYTES)
    with pytest.raises(ScoreError, match=f"at most {MIDI_MAX_BYTES:,} are read"):
        parse_score(big)
    bomb = tmp_path / "bomb.mxl"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("score.xml", b"<" * (40 << 20))  # 40 MB of one byte: a 40 KB archive
    assert bomb.stat().st_size < 1 << 20
    with pytest.raises(ScoreError, match="unzips to 41,943,040 bytes"):
        parse_score(bomb)


# --- files seqzoo wrote itself, read back as data ---------------------------------------------------


@pytest.fixture(scope="module")
def version(exported_sentiment, tmp_path_factory):
    return exported_sentiment


def mutated_copy(version, tmp_path, change) -> "Path":  # noqa: F821
    from seqzoo.exporters.integrity import card_digest

    copy = tmp_path / "sentiment" / "1"
    shutil.copytree(version, copy)
    card = json.loads((copy / "seqzoo.json").read_text())
    card.pop("card_sha256")
    change(card)
    (copy / "seqzoo.json").write_text(json.dumps({**card, "card_sha256": card_digest(card)}))
    return copy


JSON_VALUES = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(),
                                     st.text(max_size=8)),
                           lambda children: st.lists(children, max_size=3)
                           | st.dictionaries(st.text(max_size=6), children, max_size=3), max_leaves=6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(["files", "task", "version", "tflite", "name", "versions", "training_data",
                              "saved_model_fingerprint", "meta"]), value=JSON_VALUES)
def test_a_card_with_any_field_replaced_is_used_whole_or_named_never_a_traceback(version, tmp_path_factory,
                                                                                  field, value):
    from seqzoo.exporters import ExportedModel

    copy = mutated_copy(version, tmp_path_factory.mktemp("card"), lambda card: card.__setitem__(field, value))
    try:
        ExportedModel(copy).predict(["a gorgeous film"])
    except UserError as err:
        assert "\n" not in str(err)
    assert main(["verify", str(copy)]) in (0, 2)


def test_a_card_listing_a_file_outside_its_version_is_damaged(version, tmp_path, capsys):
    entry = {"bytes": 0, "sha256": "0" * 64}
    copy = mutated_copy(version, tmp_path, lambda card: card["files"].__setitem__("../../../dev/zero", entry))
    assert main(["verify", str(copy)]) == 2
    assert "lists a file it cannot vouch for: '../../../dev/zero'" in capsys.readouterr().err
    with pytest.raises(UserError, match="cannot vouch for"):
        seqzoo.exporters.ExportedModel(copy)


def test_verify_names_a_link_added_to_a_version_and_never_reads_a_device_as_training_data(version, tmp_path,
                                                                                         capsys):
    copy = mutated_copy(version, tmp_path,
                        lambda card: card["training_data"].__setitem__("path", "/dev/zero"))
    assert main(["verify", str(copy)]) == 0
    err = capsys.readouterr().err
    assert "the training data at /dev/zero is no longer a regular file; not compared" in err
    (copy / "root").symlink_to("/")
    assert main(["verify", str(copy)]) == 2
    assert "root is a link, which an export never holds" in capsys.readouterr().err


@pytest.mark.parametrize("change, message", [
    (lambda run: run["metrics"].__setitem__("val_accuracy", "high"), "metric val_accuracy expects float"),
    (lambda run: run.__setitem__("metrics", [1, 2]), "metrics expects dict"),
    (lambda run: run.__setitem__("model", 7), "model expects str"),
    (lambda run: run.pop("config"), "has no 'config'"),
])
def test_a_run_json_of_the_wrong_shape_is_one_line(sentiment_run, tmp_path, change, message, capsys):
    copy = tmp_path / "run"
    shutil.copytree(sentiment_run, copy)
    record = json.loads((copy / "run.json").read_text())
    change(record)
    (copy / "run.json").write_text(json.dumps(record))
    assert main(["evaluate", str(copy)]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("change, message", [
    (lambda r: r.__setitem__("value", math.nan), "value must be a finite number"),
    (lambda r: r.__setitem__("epochs", -3), "epochs must be at least 0"),
    (lambda r: r.__setitem__("device", "<script>alert(1)</script>"), "is not a device's name"),
    (lambda r: r.__setitem__("history", ["x"]), "history[0] expects float"),
])
def test_paper_report_refuses_a_record_no_run_writes(tmp_path, change, message, capsys):
    from seqzoo.paper import PaperRun

    folder = tmp_path / "paper" / "runs" / "adding-T8-quick-tcn"
    folder.mkdir(parents=True)
    record = PaperRun("adding", "tcn", 100, "mse", 0.1, 5.8e-5, 8, 2, 1.5, [0.2, 0.1], "finished",
                      "CPU (2 cores)", 4)
    record = record.__dict__.copy()
    change(record)
    (folder / "paper_run.json").write_text(json.dumps(record))
    assert main(["paper", "--report", str(tmp_path / "paper")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_models_config_carries_a_hostile_base_path_as_one_path(tmp_path):
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    from seqzoo.exporters.serving_config import write_models_config

    base = tmp_path / 'x"} config { name: "evil" base_path: "/etc'
    (base / "sentiment" / "1").mkdir(parents=True)
    config = text_format.Parse(write_models_config(base).read_text(),
                               model_server_config_pb2.ModelServerConfig())
    assert [m.name for m in config.model_config_list.config] == ["sentiment"]
    assert config.model_config_list.config[0].base_path == str((base / "sentiment").resolve())


# --- the command line's own edges ------------------------------------------------------------------


def test_workers_without_the_multi_worker_strategy_are_refused(capsys, tmp_path):
    code = main(["train", "sentiment", "--workers", "127.0.0.1:1,127.0.0.1:2", "--task-index", "0",
                 "--out", str(tmp_path / "r")])
    assert code == 2 and capsys.readouterr().err == (
        "seqzoo: error: --workers and --task-index describe a cluster: they take --strategy multi_worker "
        "(this run's strategy is auto)\n")


def test_compare_refuses_an_entry_of_another_task(capsys):
    assert main(["compare", "--task", "sentiment", "--models", "sentiment,char_lm"]) == 2
    assert capsys.readouterr().err == ("seqzoo: error: --task sentiment compares classification entries; "
                                       "char_lm is not one\n")


def test_the_cli_runs_as_a_module():
    done = subprocess.run([sys.executable, "-m", "seqzoo.cli", "list"], capture_output=True, text=True)
    assert done.returncode == 0 and "seq2seq_attn" in done.stdout.split()
