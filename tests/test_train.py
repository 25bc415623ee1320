"""Training wiring: the run directory, resuming a killed run exactly, runs that cannot quietly
fail, tensorflow-text tokenizers."""

import csv
import json
import os
import re
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

import seqzoo
from seqzoo.cli import main


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


def test_a_killed_run_resumes_at_its_next_epoch_and_its_learning_rate(sentiment_file, tmp_path):
    # The rate decays by half from epoch 3 on (Zaremba et al.'s schedule); the resumed run's epochs
    # 3 and 4 are at the rates an uninterrupted run would have.
    overrides = {"patience": 10, "lr_decay": 0.5, "lr_decay_after": 2}
    options = dict(preset="tiny", overrides=overrides, epochs=4, out=tmp_path, verbose=0)
    with pytest.raises(KeyboardInterrupt):
        seqzoo.train("sentiment", sentiment_file, callbacks=[StopAfterEpoch(1)], **options)
    assert epochs_logged(tmp_path) == [0, 1]
    assert not (tmp_path / "run.json").exists() and (tmp_path / "backup").is_dir()

    seqzoo.train("sentiment", sentiment_file, **options)
    assert epochs_logged(tmp_path) == [0, 1, 2, 3]
    assert (tmp_path / "run.json").exists()
    rate = seqzoo.get_config("sentiment", "tiny")["compile"]["learning_rate"]
    with open(tmp_path / "history.csv") as file:
        rates = [float(row["learning_rate"]) for row in csv.DictReader(file)]
    np.testing.assert_allclose(rates, [rate, rate, rate / 2, rate / 4], rtol=1e-6)


def test_a_run_stopped_at_its_budget_is_left_unfinished_and_the_same_call_finishes_it(sentiment_file,
                                                                                     tmp_path):
    from seqzoo.training.callbacks import WallClockBudget

    options = dict(preset="tiny", overrides={"patience": 10}, epochs=3, out=tmp_path, verbose=0)
    assert seqzoo.train("sentiment", sentiment_file, callbacks=[WallClockBudget(1e-9)], **options) == tmp_path
    assert epochs_logged(tmp_path) == [0] and not (tmp_path / "run.json").exists()  # the first epoch runs
    seqzoo.train("sentiment", sentiment_file, callbacks=[WallClockBudget(3600)], **options)
    assert epochs_logged(tmp_path) == [0, 1, 2] and (tmp_path / "run.json").exists()


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


# Dropout on: a resumed run must also carry on Keras' dropout seeds to end where an uninterrupted one does.
RESUMED = dict(preset="tiny", epochs=4, verbose=0,
               overrides={"patience": 10, "model.embedding.dropout": 0.3, "model.rnn.dropout": 0.2})
# Runs a training that SIGKILLs itself at one point: a step (a global batch number), inside the
# backup of an epoch (before it is written, or after the weights and before the rename), or
# after training, while the run's figures are computed.
KILLED = """
import os, signal, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import json, keras, numpy as np, seqzoo
from seqzoo.tasks.classification import ClassificationTask
from seqzoo.training.callbacks import RunBackup
data, out, where, at, options = sys.argv[1:4] + [int(sys.argv[4]), json.loads(sys.argv[5])]
die = lambda *args, **kwargs: os.kill(os.getpid(), signal.SIGKILL)
save, savez, calls = RunBackup._save_model, np.savez, []

class AtStep(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.optimizer.iterations.numpy()) == at:
            die()

def before_backup(self):
    die() if self._current_epoch == at else save(self)

def mid_backup(*args, **kwargs):
    calls.append(1)
    die() if len(calls) == at else savez(*args, **kwargs)

RunBackup._save_model = before_backup if where == "before_backup" else save
np.savez = mid_backup if where == "mid_backup" else savez
ClassificationTask.metrics = die if where == "after_training" else ClassificationTask.metrics
seqzoo.train("sentiment", data, out=out, callbacks=[AtStep()] if where == "step" else [], **options)
"""


@pytest.fixture(scope="module")
def uninterrupted(sentiment_file, tmp_path_factory):
    return seqzoo.train("sentiment", sentiment_file, out=tmp_path_factory.mktemp("whole") / "run", **RESUMED)


def weights(run_dir):
    return keras.saving.load_model(run_dir / "model.keras").get_weights()


@pytest.mark.parametrize("where, at", [  # two kill points in the default run, two more in the large tier
    ("step", 5), pytest.param("before_backup", 2, marks=pytest.mark.large), ("mid_backup", 3),
    pytest.param("after_training", 0, marks=pytest.mark.large)])
def test_a_run_killed_anywhere_and_restarted_ends_with_the_uninterrupted_model(
        sentiment_file, uninterrupted, tmp_path, where, at):
    out = tmp_path / "run"
    killed = subprocess.run([sys.executable, "-c", KILLED, str(sentiment_file), str(out), where, str(at),
                             json.dumps(RESUMED)], capture_output=True, text=True)
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert not (out / "run.json").exists()

    seqzoo.train("sentiment", sentiment_file, out=out, **RESUMED)
    for got, expected in zip(weights(out), weights(uninterrupted), strict=True):
        np.testing.assert_array_equal(got, expected)
    assert (out / "history.csv").read_text() == (uninterrupted / "history.csv").read_text()
    assert json.loads((out / "run.json").read_text())["metrics"] == \
        json.loads((uninterrupted / "run.json").read_text())["metrics"]
    assert not (out / "backup").exists()


def test_a_restart_with_other_settings_is_refused_naming_what_changed(sentiment_file, tmp_path):
    options = dict(preset="tiny", overrides={"patience": 10}, epochs=3, out=tmp_path, verbose=0)
    with pytest.raises(KeyboardInterrupt):
        seqzoo.train("sentiment", sentiment_file, callbacks=[StopAfterEpoch(0)], **options)
    with pytest.raises(seqzoo.UserError) as err:
        seqzoo.train("sentiment", sentiment_file, **{**options, "overrides": {"patience": 10, "units": 9}})
    assert str(err.value) == (f"'{tmp_path}' holds an unfinished run started with other settings "
                              "(config.model.rnn.units 8 -> 9); run it again with those settings to resume "
                              "it, or choose another --out")
    other_data = tmp_path.parent / "other.txt"
    other_data.write_text(sentiment_file.read_text() + "__label__pos one more\n")
    size = sentiment_file.stat().st_size
    changed = rf"other settings \(data.bytes {size} -> {size + 22}, data.path"
    with pytest.raises(seqzoo.UserError, match=changed):
        seqzoo.train("sentiment", other_data, **options)
    seqzoo.train("sentiment", sentiment_file, **{**options, "epochs": 4})  # more epochs: resumed
    assert epochs_logged(tmp_path) == [0, 1, 2, 3]


def test_a_diverging_run_stops_with_one_line_and_leaves_nothing_behind(capsys, sentiment_file, tmp_path):
    code = main(["train", "sentiment", "--data", str(sentiment_file), "--preset", "tiny", "--out",
                 str(tmp_path / "new" / "run"), "--set", "optimizer=sgd", "--set", "learning_rate=3e38"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.splitlines()) == 1
    assert re.fullmatch(r"seqzoo: error: training diverged: (the loss|val_loss) became (nan|inf) at .*; "
                        r"likely cause: a learning rate too high \(compile.learning_rate=3e\+38\); "
                        r"the run was not finished\n", err), err
    assert not (tmp_path / "new").exists()


def test_the_divergence_check_names_where_the_loss_stopped_being_a_number():
    from seqzoo.training import NonFiniteLoss
    from seqzoo.training.callbacks import StopOnNonFiniteLoss

    check = StopOnNonFiniteLoss("likely cause: x")
    check.on_epoch_begin(2)
    check.on_batch_end(4, {"loss": 0.7})
    with pytest.raises(NonFiniteLoss, match=r"^training diverged: the loss became nan at epoch 3, step 5; "
                                            r"likely cause: x$"):
        check.on_batch_end(4, {"loss": float("nan")})
    with pytest.raises(NonFiniteLoss, match="val_accuracy became inf at the end of epoch 3"):
        check.on_epoch_end(2, {"loss": 0.5, "val_accuracy": float("inf")})


def test_a_run_that_fails_after_starting_removes_only_what_it_created(sentiment_file, tmp_path):
    (tmp_path / ".seqzoo-run").touch()  # a run folder seqzoo made, where the user keeps a note
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(seqzoo.UserError, match="vector file '.*missing.vec' does not exist"):
        seqzoo.train("sentiment", sentiment_file, preset="tiny", out=tmp_path, verbose=0,
                     overrides={"embeddings.path": str(tmp_path / "missing.vec")})
    assert sorted(p.name for p in tmp_path.iterdir()) == [".seqzoo-run", ".seqzoo-run.lock", "notes.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(seqzoo.UserError, match="missing.vec"):
        seqzoo.train("sentiment", sentiment_file, preset="tiny", out=empty, verbose=0,
                     overrides={"embeddings.path": str(tmp_path / "missing.vec")})
    assert list(empty.iterdir()) == []  # as it was


def test_a_folder_of_the_users_files_is_never_a_run_folder(sentiment_file, tmp_path, capsys):
    (tmp_path / "model.keras").write_text("the user's own model")
    (tmp_path / "logs").mkdir()
    code = main(["train", "sentiment", "--data", str(sentiment_file), "--preset", "tiny",
                 "--out", str(tmp_path)])
    assert code == 2 and capsys.readouterr().err == (
        f"seqzoo: error: '{tmp_path}' holds files seqzoo did not write (it has no .seqzoo-run); choose an "
        "empty or new --out\n")
    assert (tmp_path / "model.keras").read_text() == "the user's own model" and (tmp_path / "logs").is_dir()


def test_a_run_folder_in_use_is_refused_naming_its_holder_and_freed_when_the_holder_dies(sentiment_file,
                                                                                       tmp_path):
    from seqzoo.training.run_folder import claimed

    out = tmp_path / "run"
    with claimed(out), pytest.raises(seqzoo.UserError, match=rf"'{out}' is being written by seqzoo train "
                                                             rf"\(pid {os.getpid()} on "):
        seqzoo.train("sentiment", sentiment_file, preset="tiny", epochs=1, out=out, verbose=0)
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\n"
                               "from seqzoo.training.run_folder import claimed\n"
                               "with claimed(__import__('pathlib').Path(sys.argv[1])):\n"
                               "    print('held', flush=True); time.sleep(600)", str(out)],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "held\n"
    with pytest.raises(seqzoo.UserError, match=f"pid {holder.pid} "):
        seqzoo.train("sentiment", sentiment_file, preset="tiny", epochs=1, out=out, verbose=0)
    holder.kill()  # kill -9: the OS releases the lock
    holder.wait()
    assert (seqzoo.train("sentiment", sentiment_file, preset="tiny", epochs=1, out=out, verbose=0)
            / "run.json").is_file()


def test_a_mistake_in_the_data_creates_no_run_folder(tmp_path):
    (tmp_path / "bad.txt").write_text("no label here\n")
    with pytest.raises(seqzoo.UserError, match="expected '__label__<label> <text>'"):
        seqzoo.train("sentiment", tmp_path / "bad.txt", preset="tiny", out=tmp_path / "run", verbose=0)
    assert not (tmp_path / "run").exists()


def test_a_stopped_early_run_killed_before_its_figures_does_not_train_again(sentiment_file, tmp_path):
    class Killed(Exception):
        pass

    class KillAtEnd(keras.callbacks.Callback):
        def on_train_end(self, logs=None):
            raise KeyboardInterrupt

    options = dict(preset="tiny", overrides={"patience": 0, "learning_rate": 0.5}, epochs=20, out=tmp_path,
                   verbose=0)
    with pytest.raises(KeyboardInterrupt):
        seqzoo.train("sentiment", sentiment_file, callbacks=[KillAtEnd()], **options)
    logged = epochs_logged(tmp_path)
    assert len(logged) < 20  # early stopping ended it
    seqzoo.train("sentiment", sentiment_file, **options)
    assert epochs_logged(tmp_path) == logged


def test_the_python_api_trains_with_seed_0(sentiment_file, tmp_path):
    # keras.utils.set_random_seed(0) once made tf.data test a tensor seed as a Python bool.
    run = seqzoo.train("sentiment", sentiment_file, preset="tiny", overrides={"seed": 0}, epochs=2,
                       out=tmp_path / "run", verbose=0)
    assert json.loads((run / "run.json").read_text())["config"]["train"]["seed"] == 0
    assert epochs_logged(run) == [0, 1]
