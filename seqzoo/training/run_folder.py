"""A run folder's life: which folder a run gets, what a restart may change, what a failed run leaves
(nothing it created) and a killed one keeps (its backup), and reading a finished one back.

A run directory holds everything `seqzoo export` needs:
    run.json         entry name, merged config, the task's meta (label names, ...), metrics,
                     held-out texts; written last: a run without it is unfinished
    vectorizer.json  the adapted vectorizer (its config, vocabulary included); not for music
    model.keras      the best model so far (lowest validation loss)
    history.csv, logs/ (TensorBoard), backup/ (only while a run is unfinished)
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shutil
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import keras

from seqzoo.errors import UserError
from seqzoo.files import read_json, write_text
from seqzoo.registry import get_entry
from seqzoo.schema import Rule, check_record
from seqzoo.tasks import get_task
from seqzoo.text import Vectorizer
from seqzoo.training.callbacks import RunBackup
from seqzoo.training.distribute import WorkerLost

RUN_FILES = ("run.json", "vectorizer.json", "model.keras")
MARKER = ".seqzoo-run"  # seqzoo writes it into every run folder it makes: the folder is a run's
LOCK = ".seqzoo-run.lock"  # held (flock) by the process writing the run; the OS releases it if it dies
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


RUN_FIELDS = {"model": Rule(str), "config": Rule(dict), "meta": Rule(dict), "metrics": Rule(dict),
              "heldout_texts": Rule(list)}


def run_record(path: Path) -> dict:
    """A run folder's run.json, read as data a user may have edited: its fields of the right kinds,
    its metrics finite numbers, its data fingerprint a path, a size and a sha256 (or absent)."""
    what = f"run directory '{path}' is damaged: run.json"
    record = check_record(read_json(path / "run.json", what), RUN_FIELDS, what)
    for name, value in record["metrics"].items():
        try:
            record["metrics"][name] = Rule(float).check(name, value, what="")
        except UserError as err:
            raise UserError(f"{what}: metric {err}") from None
    if record.get("data_fingerprint") is not None:
        check_record(record["data_fingerprint"], {"path": Rule(str), "bytes": Rule(int, minimum=0),
                                                  "sha256": Rule(str)}, f"{what}'s data_fingerprint")
    return record


def load_run(path: str | Path) -> Run:
    """The model, vectorizer and metadata of a finished run directory."""
    path = Path(path)
    if not (path / "run.json").is_file():
        raise UserError(f"'{path}' is not a finished run directory (no run.json)")
    try:
        meta = run_record(path)
        reads_text = get_task(get_entry(meta["model"]).task).serving.reads_text
        missing = [name for name in RUN_FILES if not (path / name).is_file()
                   and (reads_text or name != "vectorizer.json")]
        if missing:
            raise UserError(f"run directory '{path}' is damaged: {', '.join(missing)} missing")
        vectorizer = None
        if reads_text:
            what = f"run directory '{path}' is damaged: vectorizer.json"
            vectorizer = Vectorizer.from_config(read_json(path / "vectorizer.json", what))
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


def check_resumable(run_dir: Path, backup: RunBackup, settings: dict) -> None:
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


def clear_leftovers(run_dir: Path) -> None:
    """A run killed before its first backup has nothing to resume: its files go."""
    for name in LEFTOVERS:
        target = run_dir / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()


def run_dir_for(name: str, out: str | Path | None) -> Path:
    """The run's folder (not created yet): `out`, or the first `runs/<name>[-n]` that is neither
    finished nor someone else's. A folder seqzoo did not make (no `.seqzoo-run`, not empty) is
    never written into: its files are the user's."""
    if out is not None:
        run_dir = Path(out)
        if (run_dir / "run.json").exists():
            raise UserError(f"'{run_dir}' already holds a finished run; choose another --out")
        if foreign(run_dir):
            raise UserError(f"'{run_dir}' holds files seqzoo did not write (it has no {MARKER}); choose an "
                            "empty or new --out")
    else:
        run_dir, suffix = Path("runs") / name, 1
        while (run_dir / "run.json").exists() or foreign(run_dir):
            suffix += 1
            run_dir = Path("runs") / f"{name}-{suffix}"
    existing = run_dir
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise UserError(f"cannot create run directory '{run_dir}': '{existing}' is a file")
    return run_dir


def foreign(run_dir: Path) -> bool:
    """Whether `run_dir` is a folder of someone else's files: not empty, and neither marked as a run
    nor an unfinished run of a seqzoo from before the marker (one with a backup)."""
    if not run_dir.is_dir():
        return run_dir.exists()
    return (not (run_dir / MARKER).exists() and not (run_dir / "backup").is_dir()
            and any(run_dir.iterdir()))


@contextlib.contextmanager
def claimed(run_dir: Path) -> Iterator[None]:
    """The run folder, made and marked as a run's if need be, held by this process for the block.

    A second `seqzoo train` with the same --out is refused, naming the holder; the lock is the OS's
    (flock), so a killed holder releases it. On an error in the block, what it created in the
    folder goes (the folder itself, and any parents, if this made them); an interrupt (Ctrl-C,
    SIGTERM's KeyboardInterrupt) is no error, nor is a cluster's lost worker: the backup stays to
    resume from. A refused claim removes nothing but what it made itself.
    """
    import fcntl

    created = run_dir
    while not created.parent.exists():
        created = created.parent
    created = None if run_dir.exists() else created
    marked = (run_dir / MARKER).exists()
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / MARKER).touch()
        lock = open(run_dir / LOCK, "a+", encoding="utf-8")  # noqa: SIM115  (held for the block)
    except OSError as err:
        _remove(created, run_dir, marked, set())
        raise UserError(f"cannot create run directory '{run_dir}': {err.strerror or err}") from None
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "another process"
            raise UserError(f"'{run_dir}' is being written by {holder}; wait for it to end, or choose "
                            "another --out") from None
        before = set(run_dir.iterdir())
        lock.seek(0)
        lock.truncate()
        lock.write(f"seqzoo train (pid {os.getpid()} on {socket.gethostname()}, since "
                   f"{time.strftime('%Y-%m-%d %H:%M:%S')})\n")
        lock.flush()
        try:
            yield
        except WorkerLost:
            raise
        except Exception:
            _remove(created, run_dir, marked, before)
            raise
    finally:
        lock.close()


def _remove(created: Path | None, run_dir: Path, marked: bool, before: set[Path]) -> None:
    """What a failed run made: the folder (and parents) it created, else the entries new since
    `before` and the marker it added."""
    if created is not None:
        shutil.rmtree(created, ignore_errors=True)
        return
    if not run_dir.is_dir():
        return
    new = set(run_dir.iterdir()) - before if before else set()
    if not marked:
        new |= {run_dir / MARKER, run_dir / LOCK}
    for entry in new:
        shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)
