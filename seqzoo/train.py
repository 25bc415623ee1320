"""Fit wiring: data -> vectorizer -> model -> Keras fit with resumable callbacks -> run dir.

A run directory holds everything `seqzoo export` needs:
    run.json         entry name, merged config, the task's meta (label names, ...), metrics,
                     held-out texts
    vectorizer.json  the adapted vectorizer (its config, vocabulary included)
    model.keras      the best model so far (lowest validation loss)
    history.csv, logs/ (TensorBoard), backup/ (only while a run is unfinished)
"""

from __future__ import annotations

import collections
import inspect
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras

from seqzoo.embeddings.pretrained import pretrained_from_config
from seqzoo.errors import UserError
from seqzoo.files import write_json
from seqzoo.registry import get_entry
from seqzoo.tasks import get_task
from seqzoo.text import Vectorizer
from seqzoo.zoo import build_from_config, get_config

HELDOUT_TEXTS_KEPT = 64


@dataclass
class Run:
    """A trained entry loaded back from its run directory."""

    path: Path
    name: str
    config: dict
    meta: dict  # the task's serving metadata: label names, ...
    metrics: dict[str, float]
    heldout_texts: list[str]
    model: keras.Model
    vectorizer: Vectorizer


def train(
    name: str,
    data: str | Path | None = None,
    *,
    preset: str | None = None,
    overrides: dict[str, Any] | None = None,
    epochs: int | None = None,
    out: str | Path | None = None,
    callbacks: list[keras.callbacks.Callback] | None = None,
    verbose: int | str = "auto",
    **read_options,
) -> Path:
    """Trains a zoo entry on a data file and returns its run directory.

    `data` defaults to the entry's task's offline corpus; `read_options` go to
    its reader (`text_column`, `label_column` for tables). An unfinished run in
    `out` (killed mid-way) resumes from its last epoch. Without `out`, the run
    goes to `runs/<name>`, or `runs/<name>-2`, ... when that holds a finished
    run. `callbacks` run after seqzoo's own (backup, checkpoint, early stopping,
    CSV and TensorBoard logs).
    """
    task = get_task(get_entry(name).task)
    overrides = {**(overrides or {}), **({"train.epochs": epochs} if epochs is not None else {})}
    config = get_config(name, preset, **overrides)
    settings = config["train"]
    run_dir = _run_dir(name, out)
    data = Path(data) if data is not None else task.default_data()
    try:
        inspect.signature(task.prepare).bind(config, data, **read_options)
    except TypeError:
        raise UserError(f"{name} data takes no option {', '.join(read_options)} "
                        f"({task.name} reads plain text)") from None
    prepared = task.prepare(config, data, **read_options)

    keras.utils.set_random_seed(settings["seed"])
    pretrained = None
    if config.get("embeddings", {}).get("path") is not None:
        vectorizer = prepared.vectorizer
        counts = collections.Counter(
            token.decode("utf-8")
            for row in vectorizer.tokenize(prepared.train_texts).to_list() for token in row
        )
        pretrained, report = pretrained_from_config(
            config["embeddings"], vectorizer, token_counts=counts, seed=settings["seed"]
        )
        if verbose:
            print("\n".join(report.lines()))
    model = build_from_config(name, config, pretrained)
    model.fit(
        prepared.train,
        validation_data=prepared.validation,
        epochs=settings["epochs"],
        callbacks=_callbacks(run_dir, settings["patience"]) + list(callbacks or []),
        shuffle=False,  # the dataset reshuffles itself, seeded
        verbose=verbose,
    )
    best = keras.saving.load_model(run_dir / "model.keras", safe_mode=True)
    write_json(run_dir / "vectorizer.json", prepared.vectorizer.get_config())
    write_json(run_dir / "run.json", {
        "model": name,
        "config": config,
        "meta": prepared.meta,
        "metrics": task.metrics(best, prepared.validation, prepared.meta),
        "heldout_texts": prepared.heldout_texts[:HELDOUT_TEXTS_KEPT],
        "data": str(data),
    })
    return run_dir


def load_run(path: str | Path) -> Run:
    """The model, vectorizer and metadata of a finished run directory."""
    path = Path(path)
    if not (path / "run.json").is_file():
        raise UserError(f"'{path}' is not a finished run directory (no run.json)")
    meta = json.loads((path / "run.json").read_text())
    vectorizer = Vectorizer.from_config(json.loads((path / "vectorizer.json").read_text()))
    model = keras.saving.load_model(path / "model.keras", safe_mode=True)
    return Run(
        path=path, name=meta["model"], config=meta["config"], meta=meta["meta"],
        metrics=meta["metrics"], heldout_texts=meta["heldout_texts"], model=model,
        vectorizer=vectorizer,
    )


def evaluate_run(path: str | Path, data: str | Path | None = None) -> dict[str, float]:
    """A finished run's figures on a user's held-out file, or, without one, its own split."""
    run = load_run(path)
    if data is None:
        return run.metrics
    data = Path(data)
    if not data.exists():
        raise UserError(f"data file '{data}' does not exist")
    task = get_task(get_entry(run.name).task)
    dataset = task.evaluation_dataset(run.config, run.vectorizer, run.meta, data)
    return {k.removeprefix("val_"): v for k, v in task.metrics(run.model, dataset, run.meta).items()}


def _callbacks(run_dir: Path, patience: int) -> list[keras.callbacks.Callback]:
    return [
        keras.callbacks.BackupAndRestore(str(run_dir / "backup")),
        keras.callbacks.ModelCheckpoint(run_dir / "model.keras", save_best_only=True),
        keras.callbacks.EarlyStopping(patience=patience, restore_best_weights=True),
        keras.callbacks.CSVLogger(str(run_dir / "history.csv"), append=True),
        keras.callbacks.TensorBoard(str(run_dir / "logs")),
    ]


def _run_dir(name: str, out: str | Path | None) -> Path:
    if out is not None:
        run_dir = Path(out)
        if (run_dir / "run.json").exists():
            raise UserError(f"'{run_dir}' already holds a finished run; choose another --out")
    else:
        run_dir, suffix = Path("runs") / name, 1
        while (run_dir / "run.json").exists():
            suffix += 1
            run_dir = Path("runs") / f"{name}-{suffix}"
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"cannot create run directory '{run_dir}': {err.strerror}") from None
    return run_dir

