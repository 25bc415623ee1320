"""Small file helpers shared by training, export and the caches."""

from __future__ import annotations

import glob
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from seqzoo.errors import UserError


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Writes a file through a temporary file and a rename, so no reader sees half of it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_text(path: str | Path, text: str) -> Path:
    """Writes UTF-8 text atomically (see `write_bytes`)."""
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: Path, value: Any) -> None:
    """Writes JSON atomically (see `write_text`)."""
    write_text(path, json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def cache_dir(kind: str) -> Path:
    """`$SEQZOO_CACHE/<kind>` (default `~/.cache/seqzoo/<kind>`): parsed vectors, generated data."""
    return Path(os.environ.get("SEQZOO_CACHE", Path.home() / ".cache" / "seqzoo")) / kind


WHOLE_FILE_HASH_LIMIT = 1 << 30  # bytes; past it a file is known by size, mtime and its two ends
_BLOCK = 1 << 20


def file_digest(path: str | Path, whole: bool | None = None) -> str:
    """sha256 of a file's bytes (`whole`; default: up to 1 GiB), else of its size, mtime and first and
    last MiB."""
    path = Path(path)
    digest = hashlib.sha256()
    size = path.stat().st_size
    with open(path, "rb") as file:
        if size <= WHOLE_FILE_HASH_LIMIT if whole is None else whole:
            for block in iter(lambda: file.read(_BLOCK), b""):
                digest.update(block)
        else:
            digest.update(f"{size}:{path.stat().st_mtime_ns}".encode())
            digest.update(file.read(_BLOCK))
            file.seek(size - _BLOCK)
            digest.update(file.read(_BLOCK))
    return digest.hexdigest()


def is_glob(path: str | Path) -> bool:
    """Whether a data path is a glob pattern (`shards/*.txt`, `pairs/**/*.tsv`)."""
    return any(c in str(path) for c in "*?[")


def glob_files(pattern: str | Path) -> list[Path]:
    """The files a glob pattern matches (`**` recursive), sorted."""
    return sorted(Path(p) for p in glob.glob(str(pattern), recursive=True) if Path(p).is_file())


def data_files(data: str | Path, suffixes: tuple[str, ...], what: str) -> list[Path]:
    """A file, a folder's files ending in one of `suffixes` (recursively) or a glob's matches, sorted;
    UserError when `data` does not exist or holds none (`what` names them: "score files")."""
    data = Path(data)
    if is_glob(data):
        files = glob_files(data)
    elif data.is_dir():
        files = sorted(p for p in data.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
    elif data.is_file():
        files = [data]
    else:
        raise UserError(f"data '{data}' does not exist")
    if not files:
        raise UserError(f"'{data}' holds no {what} ({', '.join(suffixes)})")
    return files


def data_fingerprint(path: str | Path) -> dict:
    """{'path', 'bytes', 'sha256'} of a data file, or of a folder's or a glob's files (each relative path
    and digest), so a run can tell whether it is resumed on the same data. Files are hashed whole up to
    1 GiB in all, the rest by size, mtime and ends: a 100 GB corpus costs a GiB of reading, not a pass."""
    path = Path(path)
    if is_glob(path):
        files = glob_files(path)
    else:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    digest, whole_bytes = hashlib.sha256(), WHOLE_FILE_HASH_LIMIT
    for file in files:
        name = file.relative_to(path) if path.is_dir() else (file if len(files) > 1 else "")
        size = file.stat().st_size
        whole = size <= whole_bytes
        whole_bytes -= size if whole else 0
        digest.update(f"{name}\0{file_digest(file, whole)}\0".encode())
    return {"path": str(path.resolve()), "bytes": sum(f.stat().st_size for f in files),
            "sha256": digest.hexdigest()}


def json_digest(value: dict, without: str) -> str:
    """sha256 of a JSON object's content, the key `without` (where the digest is kept) left
    out, however the file is spaced: so a record can carry its own checksum."""
    content = {key: item for key, item in value.items() if key != without}
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
