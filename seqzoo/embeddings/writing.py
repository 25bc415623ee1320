"""Vectors out: word2vec text or binary, the npy folder, gensim's own format, or fastText .bin."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
from gensim.models import KeyedVectors

from seqzoo.errors import UserError, check_choice

TARGETS = ("word2vec_bin", "word2vec_text", "npy", "gensim")


def write_vectors(kv: KeyedVectors, out: str | Path, to: str) -> Path:
    """Writes `kv` to a new `out` (never over an existing one), whole or not at all."""
    check_choice("target format", to, TARGETS)
    out = Path(out)
    if out.exists():
        raise UserError(f"'{out}' already exists; choose another output path")
    parent = out.parent if str(out.parent) else Path(".")
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=parent))
    except OSError as err:
        raise UserError(f"cannot write to '{parent}': {err.strerror}") from None
    try:
        if to == "npy":
            np.save(tmp / "vectors.npy", np.asarray(kv.vectors, np.float32))
            (tmp / "words.json").write_text(json.dumps(kv.index_to_key, ensure_ascii=False),
                                            encoding="utf-8")
            os.rename(tmp, out)
            return out
        target = tmp / out.name
        if to == "gensim":
            kv.save(str(target))
        else:
            kv.save_word2vec_format(str(target), binary=to == "word2vec_bin")
        for file in tmp.iterdir():  # gensim may add companion .npy files beside the main one
            os.rename(file, parent / file.name)
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def target_for_suffix(path: str | Path) -> str:
    """The format a file name asks for: .bin, .npy (a folder), .kv, else word2vec text."""
    suffix = Path(path).suffix
    return {".bin": "word2vec_bin", ".npy": "npy", ".kv": "gensim"}.get(suffix, "word2vec_text")
