"""The paper's runs: each (task, model) trained resumably under `<out>/runs`, scored on the task's test
set with its best checkpoint, and read back as the table so far (`report`)."""

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
import tensorflow as tf

from seqzoo.errors import UserError, check_choice
from seqzoo.files import read_json, regular_file, write_json
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
from seqzoo.schema import Rule, check_record, size

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
        with open(regular_file(path, f"run folder '{folder}' is damaged: history.csv", 64 << 20), newline="",
                  encoding="utf-8") as file:
            rows = [{key: float(value) for key, value in row.items()} for row in csv.DictReader(file)]
    except (ValueError, TypeError, AttributeError, csv.Error) as err:
        raise UserError(f"run folder '{folder}' is damaged: history.csv: {err}") from None
    for number, row in enumerate(rows, start=2):
        if "val_loss" not in row or not all(math.isfinite(value) for value in row.values()) \
                or row.get("epoch", 0) < 0:
            raise UserError(f"run folder '{folder}' is damaged: history.csv:{number}: a number that is not "
                            "finite, or a negative epoch")
    return rows


# What paper_run.json holds, checked when it is read back: a table is rendered from it.
STATUSES = ("finished", "stopped early", "stopped at the budget", "not started")
RUN_FIELDS = {
    "task": Rule(str, choices=tuple(PUBLISHED)), "model": Rule(str, choices=MODELS),
    "parameters": Rule(int, minimum=0),
    "metric": Rule(str, choices=("mse", "loss", "accuracy", "nll", "bpc", "ppl")),
    "value": Rule(float, nullable=True), "published": Rule(float), "T": Rule(int, minimum=0),
    "epochs": Rule(int, minimum=0), "seconds": Rule(float, minimum=0.0),
    "history": Rule(list, item=Rule(float)),
    "status": Rule(str, choices=STATUSES), "device": Rule(str), "max_epochs": Rule(int, minimum=0),
}
DEVICE = re.compile(r"[\w .,()+@/:-]{0,120}")  # a GPU's or a CPU's name: nothing a table would render


def read_run(folder: Path) -> PaperRun:
    """A finished run's record, checked field by field; UserError naming the folder and the field
    when it is unreadable or holds what no run writes (NaN, negative epochs, markup)."""
    what = f"run folder '{folder}' is damaged: {RECORD}"
    record = check_record(read_json(folder / RECORD, what), RUN_FIELDS, what)
    if not DEVICE.fullmatch(record["device"]):
        raise UserError(f"{what}: device {record['device']!r} is not a device's name")
    return PaperRun(**{name: record[name] for name in RUN_FIELDS})


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
        row = next((row for row in ZOO_ROWS if folder.name.startswith(f"{row}_")), None)
        if row is not None:  # a `seqzoo train` run of a zoo entry, in progress
            kind, history = folder.name.removeprefix(f"{row}_"), _history(folder)
            if kind not in MODELS:
                raise UserError(f"run folder '{folder}' is not a paper run (expected {row}_<model>)")
            runs.append(PaperRun(row, kind, 0, ZOO_ROWS[row].metric, None, PUBLISHED[row].get(kind, math.nan),
                                 0, len(history), 0.0, [r["val_loss"] for r in history],
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


# A backup's settings.json: the task as the run had it (but its epochs), and its seed.
SIZES = ("T", "train", "test", "kernel_size", "levels", "filters", "batch_size")
TASK_FIELDS = {**{name: Rule(str) for name in ("name", "metric", "optimizer")},
               **{name: Rule(int, minimum=1) for name in SIZES},
               "learning_rate": Rule(float, above=0.0), "dropout": Rule(float, minimum=0.0, below=1.0),
               "clipnorm": Rule(float, above=0.0, nullable=True), "patience": Rule(int, minimum=0)}


def _saved_settings(folder: Path) -> dict | None:
    """The settings of an unfinished run's last backup, checked as data; None without a backup."""
    backups = sorted((folder / "backup").glob("epoch-*"))
    if not backups:
        return None
    what = f"run folder '{folder}' is damaged: {backups[-1].name}/settings.json"
    settings = check_record(read_json(backups[-1] / "settings.json", what),
                            {"task": Rule(dict), "seed": Rule(int, minimum=0)}, what)
    task = check_record(settings["task"], TASK_FIELDS, f"{what}'s task")
    if set(task) != set(TASK_FIELDS) or task["name"] not in TASKS:
        raise UserError(f"{what}: its task is not one of the paper's")
    return settings


def device() -> str:
    """What trains here: the first GPU's name, else the CPU and its cores."""
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        return tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU")
    return f"CPU ({os.cpu_count()} cores)"


@dataclass(frozen=True)
class ZooRow:
    """A row of the table run through the zoo's own entries and `seqzoo.train` (resumable, early
    stopping on the validation loss, the test figure from the best checkpoint): each model an entry
    (with overrides) whose width (`width_key`) is matched to the TCN's parameter count."""

    entries: dict  # model -> (entry, overrides)
    width_key: str  # what is widened to match the TCN's size
    metric: str
    data: str | None  # the entries' data (None: the task's default, or the caller's)
    overrides: dict = field(default_factory=dict)  # for every model (before the widths are matched)
    quick: dict = field(default_factory=dict)  # --quick's overrides and epochs
    tcn: dict = field(default_factory=dict)  # the TCN's own size


PTB_WORDS = {"text.tokenizer": "word", "text.lowercase": False, "text.strip_punctuation": False,
             "text.max_tokens": 10_002}
ZOO_ROWS = {
    # JSB Chorales: music21's Bach chorales, transposed to C major / C minor as JSB is. --quick: 3 epochs.
    "jsb": ZooRow({kind: (f"{kind}_music", {}) for kind in MODELS}, "model.rnn.units", "nll", None,
                  {"music.transpose": "c"}, {"epochs": JSB_QUICK_EPOCHS}),
    # Character-level Penn Treebank (Mikolov's split): TCN, LSTM, GRU and RNN at the TCN's 3M
    # weights, the test file's bits per character. --quick: about 200k weights, one epoch.
    # The recurrent rows read windows from zero states, as the TCN does (char_lm's default carries them).
    "ptb_char": ZooRow({"tcn": ("tcn_lm", {}),
                        **{kind: ("char_lm", {"model.rnn.cell": cell, "train.carry_state": False})
                           for kind, cell in (("lstm", "lstm"), ("gru", "gru"), ("rnn", "simple_rnn"))}},
                       "model.rnn.units", "bpc", "ptb_char", {},
                       {"epochs": 1, "model.tcn.filters": 64}, {"model.tcn.filters": 290}),
    # Word-level Penn Treebank: the words as the files have them (<unk>, N, punctuation), 9,999 of them
    # + padding, OOV and [BOS] (which ends each sentence as <eos> does); the test file's perplexity.
    # The TCN is the paper's (600 channels and embedding, 4 levels, kernel 3, dropout 0.45 and 0.25,
    # windows of 80) without its tied softmax: 21M weights where the paper's are 13M. Every model embeds
    # words in 600 dimensions. --quick: 64-dimensional embeddings, a TCN 64 wide, one epoch.
    "ptb_word": ZooRow({"tcn": ("tcn_lm", PTB_WORDS),
                        **{kind: ("word_lm", {**PTB_WORDS, "model.rnn.cell": cell})
                           for kind, cell in (("lstm", "lstm"), ("gru", "gru"), ("rnn", "simple_rnn"))}},
                       "model.rnn.units", "ppl", "ptb_word",
                       {"train.seq_len": 80, "model.embedding.dim": 600},
                       {"epochs": 1, "model.tcn.filters": 64, "model.embedding.dim": 64},
                       {"model.tcn.filters": 600, "model.tcn.dilations": [1, 2, 4, 8],
                        "model.tcn.dropout": 0.45, "model.embedding.dropout": 0.25}),
}


def run_zoo_row(row: str, models=MODELS, *, quick: bool = False, epochs: int | None = None,
                out: str | Path = "paper", data: str | Path | None = None, budget: float = math.inf,
                verbose: int = 0) -> list[PaperRun]:
    """A `ZOO_ROWS` row (`jsb`, `ptb_char`, `ptb_word`): each model trained into `<out>/runs/<row>_<model>`. A
    finished run there is read back, an unfinished one resumed, and `budget` (seconds, all models)
    stops one cleanly: the row can be built over several invocations."""
    import seqzoo
    from seqzoo.training.callbacks import WallClockBudget
    from seqzoo.training.run_folder import run_record

    spec = ZOO_ROWS[row]
    if not models:
        raise UserError(f"name at least one model ({', '.join(MODELS)})")
    for kind in models:
        check_choice("model", kind, MODELS)
    if epochs is not None:
        size().check("epochs", epochs, what="")
    quick_overrides = {k: v for k, v in spec.quick.items() if k != "epochs"} if quick else {}
    epochs = epochs if epochs is not None else (spec.quick.get("epochs") if quick else None)
    data = data if data is not None else spec.data

    def settings(kind: str) -> tuple[str, dict]:
        """A model's entry and overrides: its own, the row's, the TCN's size, --quick's (the TCN's
        keys for the TCN alone)."""
        entry, overrides = spec.entries[kind]
        quick_ = {k: v for k, v in quick_overrides.items() if kind == "tcn" or not k.startswith("model.tcn.")}
        return entry, {**overrides, **spec.overrides, **(spec.tcn if kind == "tcn" else {}), **quick_}

    tcn_entry, tcn_size = settings("tcn")
    target = seqzoo.build(tcn_entry, **tcn_size).count_params()
    deadline = time.monotonic() + budget
    runs = []
    for kind in models:
        entry, overrides = settings(kind)
        if kind != "tcn":
            overrides[spec.width_key] = nearest_width(
                lambda units, entry=entry, overrides=overrides: seqzoo.build(
                    entry, **{**overrides, spec.width_key: units}).count_params(), target)
        parameters = seqzoo.build(entry, **overrides).count_params()
        run_dir = Path(out) / "runs" / f"{row}_{kind}"
        if (run_dir / RECORD).is_file():
            runs.append(read_run(run_dir))
            continue
        start, seconds = time.perf_counter(), deadline - time.monotonic()
        if seconds > 0:
            seqzoo.train(entry, data, overrides=overrides, epochs=epochs, out=run_dir, verbose=verbose,
                         callbacks=[WallClockBudget(seconds)])
        history = [row_["val_loss"] for row_ in _history(run_dir)]
        if not (run_dir / "run.json").is_file():  # stopped at the budget, or not started
            status = "stopped at the budget" if history else "not started"
            runs.append(PaperRun(row, kind, parameters, spec.metric, None, PUBLISHED[row][kind], 0,
                                 len(history), 0.0, history, status, device()))
            continue
        record = PaperRun(row, kind, parameters, spec.metric, _test_figure(row, run_dir, run_record(run_dir)),
                          PUBLISHED[row][kind], 0, len(history), round(time.perf_counter() - start, 1),
                          history, "finished", device())
        write_json(run_dir / RECORD, asdict(record))
        runs.append(record)
    return runs


def run_jsb(models=MODELS, **options) -> list[PaperRun]:
    """The JSB Chorales row: `tcn_music`, `lstm_music`, `gru_music`, `rnn_music` (`run_zoo_row`)."""
    return run_zoo_row("jsb", models, **options)


def _test_figure(row: str, run_dir: Path, run: dict) -> float:
    """A finished run's test figure: JSB's NLL per frame (in run.json), PTB's test bits per character or
    test perplexity."""
    if row in ("ptb_char", "ptb_word"):
        import seqzoo

        metrics = seqzoo.evaluate_run(run_dir, row)
        return metrics["bits_per_character" if row == "ptb_char" else "perplexity"]
    if "test_nll_per_frame" not in run["metrics"]:
        raise UserError(f"run directory '{run_dir}' is damaged: run.json has no test_nll_per_frame")
    return run["metrics"]["test_nll_per_frame"]
