"""What the benchmarks share: the wall-clock time of one call."""

from __future__ import annotations

import time


def timed(function) -> float:
    """Wall-clock seconds one call of `function()` takes."""
    start = time.perf_counter()
    function()
    return time.perf_counter() - start
