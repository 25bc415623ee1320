"""Exports that run in a web browser: `seqzoo export --web` writes a static page beside the model.

A version's `web/` folder holds everything a page needs, and nothing it fetches from elsewhere:

    index.html, style.css, seqzoo.js   the page, and what every page shares (LiteRT.js, tokenizing)
    page.js                            the task's page (`Task.web_page`: seqzoo/exporters/web/page/<page>.js)
    model.tflite                       the browser-ready file (`seqzoo.exporters.web.model`)
    model.json                         its signatures, the text settings and vocabulary, the labels
    litert/                            LiteRT.js, pinned (`seqzoo.exporters.web.runtime`), and its licence

Serve the folder over HTTP (`seqzoo web saved_models/NAME`) or put it on any static host as it is.
"""

from __future__ import annotations

import shutil
import warnings
from html import escape
from pathlib import Path

import keras

from seqzoo.errors import SeqzooNote
from seqzoo.exporters.card import TEXT_SETTINGS
from seqzoo.exporters.web.model import NotBrowserReady, replay_parity, signature_table, web_tflite
from seqzoo.exporters.web.runtime import VERSION as LITERTJS_VERSION
from seqzoo.exporters.web.runtime import checked_runtime, copy_runtime
from seqzoo.files import write_json
from seqzoo.tasks import Task
from seqzoo.text import Vectorizer

PAGE = Path(__file__).parent / "page"
SHARED_FILES = ("seqzoo.js", "style.css")


def browser_file(task: Task, model: keras.Model, meta: dict, vectorizer: Vectorizer | None,
                 name: str, tflite_model: bytes | None = None) -> bytes | str:
    """The browser-ready `.tflite` file (`tflite_model` itself where it is one already), or the one-line
    reason there is none (a note is shown)."""
    try:
        return web_tflite(task, model, meta, vectorizer, tflite_model)
    except NotBrowserReady as err:
        warnings.warn(f"{name} gets no browser page: {err}", SeqzooNote, stacklevel=2)
        return str(err)


def write_page(folder: Path, web_model: bytes, *, task: Task, tflite_model: bytes,
               vectorizer: Vectorizer | None, meta: dict, heldout: list, name: str) -> dict:
    """Writes the page folder for `web_model` once it agrees with the `.tflite` file; returns the
    model card's `web` entry."""
    parity = replay_parity(task, tflite_model, web_model, vectorizer, task.parity_inputs(heldout), meta)
    folder.mkdir()
    (folder / "model.tflite").write_bytes(web_model)
    signatures = signature_table(web_model)
    write_json(folder / "model.json", {
        "name": name,
        "task": task.name,
        "page": task.web_page,
        "model": "model.tflite",
        "litertjs": LITERTJS_VERSION,
        "signatures": signatures,
        "text": None if vectorizer is None else {key: vectorizer.get_config()[key] for key in TEXT_SETTINGS},
        "vocabulary": None if vectorizer is None else vectorizer.get_vocabulary(),
        "meta": task.web_meta(meta),
    })
    html = (PAGE / "index.html").read_text().replace("{{name}}", escape(name))
    (folder / "index.html").write_text(html)
    for file in SHARED_FILES:
        shutil.copyfile(PAGE / file, folder / file)
    shutil.copyfile(PAGE / f"{task.web_page}.js", folder / "page.js")
    copy_runtime(folder / "litert")
    files = [path for path in folder.rglob("*") if path.is_file()]
    # What a browser with relaxed SIMD downloads: all but the compat wasm pair, the licence, package.json.
    loaded = [path for path in files if "_compat_" not in path.name and path.name not in ("LICENSE",
                                                                                          "package.json")]
    return {
        "folder": folder.name,
        "page": task.web_page,
        "litertjs": LITERTJS_VERSION,
        "signatures": signatures,
        "fixed_length": task.web_length(meta, vectorizer),
        "parity": parity,
        "bytes": sum(path.stat().st_size for path in files),
        "bytes_loaded": sum(path.stat().st_size for path in loaded),
    }


__all__ = ["LITERTJS_VERSION", "NotBrowserReady", "browser_file", "checked_runtime", "write_page"]
