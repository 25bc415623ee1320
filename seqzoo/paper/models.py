"""The paper's models: its TCN for a task, and recurrent baselines sized to the TCN's parameter count
that train with their own learning rate and gradient clipping (`TUNED`, picked by `seqzoo.paper.tuning`)."""

from __future__ import annotations

import keras

from seqzoo.layers.tcn import TCN
from seqzoo.paper.tasks import PaperTask

RECURRENT = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU, "rnn": keras.layers.SimpleRNN}


TUNED: dict[str, dict[str, tuple[float, float | None]]] = {  # task -> model -> (learning rate, clipnorm)
    "adding": {"lstm": (8e-3, 1.0), "gru": (8e-3, 1.0), "rnn": (2e-3, None)},
    "copy_memory": {"lstm": (8e-3, 1.0), "gru": (8e-3, 1.0), "rnn": (2e-3, 1.0)},
    "seq_mnist": {"lstm": (2e-3, 1.0), "gru": (5e-4, 1.0), "rnn": (5e-4, None)},
}
TUNED["permuted_mnist"] = TUNED["seq_mnist"]  # the same digits and models; its grid was not run


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
