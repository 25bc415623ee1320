"""Which vector format a file is in, from its first bytes."""

from __future__ import annotations

from pathlib import Path

from seqzoo.errors import UserError, check_choice

FORMATS = ("glove", "word2vec_text", "word2vec_bin", "fasttext_bin", "gensim", "npy")
FASTTEXT_MAGIC = (793712314).to_bytes(4, "little")  # newer fastText .bin files start with it
PICKLE_PROTOCOL_2_PLUS = b"\x80"


def detect_format(path: str | Path, format: str = "auto") -> str:
    """`format` if given, else the format the file's first bytes show."""
    path = Path(path)
    if format != "auto":
        return check_choice("vector format", format, FORMATS)
    if path.is_dir():
        if (path / "vectors.npy").is_file() and (path / "words.json").is_file():
            return "npy"
        raise UserError(f"'{path}' is a folder without vectors.npy and words.json")
    if not path.is_file():
        raise UserError(f"vector file '{path}' does not exist")
    with open(path, "rb") as file:
        head = file.read(4096)
    if not head.strip():
        raise UserError(f"vector file '{path}' is empty")
    if head.startswith(FASTTEXT_MAGIC):
        return "fasttext_bin"
    if head.startswith(PICKLE_PROTOCOL_2_PLUS):
        return "gensim"
    first_line, _, after = head.partition(b"\n")
    fields = first_line.split()
    if len(fields) == 2 and all(f.isdigit() for f in fields):
        return "word2vec_text" if _is_text_row(after, int(fields[1])) else "word2vec_bin"
    if path.suffix == ".bin":
        return "fasttext_bin"  # the older fastText layout has no magic number
    return "glove"


def _is_text_row(data: bytes, dim: int) -> bool:
    """Whether the first row after a header is a word and `dim` numbers in text."""
    row = data.partition(b"\n")[0]
    try:
        fields = row.decode("utf-8").split()
        [float(value) for value in fields[-dim:]]
    except (UnicodeDecodeError, ValueError):
        return False
    return len(fields) > dim
