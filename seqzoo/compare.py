"""`seqzoo compare`: entries on one task, at matched size and a fixed CPU budget, in one table."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from seqzoo.config import locate
from seqzoo.data.batching import steps_per_epoch
from seqzoo.errors import UserError
from seqzoo.registry import get_entry
from seqzoo.schema import Rule
from seqzoo.tasks import get_task
from seqzoo.tasks.base import ReadOptions
from seqzoo.zoo import build_from_config, get_config

# The config key that sets each entry's width: searched to match parameter counts.
WIDTH_KEYS = {
    "sentiment": "units", "bilstm": "units", "deep_rnn": "units", "transformer": "ff_dim",
    "char_lm": "units", "word_lm": "units", "transformer_lm": "ff_dim",
    "bilstm_tagger": "units", "deep_rnn_tagger": "units", "tcn": "filters", "tcn_lm": "filters",
    "tcn_tagger": "filters",
}
# The figure each task is compared on (None: the task's own first extra metric).
METRICS = {"classification": "val_accuracy", "language_model": None, "tagging": "val_f1"}


@dataclass
class Row:
    name: str
    parameters: int
    train_tokens_per_second: float
    inference_tokens_per_second: float
    metric: str
    value: float


class _Budget(keras.callbacks.Callback):
    """Stops training after `seconds`; counts the steps after the first (which traces)."""

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds = seconds

    def on_train_begin(self, logs=None):
        self.start, self.warm, self.steps = time.perf_counter(), None, 0

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        if self.warm is None:
            self.warm = now
        else:
            self.steps += 1
        if now - self.start > self.seconds and self.steps:  # at least one timed step
            self.model.stop_training = True
            self.end = now

    def on_train_end(self, logs=None):
        self.end = getattr(self, "end", time.perf_counter())


def compare(names: list[str], data: str | Path | None = None, preset: str = "small",
            budget: float = 30.0, parameters: int | None = None) -> list[Row]:
    """Trains each entry for `budget` seconds at about `parameters` weights (default:
    the first entry's `preset` size) on one task's data, and measures it.

    Token rates count non-padding tokens and leave out the first (tracing) step.
    """
    if not names:
        raise UserError("compare needs at least one entry (--models a,b,...)")
    budget = Rule(float, above=0.0).check("budget", budget, what="")
    if parameters is not None:
        parameters = Rule(int, minimum=1).check("parameters", parameters, what="")
    tasks = {get_entry(name).task for name in names}
    if len(tasks) != 1:
        raise UserError(f"compare needs entries of one task; got {', '.join(sorted(tasks))}")
    task = get_task(tasks.pop())
    unknown = [name for name in names if name not in WIDTH_KEYS]
    if unknown:
        raise UserError(f"compare does not know how to size {', '.join(unknown)}")
    data = Path(data) if data is not None else task.default_data()
    rows = []
    for name in names:
        config = get_config(name, preset)
        if "carry_state" in config["train"]:  # one protocol for all: windows from zero states, as a TCN reads
            config["train"]["carry_state"] = False
        prepared = task.prepare(config, data, ReadOptions())
        if parameters is None:
            parameters = build_from_config(name, config).count_params()
        config = _matched(name, config, parameters)
        keras.utils.set_random_seed(config["train"]["seed"])
        model = build_from_config(name, config)
        stopwatch = _Budget(budget)
        model.fit(prepared.train, epochs=10_000, callbacks=[stopwatch], verbose=0, shuffle=False)
        tokens_per_step = _tokens(prepared.train) / steps_per_epoch(prepared.examples,
                                                                    config["train"]["batch_size"])
        train_rate = stopwatch.steps * tokens_per_step / max(stopwatch.end - stopwatch.warm, 1e-9)
        model.predict(prepared.validation.take(1), verbose=0)  # trace before timing
        start = time.perf_counter()
        model.predict(prepared.validation, verbose=0)
        inference_rate = _tokens(prepared.validation) / (time.perf_counter() - start)
        metrics = task.metrics(model, prepared.validation, prepared.meta)
        metric = METRICS[task.name] or next(k for k in metrics
                                            if k in ("val_bits_per_character", "val_perplexity"))
        rows.append(Row(name, model.count_params(), train_rate, inference_rate, metric,
                        metrics[metric]))
    return rows


def table(rows: list[Row], budget: float) -> str:
    """The comparison as a markdown table; a size that could not come within 5% of the
    first entry's is marked with *."""
    lines = [f"| entry | parameters | train tokens/s | inference tokens/s | held-out metric "
             f"after {budget:g} s |", "|---|---|---|---|---|"]
    target = rows[0].parameters
    for r in rows:
        mark = "*" if abs(r.parameters - target) > 0.05 * target else ""
        metric = r.metric.removeprefix("val_").replace("_", " ")
        lines.append(f"| {r.name} | {r.parameters:,}{mark} | {r.train_tokens_per_second:,.0f} | "
                     f"{r.inference_tokens_per_second:,.0f} | {metric} {r.value:.3f} |")
    return "\n".join(lines)


def _matched(name: str, config: dict, target: int) -> dict:
    """The config whose width key gives the parameter count nearest `target`."""
    path = locate(config, WIDTH_KEYS[name])

    def size(width: int) -> int:
        trial = copy.deepcopy(config)
        _set(trial, path, width)
        return build_from_config(name, trial).count_params()

    low, high = 1, 2048
    while low < high:  # parameters grow with width: the smallest width reaching the target
        middle = (low + high) // 2
        low, high = (middle + 1, high) if size(middle) < target else (low, middle)
    best = min((low - 1, low), key=lambda w: abs(size(w) - target) if w >= 1 else np.inf)
    _set(config, path, best)
    return config


def _set(config: dict, path: list[str], value) -> None:
    for part in path[:-1]:
        config = config[part]
    config[path[-1]] = value


def _tokens(dataset) -> int:
    return int(sum(np.count_nonzero(x) for x, _ in dataset))

