"""export(): a trained model -> saved_models/<name>/<version>/, whole or not at all.

A version folder holds the SavedModel (strings in, tokenization in the graph),
`<name>.tflite`, `vocabulary.json` and `seqzoo.json` (the model card). It is
built in a hidden temporary folder beside the versions, checked for parity, and
renamed to the next free integer: TF Serving never sees half a version, and no
version is ever overwritten.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import keras

from seqzoo.errors import UserError
from seqzoo.exporters.card import model_card
from seqzoo.exporters.parity import check_parity
from seqzoo.exporters.saved_model import portable_rnn_kernels, write_saved_model
from seqzoo.exporters.serving_config import write_models_config
from seqzoo.exporters.tflite import to_tflite
from seqzoo.files import write_json
from seqzoo.registry import get_entry, list_models
from seqzoo.tasks import get_task
from seqzoo.text import Vectorizer


def export(
    model: keras.Model,
    vectorizer: Vectorizer,
    *,
    name: str,
    labels: list[str] | None = None,
    meta: dict | None = None,
    entry: str | None = None,
    base: str | Path = "saved_models",
    config: dict | None = None,
    metrics: dict | None = None,
    heldout_texts: list[str] | None = None,
) -> Path:
    """Exports a trained model and its vectorizer; returns the new version folder.

    Args:
        model: keras.Model. A trained zoo model (token ids in).
        vectorizer: Vectorizer. The adapted vectorizer the model was trained with.
        name: str. The served model's name: the folder under `base`.
        labels: list of str. Label names, in the order of the model's classes
            (classifiers; the same as `meta={"labels": labels}`).
        meta: dict. What the entry's task serves with besides the vectorizer, as
            `seqzoo train` records it in run.json.
        entry: str. The zoo entry the model was built from (default: `name`).
        base: str. The export base folder TF Serving's model_config_list points into.
        config: dict. The merged config, recorded in the model card.
        metrics: dict. Evaluation figures, recorded in the model card.
        heldout_texts: list of str. Texts for the parity check (edge cases are added).

    Example:
    ```python
    path = seqzoo.export(model, vectorizer, name="sentiment", labels=["neg", "pos"])
    ```
    """
    if entry is None and name not in list_models():
        raise UserError(f"export name {name!r} is not a zoo entry; pass entry= naming the one it was "
                        f"built from ({', '.join(list_models())})")
    if model.inputs and "int" not in str(model.inputs[0].dtype):
        raise UserError(f"model {model.name!r} reads float sequences; `seqzoo.export` serves text models "
                        "only (save it with model.export(path) instead)")
    task = get_task(get_entry(entry or name).task)
    meta = {**(meta or {}), **({"labels": labels} if labels is not None else {})}
    model_dir = _writable_model_dir(Path(base), name)
    tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=model_dir))
    try:
        with portable_rnn_kernels(model):
            write_saved_model(tmp, task.endpoints(model, vectorizer, meta), model, vectorizer)
            tflite_model = to_tflite(model, task.tflite_endpoints(model, meta))
        tflite_file = f"{name}.tflite"
        (tmp / tflite_file).write_bytes(tflite_model)
        write_json(tmp / "vocabulary.json", vectorizer.get_vocabulary())
        if vectorizer.wordpiece_vocabulary is not None:
            write_json(tmp / "wordpiece_vocabulary.json", vectorizer.wordpiece_vocabulary)
        parity = check_parity(task, model, vectorizer, tmp, tflite_model, heldout_texts or [], meta)
        version = _next_version(model_dir)
        write_json(tmp / "seqzoo.json", model_card(
            name=name, entry=entry or name, task=task, version=version, config=config,
            meta=meta, vectorizer=vectorizer, metrics=metrics, parity=parity,
            tflite_file=tflite_file,
        ))
        published = _publish(tmp, model_dir, version)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    write_models_config(Path(base))
    return published


def export_run(run_dir: str | Path, *, name: str | None = None, base: str | Path = "saved_models") -> Path:
    """Exports a finished `seqzoo train` run directory."""
    from seqzoo.training import load_run

    run = load_run(run_dir)
    return export(
        run.model, run.vectorizer, name=name or run.name, entry=run.name, meta=run.meta,
        base=base, config=run.config, metrics=run.metrics, heldout_texts=run.heldout_texts,
    )


def latest_version(model_dir: str | Path) -> Path:
    """The highest numbered version folder of an exported model."""
    model_dir = Path(model_dir)
    if (model_dir / "saved_model.pb").is_file():
        return model_dir  # already a version folder
    versions = [p for p in model_dir.glob("*") if p.is_dir() and p.name.isdigit()]
    if not versions:
        raise UserError(f"'{model_dir}' holds no exported versions (expected {model_dir}/<n>/)")
    return max(versions, key=lambda p: int(p.name))


def _writable_model_dir(base: Path, name: str) -> Path:
    model_dir = base / name
    try:
        model_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"export base '{base}' is not writable: {err.strerror}") from None
    if not os.access(model_dir, os.W_OK | os.X_OK):
        raise UserError(f"export base '{base}' is not writable: permission denied")
    return model_dir


def _next_version(model_dir: Path) -> int:
    numbers = [int(p.name) for p in model_dir.iterdir() if p.name.isdigit()]
    return max(numbers, default=0) + 1


def _publish(tmp: Path, model_dir: Path, version: int) -> Path:
    """Renames tmp to the version folder; a rename is atomic on one filesystem."""
    target = model_dir / str(version)
    if target.exists():  # another export took this number meanwhile
        raise UserError(f"version folder '{target}' appeared during export; export again")
    tmp.chmod(0o755)  # mkdtemp makes it 0700; a serving user must be able to read it
    os.rename(tmp, target)
    return target

