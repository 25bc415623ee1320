"""Readers for users' labelled-text files: fastText lines, CSV/TSV, aclImdb folders."""

from __future__ import annotations

import contextlib
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf

from seqzoo.errors import UserError, did_you_mean
from seqzoo.files import glob_files, is_glob, regular_file

FASTTEXT_PREFIX = "__label__"


@dataclass
class LabelledTexts:
    """Texts with one label each, in file order."""

    texts: list[str]
    labels: list[str]

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def label_names(self) -> list[str]:
        """The distinct labels, sorted: label id i is label_names[i]."""
        return sorted(set(self.labels))

    def label_ids(self, label_names: list[str]) -> list[int]:
        index = {name: i for i, name in enumerate(label_names)}
        unknown = sorted(set(self.labels) - set(index))
        if unknown:
            raise UserError(f"labels {unknown} were not seen in training ({label_names})")
        return [index[label] for label in self.labels]

    def split(self, validation_fraction: float, seed: int) -> tuple[LabelledTexts, LabelledTexts]:
        """(training, held out): a seeded shuffle, `validation_fraction` of the texts held out (at
        least one each side), for a plain Keras script; `seqzoo train` splits streams by a hash."""
        if len(self) < 2:
            raise UserError(f"{len(self)} labelled text(s) cannot be split into training and held out")
        order = np.random.default_rng(seed).permutation(len(self))
        heldout = min(max(1, round(len(self) * validation_fraction)), len(self) - 1)
        part = lambda indices: LabelledTexts([self.texts[i] for i in indices],  # noqa: E731
                                             [self.labels[i] for i in indices])
        return part(sorted(order[heldout:])), part(sorted(order[:heldout]))


def read_text(path: str | Path) -> str:
    """A file's text, decoded as UTF-8 with invalid bytes replaced (U+FFFD)."""
    path = regular_file(path, "data file")
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except OSError as err:
        raise UserError(f"cannot read data file '{path}': {err.strerror}") from None


def text_lines(path: str | Path) -> Iterator[str]:
    """A text file's lines read as they go (`read_lines`' breaks: \\n, \\r\\n or \\r, not a form feed or
    U+2028), without their line ends."""
    with _opened(Path(path), newline=None) as file:
        for line in file:
            yield line[:-1] if line.endswith("\n") else line


def read_lines(path: str | Path) -> list[str]:
    """A text file's lines, split where an editor splits them (\\n, \\r\\n or \\r): line numbers
    in messages are the ones the user sees, and a form feed or U+2028 inside a text (which
    `str.splitlines` would also split at) stays part of it."""
    lines = _LINE_BREAK.split(read_text(path))
    return lines[:-1] if lines[-1] == "" else lines


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def read_fasttext(path: str | Path) -> LabelledTexts:
    """`__label__pos a gorgeous film` lines; the first label of a line is kept."""
    texts, labels = [], []
    for number, line in enumerate(read_lines(path), start=1):
        fields = fasttext_fields(line, path, number)
        if fields is not None:
            labels.append(fields[0])
            texts.append(fields[1])
    return _non_empty(LabelledTexts(texts, labels), path)


def fasttext_fields(line: str, path, number: int) -> tuple[str, str] | None:
    """(label, text) of one fastText line, None for a blank one; UserError naming the line."""
    if not line.strip():
        return None
    label, _, text = line.strip().partition(" ")
    if not label.startswith(FASTTEXT_PREFIX) or label == FASTTEXT_PREFIX:
        raise UserError(f"{path}:{number}: expected '__label__<label> <text>', got {line[:40]!r}")
    while text.startswith(FASTTEXT_PREFIX):  # further labels of a multi-label line
        text = text.partition(" ")[2]
    return label[len(FASTTEXT_PREFIX) :], text.strip()


def parse_fasttext(line: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """`fasttext_fields` in the graph, for lines it accepted ([n] or a scalar): (label, text)."""
    line = tf.strings.strip(line)
    label = tf.strings.regex_replace(line, r"^__label__([^ ]*).*$", r"\1")
    return label, tf.strings.strip(tf.strings.regex_replace(line, r"^(__label__[^ ]*( |$))+", ""))


def read_table(path: str | Path, text_column: str = "text", label_column: str = "label") -> LabelledTexts:
    """A CSV (`.csv`) or TSV (`.tsv`, `.tab`) file with a header row naming the columns, in memory
    (`table_records` reads it as it goes)."""
    return _gathered(labelled_records(path, text_column, label_column), path)


def table_records(path: str | Path, text_column: str = "text",
                  label_column: str = "label") -> Iterator[tuple[int, str, str]]:
    """(line the row starts on, text, label) of each row of a CSV or TSV file, read as it goes: a file
    larger than memory streams. UTF-8, invalid bytes replaced (U+FFFD).

    Quoted fields keep their line breaks; a row with more or fewer columns than the header,
    or without a label, is an error naming the line it starts on.
    """
    path = Path(path)
    delimiter = "\t" if path.suffix.lower() in (".tsv", ".tab") else ","
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))  # a long review is no error
    with _opened(path) as file:
        rows = csv.reader(file, delimiter=delimiter, strict=True)
        line = 1
        try:
            columns = next(rows, [])
            for column in (text_column, label_column):
                if column not in columns:
                    raise UserError(f"{path}: no column {column!r}{did_you_mean(column, columns)}")
            text_at, label_at = columns.index(text_column), columns.index(label_column)
            line = rows.line_num + 1  # where the next row starts
            for row in rows:
                if row:  # the csv module gives [] for a blank line
                    if len(row) != len(columns):
                        raise UserError(f"{path}:{line}: row has {len(row)} columns, the header "
                                        f"{len(columns)}")
                    if not row[label_at].strip():
                        raise UserError(f"{path}:{line}: empty {label_column!r}")
                    yield line, row[text_at], row[label_at].strip()
                line = rows.line_num + 1
        except csv.Error as err:  # a quote left open, or text after a closing quote
            raise UserError(f"{path}:{line}: {err} (in the row that starts here)") from None


@contextlib.contextmanager
def _opened(path: Path, newline: str | None = "") -> Iterator[io.TextIOBase]:
    """A data file opened for reading as UTF-8 text (invalid bytes replaced); UserError naming it when
    it is missing or unreadable, also mid-way."""
    regular_file(path, "data file")
    try:
        with open(path, encoding="utf-8", errors="replace", newline=newline) as file:
            yield file
    except OSError as err:
        raise UserError(f"cannot read data file '{path}': {err.strerror}") from None


def read_aclimdb(path: str | Path, split: str = "train") -> LabelledTexts:
    """The aclImdb layout, in memory (`aclimdb_records` reads it file by file)."""
    return _gathered(((label, text) for _, text, label in aclimdb_records(path, split)), path)


def aclimdb_records(path: str | Path, split: str = "train") -> Iterator[tuple[Path, str, str]]:
    """(file, text, label) of an aclImdb folder, `<path>/<split>/{pos,neg}/*.txt` or
    `<path>/{pos,neg}/*.txt`, one file at a time; `<br />` becomes a space."""
    root = Path(path)
    if (root / split).is_dir():
        root = root / split
    classes = [d for d in sorted(root.iterdir()) if d.is_dir() and d.name in ("pos", "neg")]
    if not classes:
        raise UserError(f"'{path}' has no pos/ or neg/ folders (aclImdb layout)")
    for folder in classes:
        for file in sorted(folder.glob("*.txt")):
            yield file, read_text(file).replace("<br />", " "), folder.name


def _gathered(records: Iterator[tuple[str, str]], path) -> LabelledTexts:
    texts, labels = [], []
    for label, text in records:
        texts.append(text)
        labels.append(label)
    return _non_empty(LabelledTexts(texts, labels), path)


def read_labelled(
    path: str | Path, text_column: str = "text", label_column: str = "label"
) -> LabelledTexts:
    """Any supported labelled-text source, chosen by what the path is, in memory."""
    path = Path(path)
    if is_table(path) or path.is_dir():
        return _gathered(labelled_records(path, text_column, label_column), path)
    check_no_columns(path, text_column, label_column)
    if not path.exists():
        raise UserError(f"data file '{path}' does not exist")
    return read_fasttext(path)


def labelled_records(path: str | Path, text_column: str = "text",
                     label_column: str = "label") -> Iterator[tuple[str, str]]:
    """(label, text) of a CSV/TSV file (or a glob of them: `tables/*.csv`) or an aclImdb folder,
    read as it goes (the records of a `seqzoo.data.streaming.RecordSplit`)."""
    path = Path(path)
    if path.is_dir():
        check_no_columns(path, text_column, label_column)
        return ((label, text) for _, text, label in aclimdb_records(path))
    files = glob_files(path) if is_glob(path) else [path]
    if not files:
        raise UserError(f"no files match '{path}'")
    return ((label, text) for file in files
            for _, text, label in table_records(file, text_column, label_column))


def is_table(path: str | Path) -> bool:
    return Path(path).suffix.lower() in (".csv", ".tsv", ".tab")


def check_no_columns(path: Path, text_column: str, label_column: str) -> None:
    """UserError when column names are given for a source without columns (fastText lines, aclImdb)."""
    if (text_column, label_column) != ("text", "label"):
        raise UserError(f"column names apply to CSV/TSV files; '{path}' is read as "
                        f"{'an aclImdb folder' if path.is_dir() else 'fastText __label__ lines'}")


def _non_empty(examples: LabelledTexts, path) -> LabelledTexts:
    if not examples.texts:
        raise UserError(f"data file '{path}' has no labelled examples")
    return examples
