"""word2vec's binary format (`N D` header, then per word: the word, a space, D little-endian
float32), parsed by seqzoo so that a cut file or a lying header is named with the byte it fails at,
and a header cannot make the parser allocate more than the file can hold."""

from __future__ import annotations

import mmap
from pathlib import Path

import numpy as np

from seqzoo.embeddings.text_format import ParsedVectors, ParseStats, wanted_word
from seqzoo.errors import UserError

LONGEST_WORD = 1 << 16  # bytes; a "word" longer than this means the offsets are off


def parse_binary_vectors(path: str | Path, wanted=None, on_error: str = "raise") -> ParsedVectors:
    """Parses a word2vec binary file; keeps only `wanted` words when given.

    Args:
        path: str. The `.bin` file.
        wanted: iterable of str. Words to keep (None keeps all).
        on_error: str. `raise` on a vector with NaN or infinite values (naming the word and
            its byte offset), or `skip` it and count it.
    """
    path = Path(path)
    wanted = None if wanted is None else set(wanted)
    size = path.stat().st_size
    with open(path, "rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
        header_end = data.find(b"\n", 0, 64)
        header = data[:header_end].split() if header_end > 0 else []
        if len(header) != 2 or not all(part.isdigit() for part in header) or int(header[1]) < 1:
            raise UserError(f"vector file '{path}' has no word2vec header ('<words> <dimension>' on the "
                            "first line)")
        declared, dim = int(header[0]), int(header[1])
        position, row_bytes = header_end + 1, 4 * dim
        needed = declared * (row_bytes + 2)  # each row: a word of one byte at least, a space, the floats
        if needed > size - position:
            raise UserError(
                f"vector file '{path}' is truncated or its header is wrong: {declared:,} words of "
                f"{dim} floats need at least {needed:,} bytes after the header, the file has "
                f"{size - position:,}")
        stats = ParseStats(format="word2vec_bin", declared_words=declared)
        capacity = declared if wanted is None else min(declared, len(wanted))
        vectors = np.empty((capacity, dim), np.float32)
        words: list[str] = []
        seen: set[str] = set()
        for index in range(declared):
            while position < size and data[position] in b"\n\r":  # some writers end rows with \n
                position += 1
            space = data.find(b" ", position, position + LONGEST_WORD)
            if space < 0 or space + 1 + row_bytes > size:
                raise UserError(
                    f"vector file '{path}' is truncated at byte {size:,}: word {index + 1:,} of "
                    f"{declared:,} (at byte {position:,}) " + ("has no vector" if space >= 0 else
                                                              "has no space after it"))
            raw_word, start = data[position:space], space + 1
            position = start + row_bytes
            stats.rows_read += 1
            word = wanted_word(raw_word, wanted, seen, stats)
            if word is None:
                continue
            vector = np.frombuffer(data[start:position], "<f4")  # a copy: the map can close
            if not np.isfinite(vector).all():
                if on_error == "raise":
                    raise UserError(f"vector file '{path}': the vector of {word!r} (at byte {start:,}) "
                                    f"holds {vector[~np.isfinite(vector)][0]} (pass on_error='skip' to skip "
                                    "rows that are not finite)")
                stats.non_finite_rows += 1
                continue
            seen.add(word)
            vectors[len(words)] = vector
            words.append(word)
    return ParsedVectors(words, vectors[: len(words)], stats)
