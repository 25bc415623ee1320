"""Small file helpers shared by training, export and the caches."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def write_text(path: str | Path, text: str) -> Path:
    """Writes text through a temporary file and a rename, so no reader sees half of it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def write_json(path: Path, value: Any) -> None:
    """Writes JSON atomically (see `write_text`)."""
    write_text(path, json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def cache_dir(kind: str) -> Path:
    """`$SEQZOO_CACHE/<kind>` (default `~/.cache/seqzoo/<kind>`): parsed vectors, generated data."""
    return Path(os.environ.get("SEQZOO_CACHE", Path.home() / ".cache" / "seqzoo")) / kind
