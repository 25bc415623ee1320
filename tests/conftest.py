"""Shared fixtures: one tiny trained run and one export, made once per session."""

import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["SEQZOO_CACHE"] = tempfile.mkdtemp(prefix="seqzoo-test-cache-")  # never ~/.cache

import pytest  # noqa: E402

import seqzoo  # noqa: E402

POSITIVE = ["a gorgeous film", "wonderful and moving", "a great cast", "moving and gorgeous",
            "great fun", "a wonderful film"]
NEGATIVE = ["dull and tedious", "a tedious mess", "boring film", "dull boring mess",
            "tedious and long", "a boring cast"]


@pytest.fixture(scope="session")
def sentiment_file(tmp_path_factory):
    """A fastText-label file of 24 lines: a task a tiny model learns in a few epochs."""
    path = tmp_path_factory.mktemp("data") / "reviews.txt"
    lines = [f"__label__pos {t}" for t in POSITIVE] + [f"__label__neg {t}" for t in NEGATIVE]
    path.write_text("\n".join(lines * 2) + "\n")
    return path


@pytest.fixture(scope="session")
def sentiment_run(sentiment_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "sentiment"
    return seqzoo.train("sentiment", sentiment_file, preset="tiny", out=out, verbose=0)


@pytest.fixture(scope="session")
def exported_sentiment(sentiment_run, tmp_path_factory):
    base = tmp_path_factory.mktemp("saved_models")
    return seqzoo.export_run(sentiment_run, base=base)
