"""Serves a page folder on 127.0.0.1 (`seqzoo web`): a page's ES modules, model and wasm files are
fetched, which browsers refuse from file:// URLs."""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

from seqzoo.errors import UserError
from seqzoo.exporters.integrity import latest_version


def page_folder(path: str | Path) -> Path:
    """The page folder of `saved_models/NAME` (its newest version), of a version folder, or the folder
    itself; UserError when there is none."""
    path = Path(path)
    if (path / "index.html").is_file() and (path / "model.json").is_file():
        return path
    version = latest_version(path)
    folder = version / "web"
    if not (folder / "index.html").is_file():
        raise UserError(f"'{version}' has no browser page: export it with `seqzoo export RUN --web`")
    return folder


class _Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".js": "text/javascript", ".wasm": "application/wasm", ".json": "application/json"}

    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


@contextlib.contextmanager
def serving(folder: Path, port: int = 0) -> Iterator[str]:
    """Serves `folder` on 127.0.0.1:`port` (0: a free one) in a thread; yields the page's URL."""
    handler = functools.partial(_Handler, directory=str(folder))
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as err:
        raise UserError(f"cannot serve on 127.0.0.1:{port}: {err.strerror or err}") from None
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
