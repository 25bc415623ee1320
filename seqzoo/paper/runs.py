"""The paper's runs: each (task, model) trained resumably under `<out>/runs`, scored on the task's test
set with its best checkpoint, and read back as the table so far (`report`)."""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import keras
import tensorflow as tf

from seqzoo.errors import UserError, check_choice
from seqzoo.files import write_json
from seqzoo.paper.models import build, compiled, matched_width, nearest_width, training_settings
from seqzoo.paper.tasks import (
    MODELS,
    PUBLISHED,
    QUICK,
    TASKS,
    PaperTask,
    task_data,
    test_data,
    validation_split,
)
from seqzoo.schema import size

RECORD = "paper_run.json"  # a finished run's PaperRun, in its folder under <out>/runs


# JSB Chorales runs the zoo's music entries (`<model>_music`) through `seqzoo.train`: resumable,
# early stopping on validation NLL, the test figure from the best checkpoint. --quick: 3 epochs.
JSB_QUICK_EPOCHS = 3


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
    task, (train, validation, test), target = setup(name, models, quick, T, epochs, mnist_path, seed)
    deadline = time.monotonic() + budget
    runs = []
    for kind in models:
        width = None if kind == "tcn" else matched_width(kind, task, train[0].shape[-1], target)
        folder = Path(out) / "runs" / run_name(task, kind, quick)
        runs.append(_resumable_run(task, kind, width, folder, train, validation, test, seed,
                                   deadline - time.monotonic(), verbose))
    return runs


def setup(name: str, models, quick: bool, T: int | None, epochs: int | None, mnist_path, seed: int):
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


def run_name(task: PaperTask, kind: str, quick: bool) -> str:
    return "-".join([task.name, *([] if task.name.endswith("mnist") else [f"T{task.T}"]),
                     *(["quick"] if quick else []), kind])


def _resumable_run(task: PaperTask, kind: str, width: int | None, folder: Path, train, validation, test,
                   seed: int, seconds: float, verbose: int) -> PaperRun:
    from seqzoo.data.batching import batches, steps_per_epoch
    from seqzoo.training.callbacks import (
        BestModelCheckpoint,
        RunBackup,
        StopOnNonFiniteLoss,
        WallClockBudget,
    )
    from seqzoo.training.run_folder import trim_history

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
