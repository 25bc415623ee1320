"""The one writer of every file seqzoo writes, and small file helpers shared by training, export and
the caches."""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from seqzoo.errors import UserError


def check_target(path: str | Path) -> Path:
    """A path a command may write a file to, checked before any work: not a folder or a device, its
    folder made if missing and writable. UserError naming the path otherwise."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"'{path}' is a folder; name a file to write")
    if path.exists() and not path.is_file():
        raise UserError(f"'{path}' is not a regular file; name a file to write")
    folder = existing = path.parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise UserError(f"cannot write '{path}': '{existing}' is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"cannot create the folder of '{path}': {err.strerror or err}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UserError(f"cannot write '{path}': its folder '{folder}' is not writable")
    return path


def check_beside(named: str | Path, beside: str | Path, what: str) -> Path:
    """A file a command writes beside the one the user named (`--out x.mid` -> `x.png`): written over
    only where it is an earlier run's (the named file is there too), never over a file of the user's."""
    named, beside = Path(named), check_target(beside)
    if beside.exists() and not named.exists():
        raise UserError(f"'{beside}' exists and '{named}' does not, so it is not an earlier run's {what}: "
                        "move it, or choose another --out")
    return beside


@contextlib.contextmanager
def written(path: str | Path) -> Iterator[Path]:
    """Where to write `path` whole or not at all: a temporary file beside it (its suffix kept, for the
    libraries that read the format from it) renamed onto `path` when the block ends, removed when it
    fails. The target is checked first (`check_target`); an OSError is one line naming the file."""
    path = check_target(path)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as err:
        raise UserError(f"cannot write '{path}': {err.strerror or err}") from None
    finally:
        tmp.unlink(missing_ok=True)


def regular_file(path: str | Path, what: str = "file", max_bytes: int | None = None) -> Path:
    """`path` if it is a regular file (not a folder, a device such as /dev/zero, or a pipe, which would
    block a read for ever) of at most `max_bytes`; UserError naming it and what is wrong otherwise."""
    problem = irregularity(path, max_bytes)
    if problem is not None:
        raise UserError(f"{what} '{path}' {problem}")
    return Path(path)


def irregularity(path: str | Path, max_bytes: int | None = None) -> str | None:
    """Why `path` is not a regular file of at most `max_bytes` to read ("is a folder", ...), or None."""
    try:
        info = Path(path).stat()  # follows links: a link to /dev/zero is a device
    except FileNotFoundError:
        return "does not exist"
    except OSError as err:
        return f"cannot be read: {err.strerror or err}"
    if stat.S_ISDIR(info.st_mode):
        return "is a folder"
    if not stat.S_ISREG(info.st_mode):
        return "is not a regular file (a device, a pipe or a socket)"
    if max_bytes is not None and info.st_size > max_bytes:
        return f"is {info.st_size:,} bytes; at most {max_bytes:,} are read"
    return None


def read_json(path: str | Path, what: str, max_bytes: int = 1 << 28) -> Any:
    """A JSON file seqzoo wrote (a card, run.json, ...), read back as data to check, never trusted:
    a regular file of at most `max_bytes`. UserError `"{what} <problem>"` otherwise (`what` says
    whose file it is: "run directory 'runs/x' is damaged: run.json")."""
    problem = irregularity(path, max_bytes)
    if problem is not None:
        raise UserError(f"{what} {problem}")
    try:
        return json.loads(Path(path).read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as err:
        raise UserError(f"{what} does not read as JSON ({type(err).__name__})") from None


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Writes a file through a temporary file and a rename, so no reader sees half of it (`written`)."""
    with written(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


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
    elif data.exists():
        files = [regular_file(data, "data file")]  # a device or a pipe is named as such
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
        files = (sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir()
                 else [regular_file(path, "data")])
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
