"""Vectors -> an embedding matrix for a model's vocabulary, with a report of how each row was found.

Row 0 is padding (zeros) and row 1 the OOV token, as everywhere in seqzoo. Each
other word is looked up through a chain of rules, and the first that finds it
wins: exact -> lowercase -> title case -> digits normalised (`1984` -> `####`,
as word2vec's GoogleNews vectors write numbers) -> fastText subwords (when the
vectors have them) -> OOV initialisation.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from gensim.models import KeyedVectors

from seqzoo.errors import UserError, check_choice

if TYPE_CHECKING:
    from seqzoo.text import Vectorizer

LOOKUP_RULES = ("exact", "lowercase", "title_case", "digits_normalised")
OOV_INITS = ("random", "zeros", "mean")
FREQUENCY_BANDS = ((1, 1000), (1001, 10000), (10001, None))  # by rank in the vocabulary


def lookup_candidates(word: str) -> list[tuple[str, str]]:
    """(rule, spelling) pairs to try for `word`, in the chain's order."""
    return [
        ("exact", word),
        ("lowercase", word.lower()),
        ("title_case", word.title()),
        ("digits_normalised", re.sub(r"\d", "#", word)),
    ]


@dataclass
class AlignmentReport:
    """How a vocabulary was matched to a set of vectors.

    `rules[i]` says how row i was filled: a lookup rule, `subwords`, `oov` or
    `padding`. Token coverage needs the words' counts (`token_counts`).
    """

    rules: list[str]
    dimension: int
    token_counts: dict[str, int] | None = None
    vocabulary: list[str] = field(default_factory=list)

    @property
    def words(self) -> int:
        return len(self.rules) - 2

    @property
    def rule_counts(self) -> dict[str, int]:
        counts = Counter(self.rules[2:])
        return {rule: counts[rule] for rule in (*LOOKUP_RULES, "subwords", "oov") if counts[rule]}

    @property
    def oov_ids(self) -> list[int]:
        """Ids whose rows were initialised, not found: the OOV token and unmatched words."""
        return [i for i, rule in enumerate(self.rules) if rule == "oov"]

    @property
    def type_coverage(self) -> float:
        return sum(r not in ("oov", "padding") for r in self.rules[2:]) / max(self.words, 1)

    @property
    def token_coverage(self) -> float | None:
        if self.token_counts is None:
            return None
        total = sum(self.token_counts.get(w, 0) for w in self.vocabulary[2:])
        found = sum(self.token_counts.get(w, 0) for w, r in zip(self.vocabulary[2:], self.rules[2:],
                                                                 strict=True) if r != "oov")
        return found / total if total else 0.0

    def band_coverage(self) -> list[tuple[str, int, float]]:
        """(band, words in it, share found) by frequency rank: ids are ranked by count."""
        bands = []
        for low, high in FREQUENCY_BANDS:
            rules = self.rules[2:][low - 1 : high]
            if rules:
                label = f"{low}-{high}" if high else f"{low}+"
                bands.append((label, len(rules), sum(r != "oov" for r in rules) / len(rules)))
        return bands

    def top_oov(self, n: int = 20) -> list[str]:
        """The most frequent words that were not found."""
        return [w for w, r in zip(self.vocabulary[2:], self.rules[2:], strict=True) if r == "oov"][:n]

    def lines(self) -> list[str]:
        """A readable summary, as the CLI and training print it."""
        out = [f"embeddings: {self.words} words, dimension {self.dimension}, "
               f"type coverage {self.type_coverage:.1%}"
               + (f", token coverage {self.token_coverage:.1%}" if self.token_counts else "")]
        out.append("  by rule: " + ", ".join(f"{k} {v}" for k, v in self.rule_counts.items()))
        out.append("  by frequency rank: " + ", ".join(
            f"{label}: {share:.1%} of {n}" for label, n, share in self.band_coverage()))
        if self.top_oov():
            out.append("  top OOV: " + " ".join(self.top_oov()))
        return out

    def as_dict(self) -> dict:
        return {
            "words": self.words, "dimension": self.dimension, "type_coverage": self.type_coverage,
            "token_coverage": self.token_coverage, "by_rule": self.rule_counts,
            "by_frequency_rank": [
                {"band": b, "words": n, "coverage": c} for b, n, c in self.band_coverage()],
            "top_oov": self.top_oov(),
        }


def build_matrix(
    kv: KeyedVectors,
    vocabulary: list[str] | Vectorizer,
    oov: str = "random",
    seed: int = 0,
    token_counts: dict[str, int] | None = None,
) -> tuple[np.ndarray, AlignmentReport]:
    """An embedding matrix [len(vocabulary), dim] for `vocabulary`, and its report.

    Args:
        kv: gensim KeyedVectors (FastTextKeyedVectors add the subword rule).
        vocabulary: list of str (index = id; id 0 padding, id 1 OOV) or an
            adapted `seqzoo.text.Vectorizer`.
        oov: str. Rows not found: `random` (normal, with the found rows' mean and
            std per dimension, seeded), `zeros`, or `mean` (the found rows' mean).
        seed: int. Seed of the `random` initialisation.
        token_counts: dict. Word counts in the training data, for token coverage.

    Example:
    ```python
    kv = seqzoo.embeddings.load("glove.6B.300d.txt", vocabulary=vectorizer.get_vocabulary())
    matrix, report = seqzoo.embeddings.build_matrix(kv, vectorizer)
    print("\\n".join(report.lines()))
    ```
    """
    check_choice("oov initialisation", oov, OOV_INITS)
    if hasattr(vocabulary, "get_vocabulary"):
        vocabulary = vocabulary.get_vocabulary()
    vocabulary = list(vocabulary)
    dim = kv.vector_size
    matrix = np.zeros((len(vocabulary), dim), np.float32)
    rules = ["padding", "oov"] + ["oov"] * (len(vocabulary) - 2)
    has_subwords = getattr(kv, "bucket", 0) > 0
    for index in range(2, len(vocabulary)):
        word = vocabulary[index]
        for rule, spelling in lookup_candidates(word):
            key_index = kv.key_to_index.get(spelling)
            if key_index is not None:
                matrix[index], rules[index] = kv.vectors[key_index], rule
                break
        else:
            if has_subwords:
                vector = kv.get_vector(word)
                if np.any(vector):
                    matrix[index], rules[index] = vector, "subwords"
    found = np.array([r not in ("oov", "padding") for r in rules])[:, None]
    if not found.any():
        raise UserError(
            f"none of the {len(vocabulary) - 2} vocabulary words is in the vectors "
            f"(first words: {', '.join(vocabulary[2:7])}); is it the right file?"
        )
    oov_rows = [i for i, r in enumerate(rules) if r == "oov"]
    if oov in ("random", "mean"):
        # `where`, not a copy of the found rows; float64, so vectors near float32's limit cannot
        # overflow the statistics into inf and NaN rows.
        mean = matrix.mean(axis=0, where=found, dtype=np.float64)
        if oov == "random":
            std = matrix.std(axis=0, where=found, dtype=np.float64)
            matrix[oov_rows] = np.random.default_rng(seed).normal(mean, std, (len(oov_rows), dim))
        else:
            matrix[oov_rows] = mean
    return matrix, AlignmentReport(rules, dim, token_counts, vocabulary)
