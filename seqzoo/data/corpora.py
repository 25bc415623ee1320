"""The offline corpora seqzoo trains on by default: real data that packages ship."""

from __future__ import annotations

from pathlib import Path


def sentiment_corpus() -> Path:
    """gensim's 200 Pang & Lee movie-review sentences, fastText `__label__pos|neg` lines."""
    from gensim.test.utils import datapath

    return Path(datapath("pang_lee_polarity.cor"))


def news_corpus() -> Path:
    """gensim's 300 Lee news articles, one a line (not valid UTF-8: read with replacement)."""
    from gensim.test.utils import datapath

    return Path(datapath("lee_background.cor"))
