"""The `seqzoo` command run in the test's own process, as a user types it in `cwd`.

A new Python costs about 8 s of CPU before it does anything (TensorFlow's import), and the suite ran
dozens. What a command prints, its exit code and the files it writes are the same in process; the
tests of the process itself (the installed script, Ctrl-C, a kill mid-way, a clean interpreter) start
one.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import warnings

from seqzoo.cli import main
from seqzoo.errors import SeqzooNote


def cli(*args, cwd) -> subprocess.CompletedProcess:
    """`seqzoo ARGS...` in `cwd`: its exit code, stdout and stderr, as `subprocess.run` reports them."""
    argv = [str(arg) for arg in args]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.chdir(cwd), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            warnings.catch_warnings():
        warnings.simplefilter("default", SeqzooNote)  # each note once a command, as in a new process
        try:
            code = main(argv)
        except SystemExit as exited:  # argparse's usage errors
            code = exited.code
    return subprocess.CompletedProcess(["seqzoo", *argv], code, out.getvalue(), err.getvalue())
