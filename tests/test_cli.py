"""The `seqzoo` command: what a user types, what they read, and exit code 2 for mistakes."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from command import cli

import seqzoo
from seqzoo.cli import main


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_prints_the_entries(capsys):
    code, out, _ = run_cli(capsys, "list")
    assert code == 0 and "sentiment" in out.split()


def test_config_prints_the_merged_config_as_yaml(capsys):
    code, out, _ = run_cli(capsys, "config", "sentiment", "--preset", "tiny", "--set", "rnn.units=3")
    assert code == 0
    assert yaml.safe_load(out)["model"]["rnn"]["units"] == 3


def test_train_export_predict(capsys, sentiment_file, tmp_path):
    code, out, _ = run_cli(capsys, "train", "sentiment", "--data", str(sentiment_file),
                           "--preset", "tiny", "--set", "rnn.cell=gru", "--out", str(tmp_path / "run"))
    assert code == 0 and out.splitlines()[-1].startswith(f"run: {tmp_path / 'run'}  val_accuracy=")
    assert json.loads((tmp_path / "run" / "run.json").read_text())["config"]["model"]["rnn"]["cell"] == "gru"

    code, out, _ = run_cli(capsys, "export", str(tmp_path / "run"), "--base", str(tmp_path / "sm"),
                           "--quantize", "float16")
    assert code == 0 and f"exported: {tmp_path / 'sm' / 'sentiment' / '1'}" in out
    table = out.split("held-out inputs, batch 1:\n")[1].splitlines()
    assert table[0] == "| file | size | vs float32 | ms / input | vs float32 | agreement with float32 |"
    assert table[2].startswith("| float32 | ") and table[3].startswith("| float16 | ")
    assert re.search(r" \| label_agreement 1, max_probability_difference 0(\.00\d+)? \|$", table[3]), table[3]

    code, out, _ = run_cli(capsys, "predict", str(tmp_path / "sm" / "sentiment"), "--json",
                           "a gorgeous film", "dull and tedious")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["text"] for r in rows] == ["a gorgeous film", "dull and tedious"]
    assert all(set(r["probabilities"]) == {"neg", "pos"} for r in rows)

    code, tflite_out, _ = run_cli(capsys, "predict", str(tmp_path / "sm" / "sentiment"), "--tflite",
                                  "a gorgeous film")
    label, probability, text = tflite_out.strip().split("\t")
    assert code == 0 and text == "a gorgeous film" and label == rows[0]["label"]
    assert float(probability) == pytest.approx(rows[0]["probability"], abs=1e-3)


def test_training_into_a_finished_run_is_refused(capsys, sentiment_run):
    code, _, err = run_cli(capsys, "train", "sentiment", "--out", str(sentiment_run))
    assert code == 2
    assert err == f"seqzoo: error: '{sentiment_run}' already holds a finished run; choose another --out\n"


@pytest.mark.parametrize("argv, message", [
    (["config", "sentimnt"], "unknown model 'sentimnt'; did you mean 'sentiment'?"),
    (["config", "sentiment", "--set", "unitz=3"], "unknown config key 'unitz'; did you mean 'units'?"),
    (["train", "sentiment", "--data", "{tmp}/nope.txt"], "data file '{tmp}/nope.txt' does not exist"),
    (["train", "sentiment", "--data", "{tmp}/empty.txt"],
     "data file '{tmp}/empty.txt' has no labelled examples"),
    (["train", "sentiment", "--data", "{tmp}/a.csv", "--label-column", "stars"],
     "{tmp}/a.csv: no column 'stars'; valid: label, text"),
    (["export", "{tmp}"], "'{tmp}' is not a finished run directory (no run.json)"),
    (["predict", "{tmp}", "film"], "'{tmp}' holds no exported versions (expected {tmp}/<n>/)"),
])
def test_user_mistakes_exit_2_with_one_line(capsys, tmp_path, argv, message):
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "a.csv").write_text("text,label\nfilm,pos\n")
    code, out, err = run_cli(capsys, *[a.format(tmp=tmp_path) for a in argv])
    assert code == 2
    assert err == f"seqzoo: error: {message.format(tmp=tmp_path)}\n"


def test_export_to_an_unwritable_base_exits_2(capsys, sentiment_run, tmp_path):
    (tmp_path / "file").write_text("")
    code, _, err = run_cli(capsys, "export", str(sentiment_run), "--base", str(tmp_path / "file"))
    assert code == 2
    assert err == f"seqzoo: error: export base '{tmp_path / 'file'}' is not writable: Not a directory\n"


def test_the_installed_command_exits_2_on_a_mistake():
    result = subprocess.run(["seqzoo", "config", "sentimnt"], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr == "seqzoo: error: unknown model 'sentimnt'; did you mean 'sentiment'?\n"
    assert "tensorflow" not in subprocess.run(  # a config is YAML: no TensorFlow to wait for
        [sys.executable, "-X", "importtime", "-m", "seqzoo.cli", "config", "sentiment"], capture_output=True,
        text=True).stderr


def test_every_registered_entry_has_its_config_and_no_config_lacks_an_entry():
    from seqzoo.config import entry_names

    assert entry_names() == seqzoo.list_models()


def test_ctrl_c_while_tensorflow_starts_is_one_line_and_exit_130(tmp_path):
    import signal
    import time

    # The console script beside this Python, not a version manager's shim (pyenv's is a bash script, and
    # bash swallows a SIGINT that lands while it waits on a command substitution). The child starts with
    # SIGINT at its default and unblocked, as from a shell: twice in the full suite (never alone, nor
    # under CPU load) the signal was lost and the training ran on (exit 0), which a SIGINT ignored or
    # blocked in the worker, and inherited, would explain; the message says what the worker had.
    installed = Path(sys.executable).parent / "seqzoo"
    argv = [str(installed) if installed.is_file() else "seqzoo", "train", "sentiment", "--preset", "tiny",
            "--out", str(tmp_path / "r")]

    def as_from_a_shell():
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})

    worker = [line for line in Path("/proc/self/status").read_text().splitlines()
              if line.startswith(("SigBlk", "SigIgn"))] if Path("/proc/self/status").exists() else []
    command = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, preexec_fn=as_from_a_shell)
    time.sleep(1.0)  # the Python start-up (0.2 s) is done; TensorFlow's import (seconds) is not
    command.send_signal(signal.SIGINT)
    assert command.wait(timeout=60) == 130, f"worker: {signal.getsignal(signal.SIGINT)}, {worker}"
    assert command.stderr.read() == "seqzoo: interrupted\n"


def demo(*args, cwd):
    return cli("demo", *args, cwd=cwd)


def test_demo_of_another_entry_trains_exports_and_predicts_from_both_runtimes(tmp_path):
    result = demo("--entry", "sentiment", "--epochs", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "== training sentiment (small preset) on its offline data" in result.stdout
    assert "== predictions from the saved model" in result.stdout
    assert "== predictions from the tflite" in result.stdout
    assert (tmp_path / "saved_models" / "sentiment" / "1" / "sentiment.tflite").is_file()
    assert (tmp_path / "saved_models" / "models.config").is_file()
    assert (tmp_path / "runs" / "sentiment" / "run.json").is_file()
    assert "serve it: tensorflow_model_server --model_config_file=" in result.stdout
    from browser import web_runtime_missing

    if web_runtime_missing():  # the demo says how to get a browser page
        assert "for a page that runs it in a browser: seqzoo web --fetch-runtime" in result.stdout
    else:
        assert "try it in a browser: seqzoo web " in result.stdout
        assert (tmp_path / "saved_models" / "sentiment" / "1" / "web" / "index.html").is_file()


def test_demo_lists_every_entry_with_what_it_shows_the_translator_first():
    from seqzoo.demo import demos

    rows = demos()
    assert rows[0] == ("seq2seq_attn", "translation", "dates in 8 languages -> ISO, SavedModel and TFLite")
    assert sorted(name for name, _, _ in rows) == seqzoo.list_models()


@pytest.mark.slow
@pytest.mark.parametrize("entry, shown", [
    ("char_lm", "== generated by the SavedModel"), ("bilstm_tagger", "== tagged by the SavedModel"),
    ("show_tell", "== captions of held-out digit scenes"), ("tcn_music", "chorale.mid"),
    ("wavenet", "sample.wav"),
])
def test_every_family_has_a_demo(entry, shown, tmp_path):
    result = demo("--entry", entry, "--epochs", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert shown in result.stdout


@pytest.mark.slow
def test_the_default_demo_translates_dates_from_both_runtimes_within_three_minutes(tmp_path):
    import json
    import time

    started = time.perf_counter()  # the user's command, TensorFlow's import included
    result = subprocess.run([sys.executable, "-m", "seqzoo.cli", "demo"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=600)
    took = time.perf_counter() - started
    assert result.returncode == 0, result.stderr[-2000:]
    metrics = json.loads((tmp_path / "runs/seq2seq_attn/run.json").read_text())["metrics"]
    assert metrics["val_exact_match"] >= 0.95, metrics
    assert "  1989-07-14   le 14 juillet 1989" in result.stdout, result.stdout
    assert (tmp_path / "attention.png").read_bytes()[:4] == b"\x89PNG"
    assert took < 180, took


def cli_error(capsys, *argv):
    """(exit code, stderr) of a command that fails, in argparse or in seqzoo."""
    try:
        code = main(list(argv))
    except SystemExit as exited:
        code = exited.code
    return code, capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["train", "sentiment", "--epochs", "many"],
     "seqzoo train: error: argument --epochs: invalid int value: 'many' (see seqzoo train --help)"),
    (["train", "sentiment", "--epochs", "0"],
     "seqzoo: error: config key 'train.epochs' must be at least 1, got 0"),
    (["frobnicate"], "seqzoo: error: argument COMMAND: invalid choice: 'frobnicate'"),
    (["train", "sentiment", "--set", "rnn.dropout=1.5"],
     "seqzoo: error: config key 'model.rnn.dropout' must be in [0, 1), got 1.5"),
])
def test_argument_mistakes_are_one_line_with_exit_2(capsys, argv, message):
    code, err = cli_error(capsys, *argv)
    assert code == 2
    assert len(err.splitlines()) == 1 and err.startswith(message), err


def test_texts_that_are_not_utf8_are_replaced_and_named(capsys, exported_sentiment):
    code, out, err = run_cli(capsys, "predict", str(exported_sentiment), "--json", "a gorgeous film",
                             "caf\udcff film")  # what Python makes of the argv bytes b'caf\xff film'
    assert code == 0
    assert [json.loads(line)["text"] for line in out.splitlines()] == ["a gorgeous film", "caf\ufffd film"]
    assert err == ("seqzoo: note: TEXT 2 is not valid UTF-8; its invalid bytes were replaced with "
                   "U+FFFD\n")


@pytest.mark.parametrize("argv, message", [
    (["export", "{run}", "--name", "../../etc"],
     "export name '../../etc' is not a folder name TF Serving can serve"),
    (["export", "{run}", "--name", ""], "export name '' is not a folder name TF Serving can serve"),
    (["export", "{run}", "--quantize", "float16,int4"],
     "unknown quantization 'int4': choose from float16, dynamic, int8"),
    (["train", "sentiment", "--text-column", "review"], "column names apply to CSV/TSV files; "),
    (["train", "sentiment", "--set", "units=[1,2"], "--set units: cannot parse value '[1,2': expected ',' or "
                                                    "']', but got '<stream end>'"),
    (["train", "sentiment", "--set", "embeddings.format=xml"], "unknown vector format 'xml'; valid: auto, "),
    (["compare", "--task", "sentiment", "--budget", "nan"], "budget must be a finite number, got nan"),
    (["paper", "--task", "adding", "--T", "0"], "T must be at least 2, got 0"),
    (["embeddings", "train", "--out", "{tmp}/v.vec", "--dim", "0"], "dim must be at least 1, got 0"),
    (["train", "sentiment", "--data", "/proc/self/mem"], "cannot read data file '/proc/self/mem': "
                                                         "Input/output error"),
])
def test_mistakes_found_by_probing_the_cli_are_one_line(capsys, sentiment_run, tmp_path, argv, message):
    code, err = cli_error(capsys, *[a.format(run=sentiment_run, tmp=tmp_path) for a in argv])
    assert code == 2
    assert err.startswith(f"seqzoo: error: {message}") and len(err.splitlines()) == 1, err


def test_a_misspelt_precision_is_refused_before_any_data_is_read(capsys, tmp_path):
    code, _, err = run_cli(capsys, "train", "sentiment", "--precision", "mixed_f16", "--data",
                           str(tmp_path / "absent.txt"))
    assert code == 2 and err.strip() == ("seqzoo: error: config key 'train.precision' has no choice "
                                         "'mixed_f16'; did you mean 'mixed_float16'?")
