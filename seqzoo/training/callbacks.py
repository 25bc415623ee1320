"""The callbacks that make a run resumable exactly, and keep a diverged one from looking finished."""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from pathlib import Path

import keras
import numpy as np

from seqzoo.errors import UserError
from seqzoo.files import write_json
from seqzoo.zoo import recurrent_layers

# What each stateful Keras callback must get back for a resumed run to decide as an
# uninterrupted one would (EarlyStopping's best weights are kept apart, as arrays).
CALLBACK_STATE = {
    keras.callbacks.EarlyStopping: ("wait", "best", "best_epoch", "stopped_epoch"),
    keras.callbacks.ModelCheckpoint: ("best",),
    keras.callbacks.ReduceLROnPlateau: ("wait", "best", "cooldown_counter"),
}
SEED_STATE = "seed_generator_state"  # Keras' dropout seeds: variables that save_weights leaves out


class NonFiniteLoss(UserError):
    """Training diverged: the loss (or a validation figure) is NaN or infinite."""


class StopOnNonFiniteLoss(keras.callbacks.TerminateOnNaN):
    """TerminateOnNaN that raises instead of quietly stopping, so a diverged run is never
    taken for a finished one. `hint` names the likely causes in the message."""

    def __init__(self, hint: str):
        super().__init__()
        self.hint = hint
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_batch_end(self, batch, logs=None):
        where = f"the loss became {{}} at epoch {self.epoch + 1}, step {batch + 1}"
        self._check((logs or {}).get("loss"), where)

    def on_epoch_end(self, epoch, logs=None):
        for name, value in (logs or {}).items():
            self._check(value, f"{name} became {{}} at the end of epoch {epoch + 1}")

    def _check(self, value, where: str) -> None:
        if value is not None and not math.isfinite(float(value)):
            raise NonFiniteLoss(f"training diverged: {where.format(float(value))}; {self.hint}")


class WallClockBudget(keras.callbacks.Callback):
    """Stops training cleanly at the end of the epoch after which another would overrun `seconds` of
    wall-clock time (counted from the start of `fit`; the first epoch always runs, so every call makes
    progress). `spent` says whether it stopped a run that had epochs left. Each epoch's `seconds` go
    into the logs, so a CSVLogger placed after it keeps the wall time of every epoch.

    A RunBackup records early stopping's verdict, not this stop: a rerun continues from the epoch.
    """

    def __init__(self, seconds: float = math.inf):
        super().__init__()
        self.seconds = seconds
        self.spent = False

    def on_train_begin(self, logs=None):
        self.started, self.longest, self.spent = time.monotonic(), 0.0, False

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_started = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        now = time.monotonic()
        took = now - self.epoch_started
        if logs is not None:
            logs["seconds"] = round(took, 3)
        self.longest = max(self.longest, took)
        left = epoch + 1 < self.params.get("epochs", 0)
        if left and not self.model.stop_training and now - self.started + self.longest > self.seconds:
            self.model.stop_training = self.spent = True


class ResetStates(keras.callbacks.Callback):
    """Zeroes the stateful layers' states (`seqzoo.zoo.stateful_twin`) where a pass over a stream
    begins: each training epoch and each validation pass (its lanes are another stream)."""

    def _reset(self):
        for layer in recurrent_layers(self.model):
            layer.reset_state()

    def on_epoch_begin(self, epoch, logs=None):
        self._reset()

    def on_test_begin(self, logs=None):
        self._reset()


class BestModelCheckpoint(keras.callbacks.ModelCheckpoint):
    """ModelCheckpoint(save_best_only=True) that writes beside the target and renames over it,
    so a kill mid-write never leaves half a model where the best one was."""

    def __init__(self, filepath: str | Path):
        super().__init__(str(filepath), save_best_only=True)

    def _save_model(self, epoch, batch, logs):
        target = Path(self.filepath)
        self.filepath = str(target.with_name(f".{target.stem}.tmp{target.suffix}"))
        try:
            super()._save_model(epoch, batch, logs)
            if os.path.exists(self.filepath):
                os.replace(self.filepath, target)
        finally:
            self.filepath = str(target)


class RunBackup(keras.callbacks.BackupAndRestore):
    """BackupAndRestore that brings a killed run back exactly as it was.

    Keras' own backup keeps the weights, the optimizer and the epoch. This one also keeps
    the state of the other callbacks (the best value and patience count of early stopping
    and of the checkpoint, early stopping's best weights), Keras' dropout seeds, and the
    settings the run was started with (`settings`), which a restart must match. Each epoch's
    backup is written whole into a temporary folder and renamed to `epoch-<n>`, so a kill at
    any moment leaves the previous backup or the new one, never half of either.

    Place it after the callbacks whose state it keeps: it saves after they have updated, and
    restores after their `on_train_begin` has reset them. `save_to` (a cluster's other workers)
    saves elsewhere than it restores from.
    """

    def __init__(self, backup_dir: str | Path, settings: dict, stateful: list[keras.callbacks.Callback],
                 save_to: str | Path | None = None):
        super().__init__(str(backup_dir), delete_checkpoint=False)
        self.folder = Path(backup_dir)
        self.save_to = Path(save_to or backup_dir)
        self.settings = settings
        self.stateful = stateful
        self.latest = self._newest()
        if self.latest is not None:
            self._point_at(self.latest)

    def saved(self, name: str):
        """A file of the latest backup: `settings.json`, `state.json` (None without a backup)."""
        if self.latest is None:
            return None
        try:
            return json.loads((self.latest / name).read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise UserError(f"the backup '{self.latest}' is damaged ({name}: {err}); delete "
                            f"'{self.folder}' to start the run over") from None

    @property
    def completed_epochs(self) -> int:
        return 0 if self.latest is None else self.saved("training_metadata.json")["epoch"]

    @property
    def stopped_early(self) -> bool:
        return self.latest is not None and self.saved("state.json")["stop_training"]

    def _load_model(self):
        if self.latest is None:
            return
        try:
            super()._load_model()
            best = np.load(self.latest / "arrays.npz", allow_pickle=False)
        except (OSError, ValueError) as err:
            raise UserError(f"the backup '{self.latest}' is damaged ({err}); delete '{self.folder}' "
                            "to start the run over") from None
        state = self.saved("state.json")
        for callback, values in zip(self.stateful, state["callbacks"], strict=True):
            for name, value in values.items():
                setattr(callback, name, value)
            if isinstance(callback, keras.callbacks.EarlyStopping) and state["best_weights"]:
                callback.best_weights = [best[f"best_{i}"] for i in range(state["best_weights"])]
        for i, variable in enumerate(_seed_states(self.model)):
            variable.assign(best[f"seed_{i}"])

    def _save_model(self):
        epoch = self._current_epoch
        self.save_to.mkdir(parents=True, exist_ok=True)
        tmp = self.save_to / f".epoch-{epoch}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)  # left by a kill during the last attempt
        tmp.mkdir()
        self.model.save_weights(str(tmp / "latest.weights.h5"))
        best_weights = next((c.best_weights for c in self.stateful
                             if isinstance(c, keras.callbacks.EarlyStopping) and c.best_weights), None)
        arrays = {f"seed_{i}": keras.ops.convert_to_numpy(v) for i, v in enumerate(_seed_states(self.model))}
        arrays.update({f"best_{i}": w for i, w in enumerate(best_weights or [])})
        np.savez(tmp / "arrays.npz", **arrays)
        write_json(tmp / "state.json", {
            "callbacks": [_state_of(callback) for callback in self.stateful],
            "best_weights": len(best_weights or []),
            "stop_training": self._stopped_early(),
        })
        write_json(tmp / "settings.json", self.settings)
        write_json(tmp / "training_metadata.json", {"epoch": epoch, "batch": self._last_batch_seen})
        target = self.save_to / f"epoch-{epoch}"
        shutil.rmtree(target, ignore_errors=True)
        os.rename(tmp, target)  # the backup of this epoch now exists, whole
        for old in self.save_to.glob("epoch-*"):
            if old != target:
                shutil.rmtree(old, ignore_errors=True)
        self.latest = target
        self._point_at(target)

    def _stopped_early(self) -> bool:
        """Early stopping's verdict, the one stop a rerun must not undo (a budget's stop is resumed)."""
        stoppers = [c for c in self.stateful if isinstance(c, keras.callbacks.EarlyStopping)]
        if not stoppers:
            return bool(self.model.stop_training)
        return any(c.stopped_epoch > 0 for c in stoppers)

    def _newest(self) -> Path | None:
        done = [p for p in self.folder.glob("epoch-*") if p.name.removeprefix("epoch-").isdigit()]
        return max(done, key=lambda p: int(p.name.removeprefix("epoch-")), default=None)

    def _point_at(self, folder: Path) -> None:
        self._weights_path = str(folder / "latest.weights.h5")
        self._training_metadata_path = str(folder / "training_metadata.json")


def _state_of(callback: keras.callbacks.Callback) -> dict:
    names = next(names for kind, names in CALLBACK_STATE.items() if isinstance(callback, kind))
    return {name: _plain(getattr(callback, name, None)) for name in names}


def _plain(value):
    """A callback's number as JSON holds it (Python's json writes inf as Infinity and reads it back)."""
    if isinstance(value, (np.generic, np.ndarray)):
        return value.item()
    return value


def _seed_states(model: keras.Model) -> list:
    return [v for v in model.variables if v.name == SEED_STATE]
