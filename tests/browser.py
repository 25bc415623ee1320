"""Pages in a real browser: the system's Chromium driven by Playwright, each page served on 127.0.0.1.

Playwright's own browsers (`playwright install`, a download) are never used: `SEQZOO_CHROMIUM` or the
`chromium` on PATH (Debian's package, which .ci/run installs). Where it, Playwright or LiteRT.js is
missing, the browser tests are skipped with the reason.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from seqzoo.exporters.web.runtime import runtime_missing as web_runtime_missing
from seqzoo.exporters.web.serve import serving

# LiteRT.js writes its own log lines to console.error ("INFO: [environment.cc:36] ..."): not errors.
LITERT_LOG = re.compile(r"^(INFO|WARNING): ")


def _chromium_path() -> str | None:
    return os.environ.get("SEQZOO_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@contextlib.contextmanager
def chromium():
    missing = web_runtime_missing()
    if missing:
        pytest.skip(f"no browser pages without LiteRT.js: {missing}")
    path = _chromium_path()
    if path is None:
        pytest.skip("no Chromium: install Debian's `chromium` package (.ci/run does) or set SEQZOO_CHROMIUM")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("no Playwright: pip install -e '.[test]'")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@contextlib.contextmanager
def opened(browser, folder: Path):
    """A page folder served and loaded; yields (page, errors: what its console reported as errors)."""
    errors = []
    with serving(folder) as url:
        page = browser.new_page()
        page.on("console", lambda m: m.type == "error" and not LITERT_LOG.match(m.text)
                and errors.append(m.text))
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(url)
        page.wait_for_function("window.seqzoo && (window.seqzoo.ready || window.seqzoo.failed)",
                               timeout=60_000)
        assert page.evaluate("window.seqzoo.failed || null") is None, page.evaluate("window.seqzoo.failed")
        try:
            yield page, errors
        finally:
            page.close()


def assert_page_gives(got: dict, expected: dict, what: str) -> None:
    """The page's outputs are the Python LiteRT interpreter's: ids identical, numbers within 1e-5."""
    for key, value in expected.items():
        value, have = np.asarray(value), np.asarray(got[key])
        assert have.shape == value.shape, f"{what}: {key} {have.shape} != {value.shape}"
        if np.issubdtype(value.dtype, np.integer):
            np.testing.assert_array_equal(have, value, err_msg=f"{what}: {key}")
        else:
            np.testing.assert_allclose(have, value, atol=1e-5, rtol=0, err_msg=f"{what}: {key}")
