"""Is an exported version whole? Its card lists every file with its size and sha256; a version
is checked against that list before it is used, and a damaged one is named with what is wrong."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path, PurePosixPath

from seqzoo.errors import SeqzooNote, UserError
from seqzoo.files import file_digest, irregularity, json_digest
from seqzoo.schema import Rule, check_record

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
    """{relative path: {'bytes', 'sha256'}} of every regular file of a version folder but the card
    (links are not followed: an export holds none)."""
    return {
        path.relative_to(version).as_posix(): {"bytes": path.stat().st_size, "sha256": file_digest(path)}
        for path in sorted(version.rglob("*"))
        if path.is_file() and not path.is_symlink() and path.name != CARD
    }


def card_digest(card: dict) -> str:
    """sha256 of a card's content (its own `card_sha256` left out), however it is spaced."""
    return json_digest(card, without="card_sha256")


CARD_MAX_BYTES = 64 << 20  # a card lists files and describes signatures: far less than this
SHA256 = re.compile(r"[0-9a-f]{64}")


def read_card(version: Path) -> dict:
    """A version's card, read as data a user may have edited, never trusted: its fields of the right
    kinds, every file it lists a plain relative path with a size and a sha256, its own checksum
    right. UserError naming the version and what is wrong."""
    card, found = _card(version)
    if found:
        raise UserError(f"exported version '{version}' is damaged: {'; '.join(found)}")
    return card


def _card(version: Path) -> tuple[dict | None, list[str]]:
    path = version / CARD
    problem = irregularity(path, CARD_MAX_BYTES)
    if problem is not None:
        return None, [f"{CARD} is missing" if problem == "does not exist" else f"{CARD} {problem}"]
    try:
        card = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as err:
        return None, [f"{CARD} does not read ({type(err).__name__})"]
    if not isinstance(card, dict) or not isinstance(card.get("files"), dict):
        return None, [f"{CARD} lists no files (a damaged card, or an export older than seqzoo's file "
                      "checks: export it again)"]
    if card.get("card_sha256") != card_digest(card):
        return None, [f"{CARD} has changed since export"]
    from seqzoo.tasks import TASKS

    fields = {"name": Rule(str), "version": Rule(int, minimum=1), "model": Rule(str),
              "task": Rule(str, choices=tuple(TASKS)), "tflite": Rule(dict), "saved_model": Rule(dict)}
    if "meta" in card and not isinstance(card["meta"], dict):
        return None, [f"{CARD}: meta expects dict, got {type(card['meta']).__name__}"]
    try:
        check_record(card, fields, CARD)
        Rule(str).check("tflite.file", card["tflite"].get("file"), what=CARD)
    except UserError as err:
        return None, [str(err)]
    for name, entry in card["files"].items():
        if not _plain_relative(name) or not isinstance(entry, dict) or type(entry.get("bytes")) is not int \
                or not isinstance(entry.get("sha256"), str) or not SHA256.fullmatch(entry["sha256"]):
            return None, [f"{CARD} lists a file it cannot vouch for: {name!r} (a plain relative path with "
                          "bytes and a sha256 expected)"]
    return card, []


def _plain_relative(name: str) -> bool:
    """A path inside the version: relative, no '..', no empty part."""
    parts = PurePosixPath(name).parts
    return bool(parts) and not PurePosixPath(name).is_absolute() and ".." not in parts and "" not in parts


def problems(version: Path) -> list[str]:
    """What is wrong with a version folder: its card, or a file missing or changed since export."""
    card, found = _card(version)
    if card is None:
        return found
    for name, expected in card["files"].items():
        path = version / name
        if path.is_symlink() or irregularity(path) is not None:
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
    card, found = _card(version)
    if card is None:
        return found  # without a card nothing else can be compared
    found = problems(version)
    found += [f"{link.relative_to(version).as_posix()} is a link, which an export never holds"
              for link in sorted(version.rglob("*")) if link.is_symlink()]
    found += [f"{name} was added since export" for name in file_table(version) if name not in card["files"]]
    recorded = card.get("saved_model_fingerprint")
    if recorded is not None and not (isinstance(recorded, dict) and all(isinstance(recorded.get(f), str)
                                                                        for f in FINGERPRINT_FIELDS)):
        found.append(f"{CARD}'s saved_model_fingerprint is not a record of {len(FINGERPRINT_FIELDS)} hashes")
    elif recorded is None:
        found.append("the card records no SavedModel fingerprint (an export older than seqzoo's provenance: "
                     "export it again)")
    elif (version / "fingerprint.pb").is_file():
        now = saved_model_fingerprint(version)
        found += [f"the SavedModel fingerprint's {field} is {now[field]}, not {recorded[field]}"
                  for field in FINGERPRINT_FIELDS if now[field] != recorded.get(field)]
    return found


def provenance(card: dict) -> tuple[dict, dict | None]:
    """What made a version (`versions`: seqzoo, TensorFlow, Keras) and what it was trained on
    (`training_data`: path, bytes, sha256; None for a model trained outside `seqzoo train`), checked
    as data; UserError naming the field that is wrong."""
    made_by = check_record(card.get("versions"), {k: Rule(str) for k in ("seqzoo", "tensorflow", "keras")},
                           f"{CARD}'s versions")
    data = card.get("training_data")
    if data is not None:
        data = check_record(data, {"path": Rule(str), "bytes": Rule(int, minimum=0),
                                   "sha256": Rule(str)}, f"{CARD}'s training_data")
    return made_by, data


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
