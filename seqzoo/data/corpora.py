"""The offline corpora seqzoo trains on by default: real data that packages ship."""

from __future__ import annotations

from pathlib import Path


def sentiment_corpus() -> Path:
    """gensim's 200 Pang & Lee movie-review sentences, fastText `__label__pos|neg` lines."""
    from gensim.test.utils import datapath

    return Path(datapath("pang_lee_polarity.cor"))
