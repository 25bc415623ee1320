"""Fit wiring: data -> vectorizer -> model -> Keras fit with resumable callbacks -> run dir.

A run directory holds everything `seqzoo export` needs:
    run.json         entry name, merged config, the task's meta (label names, ...), metrics,
                     held-out texts; written last: a run without it is unfinished
    vectorizer.json  the adapted vectorizer (its config, vocabulary included); not for music
    model.keras      the best model so far (lowest validation loss)
    history.csv, logs/ (TensorBoard), backup/ (only while a run is unfinished)
"""

from __future__ import annotations

import contextlib
import copy
import csv
import inspect
import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from seqzoo.data.batching import steps_per_epoch
from seqzoo.embeddings.pretrained import pretrained_from_config
from seqzoo.errors import UserError
from seqzoo.files import data_fingerprint, write_json, write_text
from seqzoo.registry import get_entry
from seqzoo.tasks import get_task
from seqzoo.tasks.base import Prepared
from seqzoo.text import Vectorizer
from seqzoo.training.callbacks import BestModelCheckpoint, RunBackup, StopOnNonFiniteLoss
from seqzoo.training.distribute import WorkerLost, describe, fit_loop, is_chief, make_strategy
from seqzoo.zoo import build_from_config, dtype_policy, get_config

HELDOUT_TEXTS_KEPT = 64
RUN_FILES = ("run.json", "vectorizer.json", "model.keras")
# What a run writes before its first backup: cleared when such a run starts over.
LEFTOVERS = ("history.csv", "logs", "model.keras", ".model.tmp.keras", "backup")
# Settings a resumed run may change: more epochs continue it as if it had been asked for them.
RESUMABLE_CHANGES = ("config.train.epochs", "config.train.strategy", "config.train.jit_compile")


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
    vectorizer: Vectorizer | None  # None: the task reads no text
    data: dict | None = None  # the training data's path, bytes and sha256 (runs before it: None)


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
    strategy: str | None = None,
    **read_options,
) -> Path:
    """Trains a zoo entry on a data file and returns its run directory.

    `data` defaults to the entry's task's offline corpus; `read_options` go to
    its reader (`text_column`, `label_column` for tables). Without `out`, the run
    goes to `runs/<name>`, or `runs/<name>-2`, ... when that holds a finished run.
    `callbacks` run after seqzoo's own (checkpoint, early stopping, CSV and
    TensorBoard logs, backup); one that stops training with `spent` set (`WallClockBudget`) leaves
    the run unfinished (no run.json), to be resumed by the same call. `strategy` (or
    `train.strategy`): `auto`, `one_device`, `mirrored`, `multi_worker`
    (`seqzoo.training.distribute`); `train.batch_size` is per replica.

    An unfinished run in `out` (killed mid-way) resumes from its last epoch and ends
    with the model an uninterrupted run would have; a restart with other settings or
    data is refused (more `epochs` are allowed). A run that fails (a mistake, a
    diverged loss) leaves nothing behind that it created; one that is interrupted
    keeps its backup to resume from. In a cluster only the chief writes the run
    directory; the other workers write into temporary folders that they remove.
    """
    task = get_task(get_entry(name).task)
    overrides = {**(overrides or {}), **({"train.epochs": epochs} if epochs is not None else {}),
                 **({"train.strategy": strategy} if strategy is not None else {})}
    config = get_config(name, preset, **overrides)
    distribution = make_strategy(config["train"]["strategy"])  # first: a cluster starts before any op
    data = Path(data) if data is not None else task.default_data()
    try:
        inspect.signature(task.prepare).bind(config, data, **read_options)
    except TypeError:
        raise UserError(f"{name} data takes no option {', '.join(read_options)} "
                        f"({task.name} reads plain text)") from None
    run_dir = _run_dir(name, out)
    started_with = copy.deepcopy(config)  # `prepare` sets sizes from the data
    replicas = distribution.num_replicas_in_sync
    prepared = _prepare(task, config, data, replicas, read_options)  # a mistake in the data stops here
    try:
        fingerprint = data_fingerprint(data)
    except OSError as err:
        raise UserError(f"cannot read data '{data}': {err.strerror} ({err.filename})") from None
    settings = {"model": name, "config": started_with, "data": fingerprint, "read_options": read_options}
    if not is_chief(distribution):  # it trains in step, writing into a folder of its own
        writes = Path(tempfile.mkdtemp(prefix="seqzoo-worker-"))
        try:
            _fit_run(name, config, prepared, distribution, run_dir, writes, settings, callbacks, verbose=0)
        finally:
            shutil.rmtree(writes, ignore_errors=True)
        return run_dir
    with _removed_on_failure(run_dir):
        pretrained = _fit_run(name, config, prepared, distribution, run_dir, run_dir, settings, callbacks,
                              verbose)
        if any(getattr(callback, "spent", False) for callback in callbacks or []):
            return run_dir  # stopped at a budget (WallClockBudget): unfinished, the backup resumes it
        best = _best_model(run_dir / "model.keras", name, config, pretrained)
        if prepared.vectorizer is not None:
            write_json(run_dir / "vectorizer.json", prepared.vectorizer.get_config())
        write_json(run_dir / "run.json", {
            "model": name,
            "config": config,
            "meta": prepared.meta,
            "metrics": task.metrics(best, prepared.heldout or prepared.validation, prepared.meta),
            "heldout_texts": prepared.heldout_texts[:HELDOUT_TEXTS_KEPT],
            "data": str(data),
            "data_fingerprint": fingerprint,  # path, bytes, sha256: the model card's provenance
        })
    shutil.rmtree(run_dir / "backup", ignore_errors=True)  # finished: nothing to resume
    return run_dir


def _fit_run(name: str, config: dict, prepared: Prepared, distribution, run_dir: Path, writes: Path,
             settings: dict, callbacks, verbose):
    """Builds the model under the strategy and trains it from the last backup in `run_dir` (if
    any), writing checkpoints, logs and backups into `writes`; returns the pretrained vectors."""
    checkpoint = BestModelCheckpoint(writes / "model.keras")
    early_stopping = keras.callbacks.EarlyStopping(patience=config["train"]["patience"],
                                                   restore_best_weights=True)
    backup = RunBackup(run_dir / "backup", settings, [checkpoint, early_stopping], save_to=writes / "backup")
    _check_resumable(run_dir, backup, settings)
    if writes == run_dir and backup.latest is None:
        _clear_leftovers(run_dir)
    try:
        writes.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"cannot create run directory '{writes}': {err.strerror}") from None
    keras.utils.set_random_seed(config["train"]["seed"])
    pretrained = _pretrained(config, prepared, verbose)
    with distribution.scope():
        model = build_from_config(name, config, pretrained)
    first, last = backup.completed_epochs, config["train"]["epochs"]
    trim_history(writes / "history.csv", first)
    replicas = distribution.num_replicas_in_sync
    if verbose and replicas > 1:
        print(describe(distribution, config["train"]["batch_size"]))
    if first < last and not backup.stopped_early:
        global_batch = config["train"]["batch_size"] * replicas
        dataset = prepared.train_batches(range(first, last))
        dataset = dataset if replicas == 1 else _whole_batches(dataset, global_batch)
        fit = fit_loop if isinstance(distribution, tf.distribute.MultiWorkerMirroredStrategy) else _fit
        try:
            fit(model, distribution, dataset, _steps(prepared, global_batch, replicas), prepared.validation,
                initial_epoch=first, epochs=last, verbose=verbose, callbacks=[
                    StopOnNonFiniteLoss(_divergence_hint(config)), checkpoint, early_stopping,
                    keras.callbacks.CSVLogger(str(writes / "history.csv"), append=True),
                    keras.callbacks.TensorBoard(str(writes / "logs")), backup, *(callbacks or [])])
        except tf.errors.InvalidArgumentError as err:
            reason = next((line for line in err.message.splitlines() if "XLA" in line), None)
            if not config["train"]["jit_compile"] or reason is None:
                raise
            raise UserError(f"train.jit_compile: XLA cannot compile {name}'s training step "
                            f"({reason.strip()}); train it with train.jit_compile=false") from None
    return pretrained


def _prepare(task, config: dict, data: Path, replicas: int, read_options: dict) -> Prepared:
    """The task's data, batched at the global batch (`train.batch_size` per replica x replicas)."""
    per_replica = config["train"]["batch_size"]
    config["train"]["batch_size"] = per_replica * replicas
    try:
        return task.prepare(config, data, **read_options)
    finally:
        config["train"]["batch_size"] = per_replica


def _steps(prepared: Prepared, global_batch: int, replicas: int) -> int:
    """Batches per epoch. With several replicas every batch is whole (a short last one is left
    out of that epoch, whose order is its own), so no replica gets an empty share."""
    if replicas == 1:
        return steps_per_epoch(prepared.examples, global_batch)
    if prepared.examples < global_batch:
        raise UserError(f"the training split has {prepared.examples} examples, fewer than one global "
                        f"batch ({global_batch}); lower train.batch_size")
    return prepared.examples // global_batch


def _whole_batches(dataset: tf.data.Dataset, global_batch: int) -> tf.data.Dataset:
    return dataset.filter(lambda *batch: tf.shape(tf.nest.flatten(batch)[0])[0] == global_batch)


def _fit(model, distribution, dataset, steps, validation, **fit_args) -> None:
    """Keras fit, under the strategy the model was built in (one device, or mirrored replicas)."""
    model.fit(dataset, steps_per_epoch=steps, validation_data=validation,
              shuffle=False, **fit_args)  # the batches come in their epoch's own order


def _best_model(path: Path, name: str, config: dict, pretrained) -> keras.Model:
    """The best checkpoint, as a float32 model: a mixed-precision run's is loaded under its policy
    (its layers' inner layers take the global one, as when it was built), rebuilt in float32 with
    its weights (float32 already) and saved over the checkpoint. Exports are float32 graphs."""
    precision = config["train"]["precision"]
    with dtype_policy(precision):  # a mixed one is rebuilt and compiled below
        model = keras.saving.load_model(path, safe_mode=True, compile=precision == "float32")
    if precision == "float32":
        return model
    plain = build_from_config(name, config, pretrained, precision="float32")
    plain.set_weights(model.get_weights())
    plain.optimizer.build(plain.trainable_variables)  # saved whole, so loading it back is quiet
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    plain.save(tmp)
    os.replace(tmp, path)
    return plain


def load_run(path: str | Path) -> Run:
    """The model, vectorizer and metadata of a finished run directory."""
    path = Path(path)
    if not (path / "run.json").is_file():
        raise UserError(f"'{path}' is not a finished run directory (no run.json)")
    try:
        meta = json.loads((path / "run.json").read_text(encoding="utf-8"))
        reads_text = get_task(get_entry(meta["model"]).task).reads_text
        missing = [name for name in RUN_FILES if not (path / name).is_file()
                   and (reads_text or name != "vectorizer.json")]
        if missing:
            raise UserError(f"run directory '{path}' is damaged: {', '.join(missing)} missing")
        vectorizer = Vectorizer.from_config(
            json.loads((path / "vectorizer.json").read_text(encoding="utf-8"))) if reads_text else None
        model = keras.saving.load_model(path / "model.keras", safe_mode=True)
        return Run(
            path=path, name=meta["model"], config=meta["config"], meta=meta["meta"],
            metrics=meta["metrics"], heldout_texts=meta["heldout_texts"], model=model,
            vectorizer=vectorizer, data=meta.get("data_fingerprint"),
        )
    except UserError:
        raise
    except Exception as err:  # JSON, zip and Keras errors all mean the same to a user
        raise UserError(f"run directory '{path}' is damaged: {type(err).__name__}: "
                        f"{str(err).strip().splitlines()[0] if str(err).strip() else ''}") from None


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


def _pretrained(config: dict, prepared: Prepared, verbose):
    """The pretrained vectors aligned to the vocabulary when the config names a file, else None."""
    if config.get("embeddings", {}).get("path") is None:
        return None
    vectorizer = prepared.vectorizer
    pretrained, report = pretrained_from_config(
        config["embeddings"], vectorizer, token_counts=vectorizer.token_counts(prepared.train_texts),
        seed=config["train"]["seed"])
    if verbose:
        print("\n".join(report.lines()))
    return pretrained


def _divergence_hint(config: dict) -> str:
    causes = [f"a learning rate too high (compile.learning_rate={config['compile']['learning_rate']:g})"]
    if config.get("embeddings", {}).get("path"):
        causes.append(f"huge values in the pretrained vectors ({config['embeddings']['path']})")
    return f"likely cause: {' or '.join(causes)}; the run was not finished"


def _check_resumable(run_dir: Path, backup: RunBackup, settings: dict) -> None:
    saved = backup.saved("settings.json")
    if saved is None:
        return
    old, new = _flat(saved), _flat(json.loads(json.dumps(settings)))  # as JSON gives it back
    changed = [key for key in sorted(old.keys() | new.keys())
               if old.get(key) != new.get(key) and key not in RESUMABLE_CHANGES]
    if changed:
        shown = ", ".join(f"{key} {_short(old.get(key))} -> {_short(new.get(key))}" for key in changed[:3])
        more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        raise UserError(f"'{run_dir}' holds an unfinished run started with other settings ({shown}{more}); "
                        "run it again with those settings to resume it, or choose another --out")
    if not (run_dir / "model.keras").is_file():
        raise UserError(f"'{run_dir}' holds an unfinished run whose model.keras is missing; delete the "
                        "folder to start over")


def _flat(value, prefix: str = "") -> dict:
    if not isinstance(value, dict):
        return {prefix.rstrip("."): value}
    return {k: v for key, item in value.items() for k, v in _flat(item, f"{prefix}{key}.").items()}


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 24 else text[:20] + "...'"


def trim_history(path: Path, completed: int) -> None:
    """Drops rows of epochs past the last backup (a kill can come between the log and the backup)."""
    if not path.is_file():
        return
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    kept = rows[:1] + [row for row in rows[1:] if row and row[0].isdigit() and int(row[0]) < completed]
    if kept != rows:
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(kept)
        write_text(path, out.getvalue())


def _clear_leftovers(run_dir: Path) -> None:
    """A run killed before its first backup has nothing to resume: its files go."""
    for name in LEFTOVERS:
        target = run_dir / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()


@contextlib.contextmanager
def _removed_on_failure(run_dir: Path) -> Iterator[None]:
    """On an error, removes what the block created in `run_dir` (the folder itself, and any
    parents, if it made them). An interrupt (Ctrl-C, SIGTERM's KeyboardInterrupt) is no
    error, nor is a cluster's lost worker: the backup stays to resume from."""
    created = run_dir
    while not created.parent.exists():
        created = created.parent
    created = None if run_dir.exists() else created
    before = set(run_dir.iterdir()) if run_dir.is_dir() else set()
    try:
        yield
    except WorkerLost:
        raise
    except Exception:
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
        elif run_dir.is_dir():
            for entry in set(run_dir.iterdir()) - before:
                shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)
        raise


def _run_dir(name: str, out: str | Path | None) -> Path:
    """The run's folder (not created yet): `out`, or the first `runs/<name>[-n]` not finished."""
    if out is not None:
        run_dir = Path(out)
        if (run_dir / "run.json").exists():
            raise UserError(f"'{run_dir}' already holds a finished run; choose another --out")
    else:
        run_dir, suffix = Path("runs") / name, 1
        while (run_dir / "run.json").exists():
            suffix += 1
            run_dir = Path("runs") / f"{name}-{suffix}"
    existing = run_dir
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise UserError(f"cannot create run directory '{run_dir}': '{existing}' is a file")
    return run_dir
