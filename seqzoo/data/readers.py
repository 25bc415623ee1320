"""Readers for users' labelled-text files: fastText lines, CSV/TSV, aclImdb folders."""

from __future__ import annotations

import csv
import io
import random
import re
from dataclasses import dataclass
from pathlib import Path

import tensorflow as tf

from seqzoo.errors import UserError, did_you_mean

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
        """A seeded shuffle, then (train, validation) with at least one example each."""
        if len(self) < 2:
            raise UserError(f"need at least 2 labelled examples to split, got {len(self)}")
        if not 0 < validation_fraction < 1:
            raise UserError(f"validation_fraction must be in (0, 1), got {validation_fraction}")
        order = list(range(len(self)))
        random.Random(seed).shuffle(order)
        n_val = min(max(1, round(len(self) * validation_fraction)), len(self) - 1)
        return self._subset(order[n_val:]), self._subset(order[:n_val])

    def _subset(self, indices: list[int]) -> LabelledTexts:
        return LabelledTexts([self.texts[i] for i in indices], [self.labels[i] for i in indices])


def read_text(path: str | Path) -> str:
    """A file's text, decoded as UTF-8 with invalid bytes replaced (U+FFFD)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"data file '{path}' does not exist")
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except OSError as err:
        raise UserError(f"cannot read data file '{path}': {err.strerror}") from None


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
    """A CSV (`.csv`) or TSV (`.tsv`, `.tab`) file with a header row naming the columns.

    Quoted fields keep their line breaks; a row with more or fewer columns than the header,
    or without a label, is an error naming the line it starts on.
    """
    path = Path(path)
    delimiter = "\t" if path.suffix.lower() in (".tsv", ".tab") else ","
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))  # a long review is no error
    rows = csv.reader(io.StringIO(read_text(path), newline=""), delimiter=delimiter, strict=True)
    texts, labels, line = [], [], 1
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
                    raise UserError(f"{path}:{line}: row has {len(row)} columns, the header {len(columns)}")
                if not row[label_at].strip():
                    raise UserError(f"{path}:{line}: empty {label_column!r}")
                texts.append(row[text_at])
                labels.append(row[label_at].strip())
            line = rows.line_num + 1
    except csv.Error as err:  # a quote left open, or text after a closing quote
        raise UserError(f"{path}:{line}: {err} (in the row that starts here)") from None
    return _non_empty(LabelledTexts(texts, labels), path)


def read_aclimdb(path: str | Path, split: str = "train") -> LabelledTexts:
    """The aclImdb layout: `<path>/<split>/{pos,neg}/*.txt`, or `<path>/{pos,neg}/*.txt`."""
    root = Path(path)
    if (root / split).is_dir():
        root = root / split
    classes = [d for d in sorted(root.iterdir()) if d.is_dir() and d.name in ("pos", "neg")]
    if not classes:
        raise UserError(f"'{path}' has no pos/ or neg/ folders (aclImdb layout)")
    texts, labels = [], []
    for folder in classes:
        for file in sorted(folder.glob("*.txt")):
            texts.append(read_text(file).replace("<br />", " "))
            labels.append(folder.name)
    return _non_empty(LabelledTexts(texts, labels), path)


def read_labelled(
    path: str | Path, text_column: str = "text", label_column: str = "label"
) -> LabelledTexts:
    """Any supported labelled-text source, chosen by what the path is."""
    path = Path(path)
    table = path.suffix.lower() in (".csv", ".tsv", ".tab")
    if not table and (text_column, label_column) != ("text", "label"):
        raise UserError(f"column names apply to CSV/TSV files; '{path}' is read as "
                        f"{'an aclImdb folder' if path.is_dir() else 'fastText __label__ lines'}")
    if path.is_dir():
        return read_aclimdb(path)
    if not path.exists():
        raise UserError(f"data file '{path}' does not exist")
    if table:
        return read_table(path, text_column, label_column)
    return read_fasttext(path)


def _non_empty(examples: LabelledTexts, path) -> LabelledTexts:
    if not examples.texts:
        raise UserError(f"data file '{path}' has no labelled examples")
    return examples
