"""The parsed-vectors cache: `.npy` + JSON, keyed by the file and the load options.

No pickle: vectors reload with `np.load(..., mmap_mode="r", allow_pickle=False)`.
Folder: `$SEQZOO_CACHE`, default `~/.cache/seqzoo`, then `embeddings/<key>/`. An entry is
written whole (a folder renamed into place) and checked on every read against the sizes and
sha256 its meta.json records; a damaged one is removed, so the file is parsed and cached again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from seqzoo.files import cache_dir, file_digest, json_digest

ENTRY_FILES = ("vectors.npy", "words.json")


def cache_root() -> Path:
    return cache_dir("embeddings")


def cache_key(path: Path, options: dict) -> str:
    """Changes when the file (path, size, mtime) or the options change."""
    stat = path.stat()
    identity = {"path": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
                **options}
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:32]


def read_cached(key: str) -> tuple[list[str], np.ndarray, dict] | None:
    """(words, memory-mapped vectors, metadata), or None when not cached (or damaged: then removed)."""
    folder = cache_root() / key
    if not (folder / "meta.json").is_file():
        return None
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if meta.get("meta_sha256") != json_digest(meta, without="meta_sha256"):
            raise ValueError("meta.json differs from what was written")
        for name in ENTRY_FILES:
            expected, path = meta["files"][name], folder / name
            if path.stat().st_size != expected["bytes"] or file_digest(path) != expected["sha256"]:
                raise ValueError(f"{name} differs from what was written")
        words = json.loads((folder / "words.json").read_text(encoding="utf-8"))
        vectors = np.load(folder / "vectors.npy", mmap_mode="r", allow_pickle=False)
        if vectors.ndim != 2 or len(vectors) != len(words):
            raise ValueError("vectors and words differ in length")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):  # truncated, edited, or older
        shutil.rmtree(folder, ignore_errors=True)
        return None
    return words, vectors, meta


def write_cached(key: str, words: list[str], vectors: np.ndarray, meta: dict) -> Path | None:
    """Writes the cache entry whole (a temporary folder renamed); None if it cannot."""
    root = cache_root()
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
    except OSError:
        return None  # an unwritable cache only costs the next load its speed
    try:
        np.save(tmp / "vectors.npy", np.ascontiguousarray(vectors, dtype=np.float32))
        (tmp / "words.json").write_text(json.dumps(words, ensure_ascii=False), encoding="utf-8")
        files = {name: {"bytes": (tmp / name).stat().st_size, "sha256": file_digest(tmp / name)}
                 for name in ENTRY_FILES}
        # Written last: its presence marks the entry whole.
        meta = {**meta, "files": files}
        (tmp / "meta.json").write_text(json.dumps({**meta, "meta_sha256": json_digest(meta, "meta_sha256")}),
                                       encoding="utf-8")
        os.rename(tmp, root / key)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)  # e.g. another process cached it first
        return None
    return root / key
