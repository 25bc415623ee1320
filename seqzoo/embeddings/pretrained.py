"""An entry's `embeddings:` config block -> the aligned matrix its embedding layer starts from."""

from __future__ import annotations

from seqzoo.embeddings.alignment import OOV_INITS, AlignmentReport, build_matrix
from seqzoo.embeddings.formats import FORMATS
from seqzoo.embeddings.loading import load
from seqzoo.errors import check_choice
from seqzoo.layers.embedding import TRAINABLE_MODES, Pretrained


def check_embeddings_block(embeddings: dict) -> None:
    """The block's words are known ones, with or without a `path` (a typo in an unused
    block is still a typo)."""
    check_choice("vector format", embeddings["format"], ("auto", *FORMATS))
    check_choice("oov initialisation", embeddings["oov"], OOV_INITS)
    check_choice("embeddings trainable mode", embeddings["trainable"], TRAINABLE_MODES)


def pretrained_from_config(
    embeddings: dict, vocabulary, token_counts: dict[str, int] | None = None, seed: int = 0
) -> tuple[Pretrained, AlignmentReport]:
    """Loads `embeddings["path"]` for `vocabulary` and aligns it.

    Args:
        embeddings: dict. The config block: `path`, `format`, `trainable`,
            `project`, `oov`, `trusted`.
        vocabulary: list of str or an adapted Vectorizer.
        token_counts: dict. Word counts in the training data, for the report.
        seed: int. Seed of the random OOV rows.
    """
    if hasattr(vocabulary, "get_vocabulary"):
        vocabulary = vocabulary.get_vocabulary()
    kv = load(embeddings["path"], embeddings["format"], vocabulary=vocabulary,
              trusted=embeddings["trusted"])
    matrix, report = build_matrix(kv, vocabulary, embeddings["oov"], seed, token_counts)
    pretrained = Pretrained(matrix, report.oov_ids, embeddings["trainable"], embeddings["project"])
    return pretrained, report
