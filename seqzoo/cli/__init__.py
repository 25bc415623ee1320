"""The `seqzoo` command: train, export and run the zoo's entries.

Commands, a module a group: list, config, demo (`zoo`); train, evaluate, compare (`training`);
export, request, verify (`exports`); predict, tag, translate, caption, attention, generate,
compose, synthesize, write (`inference`); embeddings (`embeddings`); paper (`paper`).

A user's mistake (unknown name, missing file, bad value) prints one line and
exits 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings

from seqzoo.cli import cells, embeddings, exports, inference, paper, training, zoo

# The order `seqzoo --help` lists them in.
GROUPS = (zoo, training, exports, inference, cells, embeddings, paper)


def main(argv: list[str] | None = None) -> int:
    try:
        return _run(argv)
    except KeyboardInterrupt:  # Ctrl-C at any point, TensorFlow's import (seconds) included
        print("seqzoo: interrupted", file=sys.stderr)
        return 130


def _run(argv: list[str] | None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and getattr(args, "intermixed", None) and not any(a.startswith("-") for a in extra):
        getattr(args, args.intermixed).extend(extra)  # INPUTs after an option: nargs="*" took none before it
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if getattr(args, "tensorflow", True):  # `seqzoo config` reads YAML alone
        _import_tensorflow_quietly()
    from seqzoo.errors import UserError

    _show_notes_as_one_line()

    try:
        args.run(args)
    except UserError as err:
        print(f"seqzoo: error: {err}", file=sys.stderr)
        return 2
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse with seqzoo's one-line errors (argparse prints the usage before the error)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: every group's commands under one parser (the docs' command-line page
    is generated from it)."""
    parser = _Parser(prog="seqzoo", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.add_commands(commands)
    return parser


def _show_notes_as_one_line() -> None:
    """seqzoo's notes (`SeqzooNote` warnings) print as `seqzoo: note: ...`; others as Python shows them."""
    from seqzoo.errors import SeqzooNote

    shown = warnings.showwarning

    def show(message, category, *args, **kwargs):
        if issubclass(category, SeqzooNote):
            print(f"seqzoo: note: {message}", file=sys.stderr)
        else:
            shown(message, category, *args, **kwargs)

    warnings.showwarning = show


def _import_tensorflow_quietly() -> None:
    """Imports TensorFlow with fd 2 muted: its C++ start-up lines come before absl's log
    initialisation and ignore TF_CPP_MIN_LOG_LEVEL (abseil-cpp#1718). An import error
    is still raised, with its traceback, once fd 2 is back."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import tensorflow as tf

        tf.config.list_physical_devices()  # device start-up logs too (cuInit on GPU-less hosts)
        tf.get_logger().setLevel("ERROR")  # e.g. retracing notes for variable-length batches
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
