"""The one exception type for a user's mistake, and the 'did you mean' helper."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable


class UserError(ValueError):
    """A mistake in what the user asked for: a name, a key, a file, a value.

    The CLI prints its message as one line and exits with status 2; anything else
    that escapes is a bug and keeps its traceback.
    """


class ExportError(UserError):
    """An export that cannot be made faithfully (unconvertible ops, failed parity).

    Nothing is published when it is raised.
    """


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """Returns "; did you mean 'x'?" for the closest option, or lists the valid choices."""
    options = sorted(set(options))
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    return "; valid: " + ", ".join(options)


def check_choice(what: str, value: str, options: Iterable[str]) -> str:
    """Returns value if it is one of options, else raises UserError naming the closest."""
    options = list(options)
    if value not in options:
        raise UserError(f"unknown {what} {value!r}{did_you_mean(str(value), options)}")
    return value


def first_line(err: BaseException) -> str:
    """An exception's message as one line: its first line, less TensorFlow's op decoration
    (`{{function_node ...}} ... [Op:Name] name:`), or its type when it has no message."""
    text = (getattr(err, "message", None) or str(err)).strip()
    line = re.sub(r"^\{\{.*?\}\}\s*|\s*\[Op:\w+\].*$", "", text.splitlines()[0]) if text else ""
    return line or type(err).__name__


class SeqzooNote(UserWarning):
    """Something a user should know that is no error: a damaged version skipped, a killed
    export's leftovers removed. The CLI prints it as one `seqzoo: note:` line."""
