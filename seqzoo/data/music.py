"""Polyphonic music as piano rolls: scores parsed with music21 into binary frames of 88 pitches,
one frame per quarter note (the JSB Chorales convention of Boulanger-Lewandowski et al. 2012).

Frame t holds the pitches sounding at quarter-note beat t. The offline default is the Bach
chorales music21 ships as MusicXML; a user's folder of MIDI / MusicXML files reads the same way.
A set of scores is parsed once and cached as `.npz` (no pickle) under `$SEQZOO_CACHE/music/`.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tensorflow as tf

from seqzoo.data.batching import batches, mean_over_valid, split_whole
from seqzoo.errors import SeqzooNote, UserError, check_choice, first_line
from seqzoo.files import cache_dir, data_files, data_fingerprint, irregularity, regular_file, written

LOWEST = 21  # MIDI A0: frame column 0
PITCHES = 88  # A0 .. C8 (MIDI 21 .. 108)
HIGHEST = LOWEST + PITCHES - 1
SCORE_SUFFIXES = (".mid", ".midi", ".mxl", ".musicxml", ".xml", ".krn", ".abc")
TRANSPOSITIONS = ("none", "c")  # c: every score to C major / C minor by its analysed key (JSB)
CACHE_VERSION = 1
NOTE_NAMES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def bach_chorales() -> Path:
    """music21's Bach corpus: 433 chorales as MusicXML (the source the JSB set was made from)."""
    try:
        import music21
    except ImportError:
        raise UserError("music needs music21 (pip install music21)") from None
    return Path(music21.__file__).parent / "corpus" / "bach"


def score_files(data: str | Path) -> list[Path]:
    """A score file, a folder's score files (recursively) or a glob's, sorted."""
    return data_files(data, SCORE_SUFFIXES, "score files")


def piano_roll(score) -> tuple[np.ndarray, int]:
    """A music21 score -> (binary frames [quarter notes, 88] uint8, pitches outside 21-108 left out).

    Percussion (unpitched notes) is ignored; a note sounds in every frame whose beat falls in
    [its offset, its offset + its duration). Silence after the last note (a MIDI file's last bar
    filled up with rests) is not kept.
    """
    from music21 import chord, note

    flat = score.flatten()
    frames = math.ceil(float(flat.highestTime))
    roll = np.zeros((frames, PITCHES), np.uint8)
    outside = 0
    for element in flat.notes:
        if not isinstance(element, (note.Note, chord.Chord)):
            continue  # Unpitched, PercussionChord
        start, end = float(element.offset), float(element.offset + element.quarterLength)
        first, last = math.ceil(start), math.ceil(end)
        for pitch in element.pitches:
            if not LOWEST <= pitch.midi <= HIGHEST:
                outside += 1
                continue
            roll[first:last, pitch.midi - LOWEST] = 1
    sounding = np.flatnonzero(roll.any(axis=1))
    return roll[: sounding[-1] + 1 if len(sounding) else 0], outside


# What music21 is given to parse: it reads a file whole, and a 900 KB MIDI file of 100,000 notes
# takes minutes, a 611 KB .mxl zip bomb gigabytes.
MIDI_MAX_BYTES = 256 << 10
XML_MAX_BYTES = 32 << 20  # MusicXML, or what an .mxl file declares it unzips to


def score_size_problem(path: Path) -> str | None:
    """Why a score file is not given to the parser (not a regular file, or more than it may parse), or
    None. An .mxl archive is judged by the sizes its members declare, which bound what unzips."""
    import zipfile

    suffix = path.suffix.lower()
    problem = irregularity(path, MIDI_MAX_BYTES if suffix in (".mid", ".midi") else XML_MAX_BYTES)
    if problem is not None or suffix != ".mxl":
        return problem
    try:
        with zipfile.ZipFile(path) as archive:
            declared = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as err:
        return f"is not a readable .mxl archive ({first_line(err)})"
    if declared > XML_MAX_BYTES:
        return f"unzips to {declared:,} bytes; at most {XML_MAX_BYTES:,} are parsed"
    return None


def parse_score(path: Path, transpose: str = "none") -> tuple[np.ndarray, int]:
    """A score file -> (piano roll, pitches left out); ScoreError naming why it cannot be read."""
    from music21 import converter

    problem = score_size_problem(Path(path))
    if problem is not None:
        raise ScoreError(problem)
    try:
        score = converter.parse(str(path), forceSource=True)
    except Exception as err:  # music21 raises many kinds for a damaged file
        raise ScoreError(f"{type(err).__name__}: {first_line(err)}" if str(err).strip()
                         else type(err).__name__) from None
    roll, outside = piano_roll(score)
    if not roll.any():
        raise ScoreError("no pitched notes" + (f" (only {outside} outside MIDI 21-108)" if outside else ""))
    if transpose == "c":
        roll, moved_out = _to_c(roll, score)
        outside += moved_out
    return roll, outside


class ScoreError(Exception):
    """A score that cannot be used: what is wrong, in one line."""


def _to_c(roll: np.ndarray, score) -> tuple[np.ndarray, int]:
    """The roll moved by the fewest semitones that bring its analysed tonic to C: C major or C minor,
    the common tonality Boulanger-Lewandowski et al. gave the JSB set."""
    shift = (-score.analyze("key").tonic.pitchClass + 6) % 12 - 6
    moved = np.zeros_like(roll)
    if shift >= 0:
        moved[:, shift:] = roll[:, : PITCHES - shift]
        lost = int(roll[:, PITCHES - shift:].sum())
    else:
        moved[:, :shift] = roll[:, -shift:]
        lost = int(roll[:, :-shift].sum())
    return moved, lost


@dataclass
class Rolls:
    """Scores as piano rolls, with the files that could not be used and why."""

    names: list[str]
    rolls: list[np.ndarray]  # [frames, 88] uint8 each
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    outside: int = 0  # pitches outside MIDI 21-108, left out

    @property
    def frames(self) -> int:
        return sum(len(r) for r in self.rolls)

    def subset(self, indices) -> Rolls:
        return Rolls([self.names[i] for i in indices], [self.rolls[i] for i in indices])


def read_rolls(data: str | Path, transpose: str = "none", cache: bool = True) -> Rolls:
    """Every score under `data` as a piano roll of at least 2 frames (parsed once, then read from
    the cache). Damaged, empty and note-less files are skipped with a note giving their count
    and the first of them; UserError when none is left."""
    check_choice("transpose", transpose, TRANSPOSITIONS)
    files = score_files(data)
    key = _cache_key(data, transpose)
    rolls = _read_cached(key) if cache else None
    if rolls is None:
        rolls = _parse_all(files, Path(data), transpose)
        if cache:
            _write_cached(key, rolls)
    if rolls.skipped:
        first, reason = rolls.skipped[0]
        warnings.warn(f"skipped {len(rolls.skipped)} of {len(files)} score files that cannot be used "
                      f"(first: '{first}': {reason})", SeqzooNote, stacklevel=2)
    if rolls.outside:
        warnings.warn(f"left out {rolls.outside} notes outside the piano's range (MIDI 21-108)",
                      SeqzooNote, stacklevel=2)
    if not rolls.rolls:
        raise UserError(f"no usable scores in '{data}': all {len(files)} files were skipped "
                        f"(first: '{rolls.skipped[0][0]}': {rolls.skipped[0][1]})")
    return rolls


def _parse_all(files: list[Path], data: Path, transpose: str) -> Rolls:
    rolls = Rolls([], [])
    for path in files:
        name = str(path.relative_to(data)) if data.is_dir() else str(path)
        try:
            roll, outside = parse_score(path, transpose)
        except ScoreError as err:
            rolls.skipped.append((name, str(err)))
            continue
        if len(roll) < 2:
            rolls.skipped.append((name, "shorter than 2 quarter notes"))
            continue
        rolls.names.append(name)
        rolls.rolls.append(roll)
        rolls.outside += outside
    return rolls


def _cache_key(data: str | Path, transpose: str) -> str:
    try:
        fingerprint = data_fingerprint(data)["sha256"]
    except OSError as err:
        raise UserError(f"cannot read data '{data}': {err.strerror} ({err.filename})") from None
    settings = json.dumps({"data": fingerprint, "transpose": transpose, "version": CACHE_VERSION})
    return hashlib.sha256(settings.encode()).hexdigest()[:32]


def _read_cached(key: str) -> Rolls | None:
    path = cache_dir("music") / f"{key}.npz"
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as cached:
            lengths = cached["lengths"]
            frames = cached["frames"]
            rolls = np.split(frames, np.cumsum(lengths)[:-1]) if len(lengths) else []
            return Rolls([str(n) for n in cached["names"]], list(rolls),
                         [tuple(map(str, s)) for s in cached["skipped"].reshape(-1, 2)],
                         int(cached["outside"]))
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):
        path.unlink(missing_ok=True)  # damaged: parsed again
        return None


def _write_cached(key: str, rolls: Rolls) -> None:
    folder = cache_dir("music")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{key}.{os.getpid()}.tmp.npz"
        np.savez_compressed(
            tmp, frames=np.concatenate(rolls.rolls) if rolls.rolls else np.zeros((0, PITCHES), np.uint8),
            lengths=np.array([len(r) for r in rolls.rolls], np.int64), names=np.array(rolls.names, str),
            skipped=np.array(rolls.skipped, str).reshape(-1, 2), outside=np.array(rolls.outside))
        os.replace(tmp, folder / f"{key}.npz")
    except OSError:
        pass  # an unwritable cache only costs the next run its speed


def split_rolls(rolls: Rolls, validation_fraction: float, test_fraction: float,
                seed: int) -> tuple[Rolls, Rolls, Rolls]:
    """(train, validation, test): whole scores, in a seeded order, by the given fractions (the JSB
    set's 229 / 76 / 77 is 0.6 / 0.2 / 0.2). Each part gets at least one score."""
    parts = split_whole(len(rolls.rolls), validation_fraction, test_fraction, seed, "scores")
    return tuple(rolls.subset(part) for part in parts)


def next_frame_examples(rolls: Rolls) -> tf.data.Dataset:
    """(frames 0..T-2, frames 1..T-1) per score: the model reads a frame and predicts the next."""
    lengths = [len(r) for r in rolls.rolls]
    flat = np.concatenate(rolls.rolls).astype(np.float32)
    ragged = tf.RaggedTensor.from_row_lengths(flat, lengths)
    return tf.data.Dataset.from_tensor_slices(ragged).map(lambda roll: (roll[:-1], roll[1:]))


def frame_batches(examples: tf.data.Dataset, batch_size: int, seed: int | None = None,
                  epochs: range | None = None) -> tf.data.Dataset:
    """Scores padded to their batch's longest, as (x, y, weights): weights are 0 on padding and
    total / valid on frames, so Keras' mean over [batch, time] is the mean over real frames."""
    def batch(dataset):
        padded = dataset.map(lambda x, y: (x, y, tf.ones(tf.shape(x)[:1]))).padded_batch(batch_size)
        return padded.map(lambda x, y, mask: (x, y, mean_over_valid(mask)))

    return batches(examples, batch, seed, epochs)


def parse_notes(text: str) -> list[int]:
    """A chord as note names or MIDI numbers ("C4 E4 G4", "60,64,67", "Bb3 D4") -> MIDI numbers."""
    names = text.replace(",", " ").split()
    if not names:
        raise UserError("the start chord is empty: give note names (C4 E4 G4) or MIDI numbers (60 64 67)")
    return [_midi_number(name) for name in names]


def _midi_number(name: str) -> int:
    if name.lstrip("-").isdigit():
        number = int(name)
    else:
        letter, rest = name[:1].upper(), name[1:]
        accidental = len(rest) - len(rest.lstrip("#b"))
        octave = rest[accidental:]
        if letter not in NOTE_NAMES or not octave.lstrip("-").isdigit():
            raise UserError(f"{name!r} is not a note: use a name with its octave (C4, F#3, Bb2) or a "
                            "MIDI number (60)")
        number = 12 * (int(octave) + 1) + NOTE_NAMES[letter] + rest[:accidental].count("#") \
            - rest[:accidental].count("b")
    if not LOWEST <= number <= HIGHEST:
        raise UserError(f"note {name!r} (MIDI {number}) is outside the piano's range, "
                        "MIDI 21 (A0) to 108 (C8)")
    return number


def read_start(path: str | Path, frames: int) -> list[list[int]]:
    """The first `frames` frames of a score file, as chords of MIDI numbers (a start to compose from)."""
    if frames < 1:
        raise UserError(f"start frames must be at least 1, got {frames}")
    path = regular_file(path, "start score")
    try:
        roll, _ = parse_score(path)
    except ScoreError as err:
        raise UserError(f"cannot use start score '{path}': {err}") from None
    return roll_chords(roll[:frames])


def chord_frames(chords: list[list[int]]) -> np.ndarray:
    """Frames of MIDI numbers -> a binary roll [frames, 88] float32."""
    roll = np.zeros((len(chords), PITCHES), np.float32)
    for t, chord in enumerate(chords):
        roll[t, [p - LOWEST for p in chord]] = 1
    return roll


def roll_chords(roll: np.ndarray) -> list[list[int]]:
    """A binary roll [frames, 88] -> each frame's MIDI numbers."""
    return [[int(i) + LOWEST for i in np.flatnonzero(frame > 0.5)] for frame in roll]


def roll_score(roll: np.ndarray):
    """A binary roll -> a music21 Score of one piano part, a chord (or a rest) per frame.

    A roll cannot tell a held note from a repeated one, so a pitch on in consecutive frames is
    struck again each quarter note; the file reads back to the same roll."""
    from music21 import chord, instrument, note, pitch, stream, tempo

    part = stream.Part()
    part.insert(0, instrument.Piano())
    part.insert(0, tempo.MetronomeMark(number=80))
    on = np.asarray(roll) > 0.5
    for frame in on:
        if not frame.any():
            part.append(note.Rest(quarterLength=1))
            continue
        # Pitch objects, not MIDI numbers: for numbers music21 searches the enharmonic spellings of the
        # whole chord, which took minutes for a roll of sampled 40-note frames.
        part.append(chord.Chord([pitch.Pitch(midi=int(i) + LOWEST) for i in np.flatnonzero(frame)],
                                quarterLength=1))
    score = stream.Score()
    score.insert(0, part)
    return score


def write_score(roll: np.ndarray, path: str | Path) -> Path:
    """A roll as MIDI (`.mid`, `.midi`) or MusicXML (`.musicxml`, `.xml`), written whole."""
    path = Path(path)
    formats = {".mid": "midi", ".midi": "midi", ".musicxml": "musicxml", ".xml": "musicxml"}
    if path.suffix.lower() not in formats:
        raise UserError(f"cannot write '{path}': name a .mid or .musicxml file")
    with written(path) as tmp:
        roll_score(roll).write(formats[path.suffix.lower()], fp=str(tmp))
    return path
