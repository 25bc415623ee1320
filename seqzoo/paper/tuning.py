"""`seqzoo paper --tune`: the recurrent baselines' learning rate and gradient clipping, grid-searched
on short full-size runs: the evidence behind `seqzoo.paper.models.TUNED`."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import keras
import tensorflow as tf

from seqzoo.errors import UserError
from seqzoo.files import write_json
from seqzoo.paper.models import compiled, matched_width
from seqzoo.paper.report import output_folder
from seqzoo.paper.runs import setup
from seqzoo.paper.tasks import MODELS

# The recurrent baselines' own learning rate and gradient clipping (with the task's optimizer), as
# `seqzoo paper --task T --tune` picked them on this project's 2-core CPU: every point of
# TUNING_GRID trained TUNING_STEPS batches at the task's full size from the same seed and
# batches; the lowest validation loss won. The paper grid-searched its baselines too.
TUNING_GRID = tuple((rate, clip) for rate in (5e-4, 2e-3, 8e-3) for clip in (1.0, None))
TUNING_STEPS = 150


@dataclass
class TuningPoint:
    model: str
    units: int
    learning_rate: float
    clipnorm: float | None
    steps: int  # batches trained
    val_loss: float  # after those steps; nan where the loss diverged


def tune(name: str, models=MODELS[1:], *, quick: bool = False, T: int | None = None,
         mnist_path: str | Path | None = None, seed: int = 1111, steps: int | None = None,
         grid=TUNING_GRID) -> list[TuningPoint]:
    """Each recurrent baseline trained `steps` batches (TUNING_STEPS; 30 with `quick`; as many passes
    over the training set as that takes) at every (learning rate, clipnorm) of `grid`, from the
    same seed and batches, and scored on the validation set: the evidence behind `TUNED`. The TCN
    keeps the paper's settings."""
    from seqzoo.data.batching import batches, steps_per_epoch

    if "tcn" in models:
        raise UserError("--tune tunes the recurrent baselines (lstm, gru, rnn); the TCN keeps the paper's "
                        "settings")
    task, (train, validation, _), target = setup(name, models, quick, T, None, mnist_path, seed)
    channels = train[0].shape[-1]
    steps = steps or (30 if quick else TUNING_STEPS)
    passes = range(-(-steps // steps_per_epoch(len(train[0]), task.batch_size)))  # MNIST: more than one
    examples = tf.data.Dataset.from_tensor_slices(train)
    points = []
    for kind in models:
        width = matched_width(kind, task, channels, target)
        for rate, clip in grid:
            keras.utils.set_random_seed(seed)
            model = compiled(kind, task, channels, width,
                             {"optimizer": task.optimizer, "learning_rate": rate, "clipnorm": clip})
            model.fit(batches(examples, lambda d: d.batch(task.batch_size), shuffle_seed=seed, epochs=passes),
                      steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False,
                      callbacks=[keras.callbacks.TerminateOnNaN()])
            loss = model.evaluate(*validation, batch_size=256, verbose=0, return_dict=True)["loss"]
            loss = float(loss) if math.isfinite(loss) else math.nan
            points.append(TuningPoint(kind, width, rate, clip, steps, loss))
    return points


def chosen(points: list[TuningPoint]) -> dict[str, TuningPoint]:
    """Each model's point with the lowest validation loss (a diverged one never wins)."""
    best = {}
    for point in points:
        if math.isfinite(point.val_loss) and (point.model not in best or
                                              point.val_loss < best[point.model].val_loss):
            best[point.model] = point
    return best


def tuning_markdown(points: list[TuningPoint]) -> str:
    picks = chosen(points)
    lines = [f"| model | units | learning rate | clipnorm | validation loss after {points[0].steps} steps "
             "| chosen |",
             "|---|---|---|---|---|---|"]
    for p in points:
        loss = f"{p.val_loss:.4g}" if math.isfinite(p.val_loss) else "diverged"
        clip = p.clipnorm if p.clipnorm else "none"
        lines.append(f"| {p.model} | {p.units} | {p.learning_rate:g} | {clip} | {loss} "
                     f"| {'yes' if picks.get(p.model) is p else ''} |")
    return "\n".join(lines) + "\n"


def write_tuning(points: list[TuningPoint], out: str | Path, name: str, T: int | None, quick: bool) -> Path:
    """`<out>/tuning-<task>[-quick].json`: every grid point and each model's pick, written atomically."""
    path = output_folder(out) / f"tuning-{name}{'-quick' if quick else ''}.json"
    picks = {model: [p.learning_rate, p.clipnorm] for model, p in chosen(points).items()}
    write_json(path, {"task": name, "T": T, "quick": quick, "points": [asdict(p) for p in points],
                      "chosen": picks})
    return path
