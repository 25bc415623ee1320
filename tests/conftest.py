"""Shared fixtures: one tiny trained run and one export, made once per session."""

import itertools
import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# LiteRT.js stays where `seqzoo web --fetch-runtime` put it (.ci/run does): pages are built from it.
_user_cache = os.environ.get("SEQZOO_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "seqzoo")
os.environ.setdefault("SEQZOO_LITERTJS", os.path.join(_user_cache, "litertjs"))
os.environ["SEQZOO_CACHE"] = tempfile.mkdtemp(prefix="seqzoo-test-cache-")  # never ~/.cache

import pytest  # noqa: E402

import seqzoo  # noqa: E402

POSITIVE = ["gorgeous", "wonderful", "moving", "great", "fun"]
NEGATIVE = ["dull", "tedious", "boring", "messy", "long"]


@pytest.fixture(scope="session")
def sentiment_file(tmp_path_factory):
    """A fastText-label file of 40 distinct lines ("a dull and tedious film"): whichever lines the hash
    holds out, their words are seen in training, so a tiny model learns the task in 3 epochs."""
    path = tmp_path_factory.mktemp("data") / "reviews.txt"
    lines = [f"__label__{label} a {a} and {b} film" for label, words in (("pos", POSITIVE), ("neg", NEGATIVE))
             for a, b in itertools.permutations(words, 2)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="session")
def sentiment_run(sentiment_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "sentiment"
    return seqzoo.train("sentiment", sentiment_file, preset="tiny", out=out, verbose=0)


@pytest.fixture(scope="session")
def exported_sentiment(sentiment_run, tmp_path_factory):
    base = tmp_path_factory.mktemp("saved_models")
    return seqzoo.export_run(sentiment_run, base=base)


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium (the system's, through Playwright), or a skip naming what is missing."""
    from browser import chromium

    with chromium() as launched:
        yield launched
