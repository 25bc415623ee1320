"""Fit wiring: data -> vectorizer -> model -> Keras fit with resumable callbacks -> a run folder
(`seqzoo.training.run_folder`: what it holds, and its life)."""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from seqzoo.data.batching import steps_per_epoch
from seqzoo.embeddings.pretrained import pretrained_from_config
from seqzoo.errors import UserError
from seqzoo.files import data_fingerprint, write_json
from seqzoo.registry import get_entry
from seqzoo.tasks import get_task
from seqzoo.tasks.base import Prepared, ReadOptions
from seqzoo.training.callbacks import BestModelCheckpoint, ResetStates, RunBackup, StopOnNonFiniteLoss
from seqzoo.training.distribute import describe, fit_loop, is_chief, make_strategy
from seqzoo.training.run_folder import (
    check_resumable,
    claimed,
    clear_leftovers,
    load_run,
    run_dir_for,
    trim_history,
)
from seqzoo.zoo import build_from_config, dtype_policy, get_config

HELDOUT_TEXTS_KEPT = 64


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
    precision: str | None = None,
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
    (`seqzoo.training.distribute`); `train.batch_size` is per replica. `precision` (or
    `train.precision`): `float32`, `mixed_float16`, `mixed_bfloat16`.

    An unfinished run in `out` (killed mid-way) resumes from its last epoch and ends
    with the model an uninterrupted run would have; a restart with other settings or
    data is refused (more `epochs` are allowed). A run that fails (a mistake, a
    diverged loss) leaves nothing behind that it created; one that is interrupted
    keeps its backup to resume from. In a cluster only the chief writes the run
    directory; the other workers write into temporary folders that they remove.
    """
    task = get_task(get_entry(name).task)
    overrides = {**(overrides or {}), **({"train.epochs": epochs} if epochs is not None else {}),
                 **({"train.strategy": strategy} if strategy is not None else {}),
                 **({"train.precision": precision} if precision is not None else {})}
    config = get_config(name, preset, **overrides)
    # First: a cluster starts before any op.
    distribution = make_strategy(config["train"]["strategy"], config["train"]["join_timeout"])
    if config["train"].get("carry_state") and distribution.num_replicas_in_sync > 1:
        raise UserError(f"train.carry_state trains one stream's lanes on one device; this strategy has "
                        f"{distribution.num_replicas_in_sync} replicas (use train.strategy=one_device)")
    corpus = task.named_corpus(config, data)  # `python_stdlib`, `ptb_char`, ...: a folder in the cache
    if corpus is not None:
        config["train"]["documents"] = corpus.documents
    data = corpus.folder if corpus is not None else Path(data) if data is not None else task.default_data()
    unread = [option for option in read_options if option not in task.read_options]
    if unread:
        takes = f"only {', '.join(task.read_options)}" if task.read_options else "no reading options"
        raise UserError(f"{name} data takes no option {', '.join(unread)} ({task.name} takes {takes})")
    run_dir = run_dir_for(name, out)
    started_with = copy.deepcopy(config)  # `prepare` sets sizes from the data
    replicas = distribution.num_replicas_in_sync
    if not is_chief(distribution):  # it trains in step, writing into a folder of its own
        prepared, settings = _prepared(name, task, config, started_with, data, replicas, read_options)
        writes = Path(tempfile.mkdtemp(prefix="seqzoo-worker-"))
        try:
            _fit_run(name, config, prepared, distribution, run_dir, writes, settings, callbacks, verbose=0)
        finally:
            shutil.rmtree(writes, ignore_errors=True)
        return run_dir
    with claimed(run_dir):
        # A mistake in the data stops here, leaving nothing behind.
        prepared, settings = _prepared(name, task, config, started_with, data, replicas, read_options)
        fingerprint = settings["data"]
        if corpus is not None:  # the card's provenance names it: python_stdlib of CPython 3.11.7, ...
            fingerprint["corpus"] = corpus.name
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
    check_resumable(run_dir, backup, settings)
    if writes == run_dir and backup.latest is None:
        clear_leftovers(run_dir)
    try:
        writes.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"cannot create run directory '{writes}': {err.strerror}") from None
    keras.utils.set_random_seed(config["train"]["seed"])
    pretrained = _pretrained(config, prepared, verbose)
    with distribution.scope():
        model = build_from_config(name, config, pretrained, stateful_batch=prepared.lanes)
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
                    *_schedule(config), *([ResetStates()] if prepared.lanes else []),
                    StopOnNonFiniteLoss(_divergence_hint(config)), checkpoint,
                    early_stopping,
                    keras.callbacks.CSVLogger(str(writes / "history.csv"), append=True),
                    keras.callbacks.TensorBoard(str(writes / "logs")), backup, *(callbacks or [])])
        except tf.errors.InvalidArgumentError as err:
            reason = next((line for line in err.message.splitlines() if "XLA" in line), None)
            if not config["train"]["jit_compile"] or reason is None:
                raise
            raise UserError(f"train.jit_compile: XLA cannot compile {name}'s training step "
                            f"({reason.strip()}); train it with train.jit_compile=false") from None
    return pretrained


def _schedule(config: dict) -> list[keras.callbacks.Callback]:
    """The learning-rate decay `train.lr_decay` asks for (none when null): the compiled rate for
    the first `train.lr_decay_after` epochs, then multiplied by the decay each epoch. A function of
    the epoch alone, so a resumed run sets the rate an uninterrupted one would have."""
    decay, after = config["train"]["lr_decay"], config["train"]["lr_decay_after"]
    if decay is None:
        return []
    rate = config["compile"]["learning_rate"]
    return [keras.callbacks.LearningRateScheduler(lambda epoch: rate * decay ** max(0, epoch - after + 1))]


def _prepared(name: str, task, config: dict, started_with: dict, data: Path, replicas: int,
              read_options: dict) -> tuple[Prepared, dict]:
    """The task's data, and the settings a resumed run must match (the config as asked, the data's
    fingerprint, the reading options)."""
    prepared = _prepare(task, config, data, replicas, read_options)
    try:
        fingerprint = data_fingerprint(data)
    except OSError as err:
        raise UserError(f"cannot read data '{data}': {err.strerror} ({err.filename})") from None
    return prepared, {"model": name, "config": started_with, "data": fingerprint,
                      "read_options": read_options}


def _prepare(task, config: dict, data: Path, replicas: int, read_options: dict) -> Prepared:
    """The task's data, batched at the global batch (`train.batch_size` per replica x replicas)."""
    per_replica = config["train"]["batch_size"]
    config["train"]["batch_size"] = per_replica * replicas
    try:
        return task.prepare(config, data, ReadOptions(**read_options))
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
    """The best checkpoint, as a float32 model of any batch: a mixed-precision run's is loaded under
    its policy (its layers' inner layers take the global one, as when it was built), and it and a
    stateful twin's (`train.carry_state`) are rebuilt plain with their weights (float32 already) and
    saved over the checkpoint. Exports are float32 graphs."""
    precision = config["train"]["precision"]
    as_built = precision == "float32" and not config["train"].get("carry_state")
    with dtype_policy(precision):  # the others are rebuilt and compiled below
        model = keras.saving.load_model(path, safe_mode=True, compile=as_built)
    if as_built:
        return model
    plain = build_from_config(name, config, pretrained, precision="float32")
    plain.set_weights(model.get_weights())
    plain.optimizer.build(plain.trainable_variables)  # saved whole, so loading it back is quiet
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    plain.save(tmp)
    os.replace(tmp, path)
    return plain


def evaluate_run(path: str | Path, data: str | Path | None = None) -> dict[str, float]:
    """A finished run's figures on a user's held-out file (or a named corpus's test file:
    `ptb_char`), or, without one, its own split."""
    from seqzoo.data.corpora import named_corpus

    run = load_run(path)
    if data is None:
        return run.metrics
    corpus = named_corpus(data)
    if corpus is not None:
        if not (corpus.folder / "test.txt").is_file():
            raise UserError(f"{corpus.name} has no test file; the run's held-out figures are its own")
        data = corpus.folder / "test.txt"
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
