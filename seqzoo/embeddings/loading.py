"""load(): any supported vector file -> gensim KeyedVectors, parsed fast and cached."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from gensim.models import KeyedVectors

from seqzoo.embeddings import cache
from seqzoo.embeddings.alignment import lookup_candidates
from seqzoo.embeddings.binary_format import parse_binary_vectors
from seqzoo.embeddings.formats import detect_format
from seqzoo.embeddings.text_format import parse_text_vectors
from seqzoo.errors import UserError, first_line

PARSED_FORMATS = ("glove", "word2vec_text", "word2vec_bin")  # parsed to arrays, so cached


@dataclass
class Loaded:
    kv: KeyedVectors
    format: str
    stats: dict  # ParseStats as a dict, for the parsed formats
    cache: str  # "hit", "written", "off" or "n/a" (formats gensim loads itself)


def load(
    path: str | Path,
    format: str = "auto",
    vocabulary: list[str] | None = None,
    *,
    cache_enabled: bool = True,
    on_error: str = "raise",
    trusted: bool = False,
) -> KeyedVectors:
    """Loads word vectors as gensim KeyedVectors, whatever the file's format.

    Args:
        path: str. GloVe text, word2vec text or binary, fastText `.vec` or `.bin`,
            a gensim KeyedVectors file, or a folder of `vectors.npy` + `words.json`.
        format: str. `auto` detects it; or one of `seqzoo.embeddings.FORMATS`.
        vocabulary: list of str. Keep only these words and their case and digit
            variants (memory then grows with the vocabulary, not the file).
        cache_enabled: bool. Reuse / write the parsed result in the cache.
        on_error: str. A text row with the wrong dimension: `raise` or `skip`.
        trusted: bool. gensim's own format is a pickle, which can run code when
            loaded: it loads only with trusted=True, for files you made yourself.

    Example:
    ```python
    kv = seqzoo.embeddings.load("glove.6B.300d.txt", vocabulary=vectorizer.get_vocabulary())
    ```
    """
    return load_with_details(path, format, vocabulary, cache_enabled=cache_enabled,
                             on_error=on_error, trusted=trusted).kv


def load_with_details(
    path: str | Path, format: str = "auto", vocabulary: list[str] | None = None, *,
    cache_enabled: bool = True, on_error: str = "raise", trusted: bool = False,
) -> Loaded:
    """load(), also telling the format, the parser's counts and the cache state."""
    path = Path(path)
    format = detect_format(path, format)
    if format == "gensim" and not trusted:
        raise UserError(
            f"'{path}' is a gensim KeyedVectors file, a pickle that can run code when "
            "loaded; load it with trusted=True (--trusted) only if you made it"
        )
    if format in ("fasttext_bin", "gensim", "npy"):
        return Loaded(_finite(_whole_file(path, format), path), format, {}, "n/a")

    wanted = None if vocabulary is None else wanted_spellings(vocabulary)
    options = {"format": format, "on_error": on_error, "wanted": _digest(wanted)}
    key = cache.cache_key(path, options) if cache_enabled else None
    cached = cache.read_cached(key) if key else None
    if cached is not None:
        words, vectors, meta = cached
        return Loaded(keyed_vectors(words, vectors), format, meta["stats"], "hit")
    if format == "word2vec_bin":
        parsed = parse_binary_vectors(path, wanted, on_error)
    else:
        parsed = parse_text_vectors(path, wanted, on_error)
        parsed.stats.format = format
    words, vectors, stats = parsed.words, parsed.vectors, parsed.stats
    written = key and cache.write_cached(key, words, vectors, {"stats": stats.as_dict()})
    state = "written" if written else "off"
    return Loaded(keyed_vectors(words, vectors), format, stats.as_dict(), state)


def keyed_vectors(words: list[str], vectors: np.ndarray) -> KeyedVectors:
    """KeyedVectors over an existing array (a memory map stays a memory map)."""
    kv = KeyedVectors(vector_size=vectors.shape[1], count=0, dtype=np.float32)
    kv.vectors = vectors
    kv.index_to_key = list(words)
    kv.key_to_index = {word: i for i, word in enumerate(kv.index_to_key)}
    kv.allocate_vecattrs()
    return kv


def wanted_spellings(vocabulary) -> set[str]:
    """Every spelling the alignment chain may look up for these words."""
    if hasattr(vocabulary, "get_vocabulary"):
        vocabulary = vocabulary.get_vocabulary()
    return {spelling for word in vocabulary for _, spelling in lookup_candidates(word)}


def _whole_file(path: Path, format: str) -> KeyedVectors:
    """The formats read whole (fastText's own .bin, gensim's .kv, seqzoo's npy folder); a file
    that does not read is named with the reader's reason, whatever exception it raised."""
    try:
        if format == "fasttext_bin":
            from gensim.models.fasttext import load_facebook_vectors

            return load_facebook_vectors(str(path))
        if format == "gensim":
            return KeyedVectors.load(str(path))
        words = json.loads((path / "words.json").read_text(encoding="utf-8"))
        vectors = np.load(path / "vectors.npy", mmap_mode="r", allow_pickle=False)
        if not (isinstance(words, list) and all(isinstance(w, str) for w in words)):
            raise ValueError("words.json is not a list of words")
        if vectors.ndim != 2 or vectors.dtype.kind != "f" or len(vectors) != len(words):
            raise ValueError(f"vectors.npy is {vectors.dtype}{list(vectors.shape)}, not float "
                             f"[{len(words)}, dimension]")
        return keyed_vectors(words, vectors)
    except Exception as err:  # struct, EOF, unpickling, zip, JSON errors: all a damaged file
        raise UserError(f"vector file '{path}' does not read as {format}: {first_line(err)}") from None


def _finite(kv: KeyedVectors, path: Path) -> KeyedVectors:
    bad = ~np.isfinite(kv.vectors).all(axis=1)
    if bad.any():
        raise UserError(f"vector file '{path}': the vector of {kv.index_to_key[int(np.argmax(bad))]!r} "
                        f"and {int(bad.sum()) - 1} other(s) hold NaN or infinite values")
    return kv


def _digest(wanted: set[str] | None) -> str | None:
    if wanted is None:
        return None
    return hashlib.sha256("\n".join(sorted(wanted)).encode()).hexdigest()


def describe(path: str | Path, format: str = "auto", trusted: bool = False) -> dict:
    """What `seqzoo embeddings info` prints: format, size, the parser's counts, the cache."""
    path = Path(path)
    format = detect_format(path, format)
    cached = None
    if format in PARSED_FORMATS:
        options = {"format": format, "on_error": "raise", "wanted": None}
        cached = cache.read_cached(cache.cache_key(path, options)) is not None
    loaded = load_with_details(path, format, trusted=trusted)
    return {
        "path": str(path),
        "format": format,
        "words": len(loaded.kv.index_to_key),
        "dimension": loaded.kv.vector_size,
        "subword_vectors": getattr(loaded.kv, "bucket", 0) > 0,
        **{k: v for k, v in loaded.stats.items() if k != "format"},
        "cache": "not cached (formats gensim loads itself)" if cached is None
        else ("cached" if cached else f"not cached before; now {loaded.cache}"),
    }
