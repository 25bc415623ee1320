"""What a character of a text is, computed from the text alone: the features a cell may track.

Code features come from Python's own `tokenize`, never a hand-written parser; prose features from
the characters. Each feature gives one value per character (a Python `str` index): a yes/no feature
0 or 1, a count feature an integer.
"""

from __future__ import annotations

import ast
import io
import tokenize
from dataclasses import dataclass

import numpy as np

from seqzoo.errors import check_choice


@dataclass(frozen=True)
class Feature:
    name: str
    kind: str  # "yes/no" (scored by AUC) or "count" (scored by |Pearson r|)
    code: bool  # read from Python's tokens: only for text that tokenizes as Python
    about: str


FEATURES = {feature.name: feature for feature in (
    Feature("string", "yes/no", True, "inside a string literal (any quotes, triple quotes, f-strings)"),
    Feature("comment", "yes/no", True, "inside a # comment"),
    Feature("if_condition", "yes/no", True, "inside an if/elif statement's condition: from `if` to its `:`"),
    Feature("indentation", "count", True, "the line's indentation level (INDENT / DEDENT tokens)"),
    Feature("bracket_depth", "count", True, "how many (), [] and {} are open"),
    Feature("column", "count", False, "characters since the last newline"),
    Feature("word_position", "count", False, "place in the word (1, 2, ...; 0 outside words)"),
    Feature("quote", "yes/no", False, 'inside double quotes ("...") on the line'),
)}
CODE_DEFAULT = ("string", "comment", "if_condition", "indentation", "bracket_depth", "column")
PROSE_DEFAULT = ("column", "word_position", "quote")


def feature_names(names: list[str] | None, code: bool) -> tuple[str, ...]:
    """The features asked for (UserError naming an unknown one), or the defaults for code or prose."""
    if not names:
        return CODE_DEFAULT if code else PROSE_DEFAULT
    for name in names:
        check_choice("feature", name, FEATURES)
    return tuple(dict.fromkeys(names))


def features(text: str, names: tuple[str, ...]) -> dict[str, np.ndarray] | None:
    """{feature: int32 [len(text)]} for each name; None when a code feature is asked and the text
    does not tokenize as Python."""
    values = {}
    if any(FEATURES[name].code for name in names):
        code = code_features(text)
        if code is None:
            return None
        values.update(code)
    for name, compute in (("column", column), ("word_position", word_position), ("quote", quoted)):
        if name in names:  # each a pass in Python over every character: only those asked for
            values[name] = compute(text)
    return {name: values[name] for name in names}


def is_python(text: str) -> bool:
    """Whether `ast.parse` accepts the text (tokenize alone takes most prose)."""
    try:
        ast.parse(text)
        return True
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False


def column(text: str) -> np.ndarray:
    """Characters since the last newline: the newline itself is at the column it ends."""
    out = np.zeros(len(text), np.int32)
    count = 0
    for i, char in enumerate(text):
        out[i] = count
        count = 0 if char == "\n" else count + 1
    return out


def word_position(text: str) -> np.ndarray:
    out = np.zeros(len(text), np.int32)
    count = 0
    for i, char in enumerate(text):
        count = count + 1 if char.isalnum() or char == "_" else 0
        out[i] = count
    return out


def quoted(text: str) -> np.ndarray:
    """Inside "..." (the quote marks included), reset at each newline."""
    out = np.zeros(len(text), np.int32)
    inside = False
    for i, char in enumerate(text):
        if char == "\n":
            inside = False
        elif char == '"':
            out[i] = 1
            inside = not inside
            continue
        out[i] = inside
    return out


def code_features(text: str) -> dict[str, np.ndarray] | None:
    """string, comment, if_condition, indentation and bracket_depth of every character, from
    `tokenize`; None when the text is not Python (`is_python`)."""
    if not is_python(text):
        return None
    starts = np.cumsum([0, *(len(line) for line in io.StringIO(text).readlines())])

    def offset(row_col: tuple[int, int]) -> int:
        row, col = row_col
        return int(starts[min(row - 1, len(starts) - 1)]) + col

    n = len(text)
    string, comment, condition = (np.zeros(n, np.int32) for _ in range(3))
    depth_change, indent_change = np.zeros(n + 1, np.int32), np.zeros(n + 1, np.int32)
    fstring = getattr(tokenize, "FSTRING_START", None)
    open_fstrings: list[int] = []
    statement_start, condition_from, depth = True, None, 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            start, end = offset(token.start), offset(token.end)
            kind = token.type
            if kind == tokenize.STRING:
                string[start:end] = 1
            elif fstring is not None and kind == fstring:
                open_fstrings.append(start)
            elif fstring is not None and kind == tokenize.FSTRING_END and open_fstrings:
                string[open_fstrings.pop():end] = 1
            elif kind == tokenize.COMMENT:
                comment[start:end] = 1
            elif kind == tokenize.INDENT:
                indent_change[end] += 1  # from the first character of the indented line's code on
            elif kind == tokenize.DEDENT:
                indent_change[start] -= 1
            elif kind == tokenize.OP and token.string in "([{":
                depth += 1
                depth_change[end] += 1
            elif kind == tokenize.OP and token.string in ")]}":
                depth -= 1
                depth_change[start] -= 1
            if kind == tokenize.NAME and token.string in ("if", "elif") and statement_start:
                condition_from = start
            elif kind == tokenize.OP and token.string == ":" and depth == 0 and condition_from is not None:
                condition[condition_from:end] = 1
                condition_from = None
            if kind not in (tokenize.INDENT, tokenize.DEDENT, tokenize.COMMENT, tokenize.NL):
                statement_start = kind in (tokenize.NEWLINE,) or (kind == tokenize.OP and token.string == ";")
    except (tokenize.TokenError, SyntaxError):  # IndentationError is a SyntaxError
        return None
    indentation = np.cumsum(indent_change)[:n]
    # A line's leading whitespace belongs to its level too: set each line to the level of its code.
    for line_start, line_end in zip(starts[:-1], starts[1:], strict=True):
        line = text[line_start:line_end]
        text_start = line_start + len(line) - len(line.lstrip(" \t"))
        if text_start < line_end:
            indentation[line_start:text_start] = indentation[min(text_start, n - 1)]
    return {"string": string, "comment": comment, "if_condition": condition,
            "indentation": indentation.astype(np.int32),
            "bracket_depth": np.maximum(np.cumsum(depth_change)[:n], 0).astype(np.int32)}
