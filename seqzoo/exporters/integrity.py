"""Is an exported version whole? Its card lists every file with its size and sha256; a version
is checked against that list before it is used, and a damaged one is named with what is wrong."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from seqzoo.errors import SeqzooNote, UserError
from seqzoo.files import file_digest, json_digest

CARD = "seqzoo.json"
FINGERPRINT_FIELDS = ("saved_model_checksum", "graph_def_program_hash", "signature_def_hash",
                      "saved_object_graph_hash", "checkpoint_hash")


def saved_model_fingerprint(version: Path) -> dict[str, str]:
    """The SavedModel's own fingerprint (`fingerprint.pb`, as TF Serving and Vertex read it): its
    hashes as decimal strings (64-bit: past what a JSON number holds exactly in JavaScript)."""
    import tensorflow as tf

    fingerprint = tf.saved_model.experimental.read_fingerprint(str(version))
    return {field: str(getattr(fingerprint, field)) for field in FINGERPRINT_FIELDS}


def file_table(version: Path) -> dict[str, dict]:
    """{relative path: {'bytes', 'sha256'}} of every file of a version folder but the card."""
    return {
        path.relative_to(version).as_posix(): {"bytes": path.stat().st_size, "sha256": file_digest(path)}
        for path in sorted(version.rglob("*")) if path.is_file() and path.name != CARD
    }


def card_digest(card: dict) -> str:
    """sha256 of a card's content (its own `card_sha256` left out), however it is spaced."""
    return json_digest(card, without="card_sha256")


def problems(version: Path) -> list[str]:
    """What is wrong with a version folder: its card, or a file missing or changed since export."""
    try:
        card = json.loads((version / CARD).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return [f"{CARD} is missing"]
    except (OSError, ValueError) as err:
        return [f"{CARD} does not read ({type(err).__name__})"]
    if not isinstance(card, dict) or not isinstance(card.get("files"), dict):
        return [f"{CARD} lists no files (a damaged card, or an export older than seqzoo's file "
                "checks: export it again)"]
    if card.get("card_sha256") != card_digest(card):
        return [f"{CARD} has changed since export"]
    found = []
    for name, expected in card["files"].items():
        path = version / name
        if not path.is_file():
            found.append(f"{name} is missing")
        elif (path.stat().st_size, file_digest(path)) != (expected["bytes"], expected["sha256"]):
            found.append(f"{name} has changed since export (size or sha256)")
    return found


def changes(version: str | Path) -> list[str]:
    """Everything about a version folder that differs from its card: `problems`, files added since
    export, and the SavedModel fingerprint recomputed (`seqzoo verify`). Empty: the version is as
    exported."""
    version = Path(version)
    if not version.exists():
        raise UserError(f"'{version}' does not exist")
    if not (version / CARD).is_file() and not (version / "saved_model.pb").is_file():
        raise UserError(f"'{version}' is not an exported version folder (no {CARD}, no saved_model.pb)")
    found = problems(version)
    if found and found[0].startswith(CARD):
        return found  # without a card nothing else can be compared
    card = json.loads((version / CARD).read_text(encoding="utf-8"))
    found += [f"{name} was added since export" for name in file_table(version) if name not in card["files"]]
    recorded = card.get("saved_model_fingerprint")
    if recorded is None:
        found.append("the card records no SavedModel fingerprint (an export older than seqzoo's provenance: "
                     "export it again)")
    elif (version / "fingerprint.pb").is_file():
        now = saved_model_fingerprint(version)
        found += [f"the SavedModel fingerprint's {field} is {now[field]}, not {recorded[field]}"
                  for field in FINGERPRINT_FIELDS if now[field] != recorded.get(field)]
    return found


def latest_version(path: str | Path) -> Path:
    """A usable version folder: `path` itself if it is one, else the newest whole version in it.

    A newer version that is damaged or empty is skipped with a note naming what is wrong,
    never silently; UserError when no version is whole.
    """
    path = Path(path)
    if path.name.isdigit() or (path / "saved_model.pb").is_file() or (path / CARD).is_file():
        found = problems(path)
        if found:
            raise UserError(f"exported version '{path}' is damaged: {'; '.join(found)}")
        return path
    versions = sorted((p for p in path.glob("*") if p.is_dir() and p.name.isdigit()),
                      key=lambda p: int(p.name), reverse=True)
    if not versions:
        raise UserError(f"'{path}' holds no exported versions (expected {path}/<n>/)")
    skipped = []
    for version in versions:
        found = problems(version)
        if not found:
            for damaged, reasons in skipped:
                warnings.warn(f"'{damaged}' is damaged ({'; '.join(reasons)}); using version {version.name}",
                              SeqzooNote, stacklevel=2)
            return version
        skipped.append((version, found))
    newest, reasons = skipped[0]
    raise UserError(f"'{path}' holds no whole exported version; the newest, '{newest}', is damaged: "
                    f"{'; '.join(reasons)}")
