"""MkDocs hook: the home page is the README and the contributing page CONTRIBUTING.md (their links
made the site's), and the command-line page is generated from seqzoo's own argparse parser, so
none of them can drift."""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

ROOT = Path(__file__).parents[1]
CLI = "<!-- the command line, generated from seqzoo.cli.build_parser() -->"
INCLUDED = {"<!-- the README, its links made the site's -->": "README.md",
            "<!-- CONTRIBUTING.md, its links made the site's -->": "CONTRIBUTING.md"}


def on_page_markdown(markdown: str, page, config, files) -> str:
    if CLI in markdown:
        return markdown.replace(CLI, command_reference())
    for placeholder, name in INCLUDED.items():
        if placeholder in markdown:
            return markdown.replace(placeholder, site_links((ROOT / name).read_text(encoding="utf-8")))
    return markdown


def site_links(text: str) -> str:
    """A top-level file's links as the site has them: docs/x.md is x.md, CONTRIBUTING.md contributing.md."""
    return re.sub(r"\]\(docs/", "](", text).replace("](CONTRIBUTING.md)", "](contributing.md)")


def command_reference() -> str:
    """Every command's `--help`, a section each, in the order `seqzoo --help` lists them."""
    from seqzoo.cli import build_parser

    os.environ["COLUMNS"] = "100"  # argparse wraps to the terminal's width: the page's is fixed
    parser = build_parser()
    sections = [_section("seqzoo", parser)]
    for name, command in _commands(parser):
        sections.append(_section(f"seqzoo {name}", command))
        for sub_name, sub in _commands(command):
            sections.append(_section(f"seqzoo {name} {sub_name}", sub, level="###"))
    return "\n".join(sections)


def _commands(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser]]:
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return list(actions[0].choices.items()) if actions else []


def _section(title: str, parser: argparse.ArgumentParser, level: str = "##") -> str:
    parser.prog = title
    return f"{level} `{title}`\n\n```text\n{parser.format_help().rstrip()}\n```\n"
