"""Parallel texts: the TSV reader (Anki / Tatoeba layout) and the offline date-normalisation task."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf

from seqzoo.data.readers import read_lines
from seqzoo.errors import UserError
from seqzoo.files import cache_dir, write_text

SPLITS = {"train": (20000, 0), "validation": (1000, 1), "test": (2000, 2)}  # examples, seed
FIRST_DAY, LAST_DAY = datetime.date(1950, 1, 1), datetime.date(2049, 12, 31)  # two-digit years: one reading
# Babel (CLDR) patterns by locale. Numeric "short" patterns only where no other locale reads the
# same digits in another order: es_ES and it_IT write d/M/yy, which en_US's M/d/yy would collide with.
CLDR_FORMATS = {
    "en_US": ("short", "medium", "long", "full"), "en_GB": ("short", "medium", "long", "full"),
    "fr_FR": ("short", "medium", "long", "full"), "de_DE": ("short", "medium", "long", "full"),
    "pt_BR": ("short", "medium", "long", "full"), "nl_NL": ("short", "medium", "long", "full"),
    "es_ES": ("medium", "long", "full"), "it_IT": ("medium", "long", "full"),
}
# Spoken forms CLDR has no pattern for: "3rd of March, 2021", "March 3rd, 2021", "le 3 mars 2021".
SPOKEN = ("en_ordinal", "en_month_ordinal", "fr_le")


@dataclass
class ParallelTexts:
    """Source and target texts, with the line each pair came from (for error messages)."""

    sources: list[str]
    targets: list[str]
    lines: list[int]

    def __len__(self) -> int:
        return len(self.sources)

    def subset(self, rows) -> ParallelTexts:
        return ParallelTexts([self.sources[i] for i in rows], [self.targets[i] for i in rows],
                             [self.lines[i] for i in rows])


def read_pairs(path: str | Path) -> ParallelTexts:
    """`source<TAB>target` per line, as Anki / Tatoeba files have them (columns after the second,
    such as Tatoeba's attribution, are ignored). Blank lines are skipped; a line without a tab
    or with an empty side is an error naming the line."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"data file '{path}' does not exist")
    sources, targets, lines = [], [], []
    for number, line in enumerate(read_lines(path), 1):
        fields = pair_fields(line, path, number)
        if fields is not None:
            sources.append(fields[0])
            targets.append(fields[1])
            lines.append(number)
    if not sources:
        raise UserError(f"data file '{path}' has no source<TAB>target lines")
    return ParallelTexts(sources, targets, lines)


def pair_fields(line: str, path, number: int) -> tuple[str, str] | None:
    """(source, target) of one `source<TAB>target` line, None for a blank one; UserError naming it."""
    if not line.strip():
        return None
    columns = line.split("\t")
    if len(columns) < 2:
        raise UserError(f"{path}:{number}: no tab; parallel data needs source<TAB>target per line")
    source, target = columns[0].strip(), columns[1].strip()
    if not source or not target:
        raise UserError(f"{path}:{number}: empty {'source' if not source else 'target'}")
    return source, target


def parse_pair(line: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """`pair_fields` in the graph, for lines it accepted ([n]): (source, target) [n] each."""
    columns = tf.strings.split(line, "\t").to_tensor("")
    return tf.strings.strip(columns[:, 0]), tf.strings.strip(columns[:, 1])


def write_pairs(path: str | Path, pairs: ParallelTexts) -> Path:
    return write_text(path, "".join(f"{s}\t{t}\n" for s, t in zip(pairs.sources, pairs.targets, strict=True)))


def date_pairs(count: int, seed: int) -> ParallelTexts:
    """`count` dates written in one of the CLDR / spoken formats -> ISO 8601, from `seed`."""
    from babel.dates import format_date

    formats = [(locale, f) for locale, names in CLDR_FORMATS.items() for f in names]
    formats += [(None, f) for f in SPOKEN]
    rng = np.random.default_rng(seed)
    days = rng.integers(0, (LAST_DAY - FIRST_DAY).days + 1, size=count)
    chosen = rng.integers(0, len(formats), size=count)
    sources, targets = [], []
    for day, index in zip(days, chosen, strict=True):
        date = FIRST_DAY + datetime.timedelta(days=int(day))
        locale, pattern = formats[index]
        spoken = locale is None
        sources.append(_spoken(date, pattern) if spoken else format_date(date, pattern, locale=locale))
        targets.append(date.isoformat())
    return ParallelTexts(sources, targets, list(range(1, count + 1)))


def dates_corpus() -> Path:
    """The date task's folder: train.tsv, validation.tsv, test.tsv (20,000 / 1,000 / 2,000
    pairs), generated once with fixed seeds into the cache; held-out sources never occur in train."""
    folder = cache_dir("data") / "dates-v1"
    if all((folder / f"{split}.tsv").is_file() for split in SPLITS):
        return folder
    train = date_pairs(*SPLITS["train"])
    seen = set(train.sources)
    for split, (count, seed) in SPLITS.items():
        pairs = train if split == "train" else date_pairs(count, seed)
        if split != "train":
            pairs = pairs.subset([i for i, s in enumerate(pairs.sources) if s not in seen])
        write_pairs(folder / f"{split}.tsv", pairs)
    return folder


def _spoken(date: datetime.date, pattern: str) -> str:
    from babel.dates import format_date

    if pattern == "fr_le":
        return "le " + format_date(date, "d MMMM y", locale="fr_FR")
    day = date.day
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    month = format_date(date, "MMMM", locale="en_US")
    if pattern == "en_ordinal":
        return f"{day}{suffix} of {month}, {date.year}"
    return f"{month} {day}{suffix}, {date.year}"
