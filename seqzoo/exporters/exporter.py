"""export(): a trained model -> saved_models/<name>/<version>/, whole or not at all.

A version folder holds the SavedModel (strings in, tokenization in the graph),
`<name>.tflite`, `vocabulary.json` and `seqzoo.json` (the model card, which lists every
other file with its size and sha256). It is built in a hidden temporary folder beside the
versions, checked for parity, and renamed to the next free integer: TF Serving never sees
half a version, and no version is ever overwritten. A failed write (a full disk) publishes
nothing; the folder a killed export leaves is removed by the next export.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import keras
import tensorflow as tf

from seqzoo.errors import ExportError, SeqzooNote, UserError, first_line
from seqzoo.exporters.card import model_card
from seqzoo.exporters.integrity import card_digest, file_table, saved_model_fingerprint
from seqzoo.exporters.parity import check_parity
from seqzoo.exporters.quantize import parse_quantizations
from seqzoo.exporters.quantize import quantize as quantize_tflite
from seqzoo.exporters.saved_model import portable_rnn_kernels, write_saved_model
from seqzoo.exporters.serving_config import write_models_config
from seqzoo.exporters.tflite import tflite_converter
from seqzoo.exporters.warmup import write_warmup
from seqzoo.exporters.web import browser_file, checked_runtime, write_page
from seqzoo.files import write_json
from seqzoo.registry import get_entry, list_models
from seqzoo.tasks import get_task
from seqzoo.text import Vectorizer


def export(
    model: keras.Model,
    vectorizer: Vectorizer | None,
    *,
    name: str,
    labels: list[str] | None = None,
    meta: dict | None = None,
    entry: str | None = None,
    base: str | Path = "saved_models",
    config: dict | None = None,
    metrics: dict | None = None,
    heldout_texts: list[str] | None = None,
    data: dict | None = None,
    quantize: str | list[str] | None = None,
    web: bool = False,
) -> Path:
    """Exports a trained model and its vectorizer; returns the new version folder.

    Args:
        model: keras.Model. A trained zoo model (token ids, images or piano-roll frames in).
        vectorizer: Vectorizer. The adapted vectorizer the model was trained with (None for
            an entry that reads no text: music).
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
        data: dict. The training data's `path`, `bytes` and `sha256` (`seqzoo.files.data_fingerprint`),
            recorded in the model card; `seqzoo train` runs carry theirs.
        quantize: str or list of str. Quantised `.tflite` files to add: "float16", "dynamic", "int8"
            (comma-separated or a list), each measured against float32 on the held-out inputs in
            the card (`tflite.quantized`); one the converter cannot make is listed with its reason.
        web: bool. Also write `web/`, a page that runs the model in a browser on LiteRT.js
            (`seqzoo.exporters.web`), checked against the `.tflite` file; an entry that cannot have one is
            named in a note and exported without it.

    Example:
    ```python
    path = seqzoo.export(model, vectorizer, name="sentiment", labels=["neg", "pos"])
    ```
    """
    if not MODEL_NAME.fullmatch(name or ""):
        raise UserError(f"export name {name!r} is not a folder name TF Serving can serve: use letters, "
                        "digits, '.', '_' and '-', starting with a letter or digit")
    if entry is None and name not in list_models():
        raise UserError(f"export name {name!r} is not a zoo entry; pass entry= naming the one it was "
                        f"built from ({', '.join(list_models())})")
    task = get_task(get_entry(entry or name).task)
    if task.serving.input == "text" and task.serving.reads_text and model.inputs \
            and "int" not in str(model.inputs[0].dtype):
        raise UserError(f"model {model.name!r} reads float sequences; `seqzoo.export` serves text models "
                        "only (save it with model.export(path) instead)")
    meta = {**(meta or {}), **({"labels": labels} if labels is not None else {})}
    kinds = parse_quantizations(quantize)
    if kinds and not len(task.heldout_inputs(heldout_texts or [])):
        raise UserError("quantised files are measured on held-out inputs, and none were given "
                        "(heldout_texts)")
    if web:
        checked_runtime()  # before anything is written
    model_dir = _writable_model_dir(Path(base), name)
    _remove_stale_exports(model_dir)
    with _writing(model_dir):
        owner = f"{TMP_PREFIX}{socket.gethostname()}@{os.getpid()}@"
        tmp = Path(tempfile.mkdtemp(prefix=owner, dir=model_dir))
    try:
        quantized = None
        with _writing(model_dir), portable_rnn_kernels(model), \
                tflite_converter(model, task.tflite_endpoints(model, meta)) as convert:
            write_saved_model(tmp, task.endpoints(model, vectorizer, meta), model, vectorizer)
            tflite_model = convert()
            tflite_file = f"{name}.tflite"
            (tmp / tflite_file).write_bytes(tflite_model)
            if kinds:
                files, quantized = quantize_tflite(
                    convert, tflite_model, kinds, task=task, vectorizer=vectorizer,
                    heldout=task.heldout_inputs(heldout_texts or []), meta=meta, stem=name)
                for file, content in files.items():
                    (tmp / file).write_bytes(content)
            web_model = browser_file(task, model, meta, vectorizer, name, tflite_model) if web else None
            if vectorizer is not None:
                write_json(tmp / "vocabulary.json", vectorizer.get_vocabulary())
            if vectorizer is not None and vectorizer.wordpiece_vocabulary is not None:
                write_json(tmp / "wordpiece_vocabulary.json", vectorizer.wordpiece_vocabulary)
        loaded = tf.saved_model.load(str(tmp))
        parity = check_parity(task, model, vectorizer, loaded, tflite_model, heldout_texts or [], meta)
        if isinstance(web_model, bytes):
            with _writing(model_dir):
                web_card = write_page(tmp / "web", web_model, task=task, tflite_model=tflite_model,
                                      vectorizer=vectorizer, meta=meta, heldout=heldout_texts or [],
                                      name=name)
        else:
            web_card = None if web_model is None else {"folder": None, "reason": web_model}
        with _writing(model_dir):
            write_warmup(tmp, loaded, name, task.serving.input, task.parity_inputs(heldout_texts or [])[0])
        with _writing(model_dir):
            version = _next_version(model_dir)
            card = model_card(
                name=name, entry=entry or name, task=task, version=version, config=config,
                meta=meta, vectorizer=vectorizer, metrics=metrics, parity=parity,
                tflite_file=tflite_file, quantized=quantized,
            )
            card["training_data"] = data
            if web_card is not None:
                card["web"] = web_card
            card["saved_model_fingerprint"] = saved_model_fingerprint(tmp)
            card["files"] = file_table(tmp)
            write_json(tmp / "seqzoo.json", {**card, "card_sha256": card_digest(card)})
            published = _publish(tmp, model_dir, version)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    try:
        write_models_config(Path(base))
    except OSError as err:
        raise UserError(f"exported '{published}', but could not update {base}/models.config: "
                        f"{err.strerror}") from None
    return published


def export_run(run_dir: str | Path, *, name: str | None = None, base: str | Path = "saved_models",
               quantize: str | list[str] | None = None, web: bool = False) -> Path:
    """Exports a finished `seqzoo train` run directory (`quantize`, `web`: see `export`)."""
    from seqzoo.training import load_run

    run = load_run(run_dir)
    return export(
        run.model, run.vectorizer, name=run.name if name is None else name, entry=run.name, meta=run.meta,
        base=base, config=run.config, metrics=run.metrics, heldout_texts=run.heldout_texts, data=run.data,
        quantize=quantize, web=web,
    )


def _writable_model_dir(base: Path, name: str) -> Path:
    model_dir = base / name
    try:
        model_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"export base '{base}' is not writable: {err.strerror}") from None
    if not os.access(model_dir, os.W_OK | os.X_OK):
        raise UserError(f"export base '{base}' is not writable: permission denied")
    return model_dir


MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # one folder under the base, never a path
TMP_PREFIX = ".export@"  # .export@<host>@<pid>@<random>: whose it is, so leftovers can be told apart
STALE_AFTER = 24 * 3600  # seconds: a temporary folder this old is a leftover, whoever made it


@contextlib.contextmanager
def _writing(model_dir: Path) -> Iterator[None]:
    """A failed write (a full disk, a file-size limit, permissions) as one line; TensorFlow
    reports its own writes as OpErrors naming the file and the reason."""
    try:
        yield
    except OSError as err:
        raise ExportError(f"export to '{model_dir}' failed, nothing was published: {err.strerror or err}"
                          + (f" ({err.filename})" if err.filename else "")) from None
    except tf.errors.OpError as err:
        raise ExportError(f"export to '{model_dir}' failed, nothing was published: "
                          f"{first_line(err)}") from None


def _remove_stale_exports(model_dir: Path) -> None:
    """Removes the temporary folders of exports that were killed: made on this host by a process
    that is gone, or older than a day. A running export's folder is left alone."""
    host = socket.gethostname()
    for folder in model_dir.glob(".export*"):
        _, _, owner = folder.name.partition("@")
        made_on, _, pid = owner.partition("@")
        pid = pid.partition("@")[0]
        try:
            old = time.time() - folder.stat().st_mtime > STALE_AFTER
        except OSError:
            continue
        dead = made_on == host and pid.isdigit() and not _alive(int(pid))
        if old or dead or not owner:  # `not owner`: the unnamed folders of older seqzoo versions
            shutil.rmtree(folder, ignore_errors=True)
            warnings.warn(f"removed '{folder}', the unfinished folder of an export that was killed",
                          SeqzooNote, stacklevel=3)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


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

