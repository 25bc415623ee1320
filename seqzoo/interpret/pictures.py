"""A text with each character's background coloured by a cell's value, -1 blue .. 0 white .. +1 red:
the lecture's cell pictures, as an HTML page and as a PNG."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np

from seqzoo.files import written

PNG_LINES, PNG_COLUMNS = 40, 100  # the PNG shows the excerpt's first lines, cut at a width


def colour(value: float) -> tuple[int, int, int]:
    v = float(np.clip(np.nan_to_num(value), -1.0, 1.0))
    fade = int(round(255 * (1 - abs(v))))
    return (255, fade, fade) if v > 0 else (fade, fade, 255)


def write_html(text: str, values: np.ndarray, title: str, path: str | Path) -> Path:
    spans = []
    for char, value in zip(text, values, strict=True):
        shown = "↵\n" if char == "\n" else html.escape(char)
        red, green, blue = colour(value)
        background = f"#{red:02x}{green:02x}{blue:02x}"
        spans.append(f'<span style="background:{background}" title="{value:+.3f}">{shown}</span>')
    page = ('<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title>\n"
            "<style>body{font-family:sans-serif;margin:2em}pre{font:13px/1.4 monospace;white-space:pre-wrap}"
            "span{padding:1px 0}</style></head><body>\n"
            f"<h1>{html.escape(title)}</h1>\n<p>Each character's background is the cell's value after "
            "reading it: blue -1, white 0, red +1 (hover for the number).</p>\n"
            f"<pre>{''.join(spans)}</pre>\n</body></html>\n")
    with written(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return Path(path)


def write_png(text: str, values: np.ndarray, title: str, path: str | Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from seqzoo.plots import _save

    lines, grid, place = text.split("\n")[:PNG_LINES], [], 0
    for line in lines:
        row = np.full(PNG_COLUMNS, np.nan)
        shown = min(len(line) + 1, PNG_COLUMNS)  # the newline's cell too
        piece = values[place : place + shown]
        row[: len(piece)] = piece
        grid.append(row)
        place += len(line) + 1
    figure, axes = plt.subplots(figsize=(PNG_COLUMNS * 0.11, len(lines) * 0.2 + 0.6))
    axes.imshow(np.array(grid), cmap="bwr", vmin=-1, vmax=1, aspect="auto", interpolation="nearest")
    for y, line in enumerate(lines):
        for x, char in enumerate(line[:PNG_COLUMNS]):
            if not char.isspace():
                axes.text(x, y, char, ha="center", va="center", fontsize=7, family="monospace")
    axes.set_axis_off()
    axes.set_title(title, fontsize=9)
    figure.tight_layout()
    _save(figure, path)
    plt.close(figure)
    return Path(path)
