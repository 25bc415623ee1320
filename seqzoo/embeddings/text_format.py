"""A fast parser for text vector files: GloVe (no header), word2vec / fastText `.vec` (header).

gensim's text parser converts every number in Python (about 3 minutes for a
400k x 300 GloVe file on a 2-core machine). Here each line is split once at the
word, the numeric parts of all kept rows are joined, and NumPy parses them in
one C call. Given a vocabulary, rows it does not need are never parsed, so
memory grows with the vocabulary, not the file.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from seqzoo.errors import UserError


@dataclass
class ParseStats:
    """What the parser met on the way: every oddity is counted, none is silent."""

    format: str = "glove"
    declared_words: int | None = None  # the header's count, word2vec / .vec files only
    rows_read: int = 0
    duplicates: int = 0  # later rows of a word seen before (the first is kept)
    blank_lines: int = 0
    undecodable_words: int = 0  # words with invalid UTF-8, kept with U+FFFD
    words_with_spaces: int = 0  # GloVe 840B has ". . ."
    skipped_rows: int = 0  # wrong dimension, under on_error="skip"
    non_finite_rows: int = 0  # NaN or infinite values, skipped under on_error="skip"

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class ParsedVectors:
    words: list[str]
    vectors: np.ndarray  # float32 [words, dim]
    stats: ParseStats


def parse_text_vectors(
    path: str | Path, wanted: Iterable[str] | None = None, on_error: str = "raise"
) -> ParsedVectors:
    """Parses a GloVe or word2vec-text file; keeps only `wanted` words when given.

    Args:
        path: str. The vector file.
        wanted: iterable of str. Words to keep (None keeps all).
        on_error: str. `raise` on a row whose dimension differs or whose values are not
            finite (naming its line), or `skip` it and count it.
    """
    if on_error not in ("raise", "skip"):
        raise UserError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    wanted = None if wanted is None else set(wanted)
    stats = ParseStats()
    seen: set[str] = set()
    size = Path(path).stat().st_size
    with open(path, "rb") as file:
        first = file.readline()
        if not first.strip():
            raise UserError(f"vector file '{path}' is empty")
        header = first.split()
        if len(header) == 2 and header[0].isdigit() and header[1].isdigit():
            stats.format = "word2vec_text"
            stats.declared_words, dim = int(header[0]), int(header[1])
            lines, first_number = file, 2
        else:
            dim = len(header) - 1
            lines, first_number = _chain([first], file), 1
        if dim < 1:
            raise UserError(f"{path}:1: no vector values after the word")
        if 2 * dim > size:  # every value takes a digit and a separator
            raise UserError(f"vector file '{path}': its header declares dimension {dim}, more than its "
                            f"{size:,} bytes can hold")
        # A header may lie about its word count: never allocate more rows than the bytes can hold.
        known = [c for c in (stats.declared_words, None if wanted is None else len(wanted)) if c is not None]
        capacity = min(*known, size // (2 * dim)) if known else None
        rows = _RowBuffer(dim, path, capacity, on_error, stats)
        for number, raw in enumerate(lines, start=first_number):
            line = raw.rstrip()
            if not line:
                stats.blank_lines += 1
                continue
            if b"\t" in line:
                line = line.replace(b"\t", b" ")
            word, rest = _split_row(line, dim)
            if rest is None:
                if on_error == "raise":
                    found = len(line.split()) - 1
                    raise UserError(
                        f"{path}:{number}: expected {dim} values after the word, found {found}"
                        " (pass on_error='skip' to skip such rows)"
                    )
                stats.skipped_rows += 1
                continue
            stats.rows_read += 1
            if b" " in word:
                stats.words_with_spaces += 1
            text = wanted_word(word, wanted, seen, stats)
            if text is not None:
                seen.add(text)
                rows.add(text, rest, number)
    if stats.rows_read == 0:
        raise UserError(f"vector file '{path}' has no vector rows")
    if stats.declared_words is not None and stats.rows_read + stats.skipped_rows < stats.declared_words:
        raise UserError(
            f"vector file '{path}' is truncated: its header declares {stats.declared_words} "
            f"words, it holds {stats.rows_read + stats.skipped_rows} (the file ends at byte {size:,})"
        )
    vectors = rows.finish()
    return ParsedVectors(rows.words, vectors, stats)


def wanted_word(raw: bytes, wanted: set[str] | None, seen: set[str], stats: ParseStats) -> str | None:
    """A row's word decoded (invalid UTF-8 replaced and counted), or None when it is not wanted
    or was seen before (counted as a duplicate: the first row of a word is kept)."""
    try:
        word = raw.decode("utf-8")
    except UnicodeDecodeError:
        word = raw.decode("utf-8", errors="replace")
        stats.undecodable_words += 1
    if wanted is not None and word not in wanted:
        return None
    if word in seen:
        stats.duplicates += 1
        return None
    return word


def _split_row(line: bytes, dim: int) -> tuple[bytes, bytes | None]:
    """(word, the numbers as bytes), or (word, None) when the row is not `dim` numbers."""
    spaces = line.count(b" ")
    if spaces == dim:  # the common case: one space between fields
        word, _, rest = line.partition(b" ")
        return word, rest
    if spaces > dim:  # the word holds spaces, or fields are separated by several
        parts = line.rsplit(None, dim) if b"  " in line else line.rsplit(b" ", dim)
        # A "word" ending in a number is a row with too many values, not ". . ."-style.
        word_ends_in_number = _looks_numeric(parts[0].rsplit(None, 1)[-1])
        if len(parts) == dim + 1 and _looks_numeric(parts[1]) and not word_ends_in_number:
            return parts[0], b" ".join(parts[1:])
    return line.split(b" ", 1)[0], None


_NUMBER = re.compile(rb"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^[-+]?(nan|inf)$", re.IGNORECASE)


def _looks_numeric(field: bytes) -> bool:
    return bool(_NUMBER.match(field))


class _RowBuffer:
    """Parses kept rows in chunks into one float32 array, dropping (or refusing) rows that are
    not finite.

    With a known capacity the array is allocated once, and pages never written
    never become resident, so memory follows the rows kept, not the capacity.
    """

    CHUNK_ROWS = 1024  # rows of text held at once: small, so the bytes never outweigh the floats

    def __init__(self, dim: int, path, capacity: int | None, on_error: str, stats: ParseStats):
        self.dim, self.path, self.on_error, self.stats = dim, path, on_error, stats
        self.array = np.empty((capacity, dim), np.float32) if capacity else None
        self.blocks: list[np.ndarray] = []
        self.filled = 0
        self.words: list[str] = []
        self.pending: list[tuple[str, bytes, int]] = []  # word, values, line number

    def add(self, word: str, rest: bytes, line: int) -> None:
        self.pending.append((word, rest, line))
        if len(self.pending) == self.CHUNK_ROWS:
            self._flush()

    def finish(self) -> np.ndarray:
        self._flush()
        if self.array is not None:
            return self.array[: self.filled]
        return np.concatenate(self.blocks) if self.blocks else np.zeros((0, self.dim), np.float32)

    def _flush(self) -> None:
        if not self.pending:
            return
        words, rests, lines = zip(*self.pending, strict=True)
        block = _parse_floats(list(rests), self.dim, self.path, list(words))
        finite = np.isfinite(block).all(axis=1)
        if not finite.all():
            bad = int(np.argmin(finite))
            if self.on_error == "raise":
                value = block[bad][~np.isfinite(block[bad])][0]
                raise UserError(f"{self.path}:{lines[bad]}: the vector of {words[bad]!r} holds {value} "
                                "(pass on_error='skip' to skip rows that are not finite)")
            self.stats.non_finite_rows += int((~finite).sum())
            block, words = block[finite], [w for w, keep in zip(words, finite, strict=True) if keep]
        self._append(block)
        self.words.extend(words)
        self.pending = []

    def _append(self, block: np.ndarray) -> None:
        if self.array is not None and self.filled + len(block) <= len(self.array):
            self.array[self.filled : self.filled + len(block)] = block
        else:  # more rows than the header declared
            if self.array is not None:
                self.blocks, self.array = [self.array[: self.filled].copy()], None
            self.blocks.append(block)
        self.filled += len(block)


def _parse_floats(rests: list[bytes], dim: int, path, words: list[str]) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # NumPy warns, and stops, at the first non-number
        try:
            values = np.fromstring(b" ".join(rests), dtype=np.float32, sep=" ")
        except (DeprecationWarning, ValueError):
            values = None
    if values is None or values.size != len(rests) * dim:
        bad = next((w for w, r in zip(words, rests, strict=True) if not _all_numeric(r)), "?")
        raise UserError(f"vector file '{path}' has values that are not numbers (row of {bad!r})")
    return values.reshape(len(rests), dim)


def _all_numeric(rest: bytes) -> bool:
    return all(_looks_numeric(field) for field in rest.split())


def _chain(first: list[bytes], rest):
    yield from first
    yield from rest
