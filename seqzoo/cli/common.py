"""What the command groups share: reading texts from the command line, and the config options."""

from __future__ import annotations

import argparse
import os
import sys


def add_config_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--preset", help="size preset: tiny, small, base")
    command.add_argument("--set", dest="assignments", action="append", default=[],
                         metavar="KEY=VALUE", help="override a config value, e.g. rnn.units=64")


def texts(values: list[str], what: str = "TEXT") -> list[str]:
    """Command-line texts as valid Unicode: bytes that are not UTF-8 (which Python keeps as
    lone surrogates) become U+FFFD, with a note naming the argument."""
    texts = []
    for number, value in enumerate(values, start=1):
        text = os.fsencode(value).decode("utf-8", errors="replace")
        if text != value:
            print(f"seqzoo: note: {what} {number} is not valid UTF-8; its invalid bytes were replaced "
                  "with U+FFFD", file=sys.stderr)
        texts.append(text)
    return texts
