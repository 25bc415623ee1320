"""Tagged tokens: CoNLL-style column files, and the offline punctuation-restoration task."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from seqzoo.data.corpora import news_corpus
from seqzoo.data.language_modeling import read_documents
from seqzoo.data.readers import text_lines
from seqzoo.errors import UserError
from seqzoo.files import cache_dir, write_text

OUTSIDE = "O"
CAPITALISED = "CAP"
# The marks the restoration task tags, by the name in the tag ("CAP_COMMA": capitalise, then ",").
PUNCTUATION_TAGS = {",": "COMMA", ".": "PERIOD", "?": "QUESTION", "!": "EXCLAMATION",
                    ":": "COLON", ";": "SEMICOLON"}
RESTORATION_WINDOW = 32  # words per example: sentence ends fall inside examples, not only at their end


@dataclass
class TaggedSentences:
    """Sentences as token lists with one tag per token; `lines[i]` is where sentence i starts."""

    tokens: list[list[str]]
    tags: list[list[str]]
    lines: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def tag_names(self) -> list[str]:
        """The distinct tags, sorted, `O` first when present."""
        names = sorted({tag for tags in self.tags for tag in tags})
        return sorted(names, key=lambda tag: tag != OUTSIDE)

    def texts(self) -> list[str]:
        """Each sentence's tokens joined by spaces: what a user would send to the tagger."""
        return [" ".join(tokens) for tokens in self.tokens]

    def chunked(self, length: int) -> TaggedSentences:
        """Sentences longer than `length` tokens split into pieces of at most `length`."""
        chunks = TaggedSentences([], [], [])
        for tokens, tags, line in zip(self.tokens, self.tags, self.lines or [0] * len(self), strict=True):
            for start in range(0, len(tokens), length):
                chunks.tokens.append(tokens[start : start + length])
                chunks.tags.append(tags[start : start + length])
                chunks.lines.append(line + start)
        return chunks


def read_conll(path: str | Path) -> TaggedSentences:
    """A column file's sentences in memory (`conll_sentences` reads them as it goes)."""
    sentences = TaggedSentences([], [], [])
    for line, tokens, tags in conll_sentences(path):
        sentences.tokens.append(tokens)
        sentences.tags.append(tags)
        sentences.lines.append(line)
    if not sentences.tokens:
        raise UserError(f"data file '{path}' has no tagged tokens (expected 'token<TAB>tag' lines)")
    return sentences


def conll_sentences(path: str | Path,
                    length: int | None = None) -> Iterator[tuple[int, list[str], list[str]]]:
    """(line it starts on, tokens, tags) of each sentence of a column file, read as it goes:
    `token<TAB>tag` per line (the tag is the last column), a blank line between sentences;
    `-DOCSTART-` lines (CoNLL-2003) are skipped. With `length`, longer sentences come in pieces
    of at most `length` tokens (`TaggedSentences.chunked`).

    Raises UserError naming the line for a line without a tag and for a token
    holding whitespace (it would not come back as one token at serving time).
    """
    path = Path(path)
    tokens: list[str] = []
    tags: list[str] = []
    start = 0

    def pieces():
        step = length or max(len(tokens), 1)
        for offset in range(0, len(tokens), step):
            yield start + offset, tokens[offset : offset + step], tags[offset : offset + step]

    for number, line in enumerate(text_lines(path), start=1):
        if not line.strip():
            yield from pieces()
            tokens, tags = [], []
            continue
        if line.startswith("-DOCSTART-"):
            continue
        columns = line.split("\t") if "\t" in line else line.split()
        columns = [c.strip() for c in columns]
        if len(columns) < 2 or not columns[-1]:
            raise UserError(f"{path}, line {number}: expected 'token<TAB>tag', got {line.strip()!r} "
                            "(a missing tag?)")
        if not columns[0] or re.search(r"\s", columns[0]):
            raise UserError(f"{path}, line {number}: token {columns[0]!r} is empty or holds whitespace")
        if not tokens:
            start = number
        tokens.append(columns[0])
        tags.append(columns[-1])
    yield from pieces()


def write_conll(sentences: TaggedSentences, path: str | Path) -> Path:
    """Writes `token<TAB>tag` lines, a blank line after each sentence (atomically)."""
    blocks = ("".join(f"{token}\t{tag}\n" for token, tag in zip(tokens, tags, strict=True))
              for tokens, tags in zip(sentences.tokens, sentences.tags, strict=True))
    return write_text(path, "\n".join(blocks))


def punctuation_tags(words: list[str]) -> tuple[list[str], list[str]]:
    """Raw words -> (lowercase words without punctuation, their restoration tags).

    A word's tag says whether it was capitalised (`CAP`) and which mark followed
    it (`COMMA`, `PERIOD`, ...): "Sydney," -> ("sydney", "CAP_COMMA"), "the" ->
    ("the", "O"). Marks inside a word stay ("4:00pm", "south-west"); quotes and
    brackets around it go. A word with no letters or digits is dropped.
    """
    tokens, tags = [], []
    for word in words:
        letters = [i for i, ch in enumerate(word) if ch.isalnum()]
        if not letters:
            continue
        core, trailing = word[letters[0] : letters[-1] + 1], word[letters[-1] + 1 :]
        if trailing.startswith(".") and re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]", core):
            core, trailing = core + ".", trailing[1:]  # "U.S." keeps its last period
        marks = [PUNCTUATION_TAGS[ch] for ch in trailing if ch in PUNCTUATION_TAGS]
        parts = ([CAPITALISED] if core[0].isupper() else []) + marks[-1:]
        tokens.append(core.lower())
        tags.append("_".join(parts) or OUTSIDE)
    return tokens, tags


def restore(tokens: list[str], tags: list[str]) -> str:
    """Tokens and restoration tags -> text with capitals and punctuation put back."""
    marks = {name: mark for mark, name in PUNCTUATION_TAGS.items()}
    words = []
    for token, tag in zip(tokens, tags, strict=True):
        parts = tag.split("_")
        word = token[:1].upper() + token[1:] if CAPITALISED in parts else token
        words.append(word + "".join(marks.get(part, "") for part in parts))
    return " ".join(words)


def is_restoration_tagset(tags: list[str]) -> bool:
    """Whether every tag is a restoration tag (`O`, `CAP`, a mark name, or `CAP_<mark>`)."""
    marks = set(PUNCTUATION_TAGS.values())
    return all(tag == OUTSIDE or tag == CAPITALISED or tag in marks
               or (tag.startswith(CAPITALISED + "_") and tag[len(CAPITALISED) + 1 :] in marks)
               for tag in tags)


def punctuation_restoration(documents: list[str], window: int = RESTORATION_WINDOW) -> TaggedSentences:
    """Documents -> windows of `window` lowercase, unpunctuated words with restoration tags."""
    sentences = TaggedSentences([], [], [])
    for number, document in enumerate(documents, start=1):
        tokens, tags = punctuation_tags(document.split())
        for start in range(0, len(tokens), window):
            sentences.tokens.append(tokens[start : start + window])
            sentences.tags.append(tags[start : start + window])
            sentences.lines.append(number)
    return sentences


def restoration_corpus() -> Path:
    """The offline tagging task as a CoNLL file: gensim's Lee news articles, lowercased and
    unpunctuated, each word tagged with its capitalisation and the mark that followed it.

    Generated once (deterministically) into `$SEQZOO_CACHE/data/`.
    """
    source = news_corpus()
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:12]
    path = cache_dir("data") / f"lee_punctuation_{digest}_w{RESTORATION_WINDOW}.conll"
    if not path.is_file():
        write_conll(punctuation_restoration(read_documents(source)), path)
    return path
