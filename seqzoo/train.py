"""Fit wiring: data -> vectorizer -> model -> Keras fit with resumable callbacks -> run dir.

A run directory holds everything `seqzoo export` needs:
    run.json         entry name, merged config, label names, metrics, held-out texts
    vectorizer.json  the adapted vectorizer (its config, vocabulary included)
    model.keras      the best model so far (lowest validation loss)
    history.csv, logs/ (TensorBoard), backup/ (only while a run is unfinished)
"""

from __future__ import annotations

import collections
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from seqzoo.data import LabelledTexts, read_labelled, sentiment_corpus
from seqzoo.embeddings.pretrained import pretrained_from_config
from seqzoo.errors import UserError
from seqzoo.files import write_json
from seqzoo.registry import get_entry
from seqzoo.text import Vectorizer
from seqzoo.zoo import build_from_config, get_config

HELDOUT_TEXTS_KEPT = 64


@dataclass
class Run:
    """A trained entry loaded back from its run directory."""

    path: Path
    name: str
    config: dict
    labels: list[str]
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
    text_column: str = "text",
    label_column: str = "label",
    callbacks: list[keras.callbacks.Callback] | None = None,
    verbose: int | str = "auto",
) -> Path:
    """Trains a zoo entry on a labelled-text file and returns its run directory.

    An unfinished run in `out` (killed mid-way) resumes from its last epoch.
    Without `out`, the run goes to `runs/<name>`, or `runs/<name>-2`, ... when
    that already holds a finished run. `callbacks` run after seqzoo's own
    (backup, checkpoint, early stopping, CSV and TensorBoard logs).
    """
    entry = get_entry(name)
    if entry.task != "classification":
        raise UserError(f"'seqzoo train' does not know how to train {entry.task} entries yet")
    config = get_config(name, preset, **(overrides or {}))
    settings = config["train"]
    if epochs is not None:
        settings["epochs"] = epochs
    run_dir = _run_dir(name, out)

    examples = read_labelled(data or sentiment_corpus(), text_column, label_column)
    train_set, heldout = examples.split(settings["validation_fraction"], settings["seed"])
    labels = train_set.label_names
    if len(labels) < 2:
        raise UserError(f"training data needs at least 2 distinct labels, got {labels}")
    vectorizer = Vectorizer(**config["text"]).adapt(train_set.texts)
    config["text"]["max_tokens"] = vectorizer.vocabulary_size()  # the embedding fits the vocabulary
    config["model"]["num_classes"] = len(labels)

    keras.utils.set_random_seed(settings["seed"])
    pretrained = None
    if config["embeddings"]["path"] is not None:
        counts = collections.Counter(
            token.decode("utf-8") for row in vectorizer.tokenize(train_set.texts).to_list() for token in row
        )
        pretrained, report = pretrained_from_config(
            config["embeddings"], vectorizer, token_counts=counts, seed=settings["seed"]
        )
        if verbose:
            print("\n".join(report.lines()))
    model = build_from_config(name, config, pretrained)
    batch = settings["batch_size"]
    model.fit(
        _dataset(train_set, labels, vectorizer, batch, shuffle_seed=settings["seed"]),
        validation_data=_dataset(heldout, labels, vectorizer, batch),
        epochs=settings["epochs"],
        callbacks=_callbacks(run_dir, settings["patience"]) + list(callbacks or []),
        shuffle=False,  # the dataset reshuffles itself, seeded
        verbose=verbose,
    )
    best = keras.saving.load_model(run_dir / "model.keras", safe_mode=True)
    metrics = best.evaluate(_dataset(heldout, labels, vectorizer, batch), return_dict=True, verbose=0)
    write_json(run_dir / "vectorizer.json", vectorizer.get_config())
    write_json(run_dir / "run.json", {
        "model": name,
        "config": config,
        "labels": labels,
        "metrics": {f"val_{k}": float(v) for k, v in metrics.items()},
        "heldout_texts": heldout.texts[:HELDOUT_TEXTS_KEPT],
        "data": str(data or sentiment_corpus()),
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
        path=path, name=meta["model"], config=meta["config"], labels=meta["labels"],
        metrics=meta["metrics"], heldout_texts=meta["heldout_texts"], model=model,
        vectorizer=vectorizer,
    )


def _dataset(
    examples: LabelledTexts, labels: list[str], vectorizer: Vectorizer, batch_size: int,
    shuffle_seed: int | None = None,
) -> tf.data.Dataset:
    """(token ids padded per batch, label ids), tokenized by the vectorizer in tf.data."""
    dataset = tf.data.Dataset.from_tensor_slices(
        (tf.constant(examples.texts, tf.string), tf.constant(examples.label_ids(labels), tf.int32))
    )
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(examples), seed=shuffle_seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size).map(lambda text, label: (vectorizer(text), label))
    return dataset.prefetch(tf.data.AUTOTUNE)


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

