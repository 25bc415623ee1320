"""Figures (matplotlib): attention maps of translations and captions, piano rolls."""

from __future__ import annotations

from pathlib import Path

from seqzoo.errors import UserError
from seqzoo.files import written


def plot_attention(row: dict, path: str | Path | None = None):
    """A heatmap of one translation's attention: source tokens across, target tokens down.

    `row` is one of `seqzoo.tasks.translation.translate`'s or
    `ExportedModel.translate(..., attention=True)`'s rows. With `path`, the figure is
    written there (format from the suffix: .png, .svg, .pdf), through a temporary file.

    Example:
    ```python
    row = ExportedModel("saved_models/seq2seq_attn").translate(["3 March 2021"], attention=True)[0]
    plot_attention(row, "attention.png")
    ```
    """
    import matplotlib

    if path is not None:
        matplotlib.use("Agg")  # writing a file needs no display
    import matplotlib.pyplot as plt

    if "attention" not in row:
        raise UserError("this translation has no attention weights (a seq2seq_attn model gives them)")
    source = [token if token != " " else "␣" for token in row["source_tokens"]]
    target = [token if token != " " else "␣" for token in row["target_tokens"]]
    figure, axes = plt.subplots(figsize=(1.5 + 0.3 * max(len(source), 4), 1.2 + 0.3 * max(len(target), 4)))
    image = axes.imshow(row["attention"] or [[0.0]], cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    axes.set_xticks(range(len(source)), source, rotation=90 if max(map(len, source), default=1) > 1 else 0)
    axes.set_yticks(range(len(target)), target)
    axes.set_xlabel("source")
    axes.set_ylabel("translation")
    axes.set_title(f"{row['text']!r} -> {row['translation']!r}", fontsize=9)
    figure.colorbar(image, ax=axes, fraction=0.04)
    figure.tight_layout()
    if path is not None:
        _save(figure, path)
        plt.close(figure)
    return figure


def _save(figure, path: str | Path) -> None:
    """Writes a figure through a temporary file; the format from the suffix."""
    suffix = figure_format(path)
    with written(path) as tmp:
        figure.savefig(tmp, format=suffix, dpi=150)


def figure_format(path: str | Path) -> str:
    """The format a figure file's suffix asks for; UserError unless matplotlib writes it here."""
    from matplotlib.backend_bases import FigureCanvasBase

    suffix = Path(path).suffix.lstrip(".").lower()
    if suffix not in FigureCanvasBase.get_supported_filetypes():
        raise UserError(f"cannot write a figure as '{Path(path).name}': use .png, .svg or .pdf")
    return suffix


def plot_caption_attention(image: bytes, row: dict, path: str | Path | None = None):
    """The image once per generated word, that word's attention over the regions upsampled and
    laid over it (Xu et al.'s figure). `row` is one of `ExportedModel.caption(...,
    attention=True)`'s rows; with `path`, the figure is written there through a temporary file.

    Example:
    ```python
    data = open("scene.png", "rb").read()
    row = ExportedModel("saved_models/show_attend_tell").caption([data], attention=True)[0]
    plot_caption_attention(data, row, "attention.png")
    ```
    """
    import io

    import matplotlib

    if path is not None:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from PIL import Image

    if "attention" not in row:
        raise UserError("this caption has no attention weights (a show_attend_tell model gives them)")
    if not row["valid"]:
        raise UserError("the image could not be decoded, so it has no caption to draw")
    picture = Image.open(io.BytesIO(image)).convert("RGB")
    words = row["tokens"] or [""]
    columns = min(len(words), 6)
    lines = -(-len(words) // columns)
    figure, axes = plt.subplots(lines, columns, figsize=(2.2 * columns, 2.4 * lines), squeeze=False)
    for index, axis in enumerate(axes.flat):
        axis.axis("off")
        if index >= len(words):
            continue
        weights = np.asarray(row["attention"][index] if row["attention"] else [[0.0]], np.float32)
        overlay = Image.fromarray(weights / max(float(weights.max()), 1e-9)).resize(picture.size,
                                                                                   Image.Resampling.BILINEAR)
        axis.imshow(picture)
        axis.imshow(np.asarray(overlay), cmap="gray", alpha=0.6, vmin=0.0, vmax=1.0)
        axis.set_title(words[index], fontsize=10)
    figure.suptitle(row["caption"], fontsize=10)
    figure.tight_layout()
    if path is not None:
        _save(figure, path)
        plt.close(figure)
    return figure


def plot_piano_roll(roll, path: str | Path, start: int = 0, lowest_midi: int = 21, title: str = "") -> Path:
    """A piano roll [frames, pitches] as an image: time across, pitch up; the first `start`
    frames (the prompt) shaded apart from the generated ones. Written to `path` (.png, .svg, .pdf)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    roll = np.asarray(roll) > 0.5
    sounding = np.flatnonzero(roll.any(axis=0))
    low, high = (sounding.min(), sounding.max()) if len(sounding) else (39, 51)  # C4 octave when silent
    low, high = max(low - 2, 0), min(high + 2, roll.shape[1] - 1)
    figure, axes = plt.subplots(figsize=(2 + 0.12 * max(len(roll), 24), 2 + 0.04 * (high - low + 1)),
                                layout="constrained")
    axes.imshow(roll[:, low:high + 1].T, origin="lower", aspect="auto", cmap="Greys", interpolation="nearest",
                extent=(-0.5, len(roll) - 0.5, lowest_midi + low - 0.5, lowest_midi + high + 0.5))
    if start:
        axes.axvspan(-0.5, start - 0.5, color="tab:blue", alpha=0.15, label="start")
        axes.legend(loc="upper right", fontsize=8)
    return _labelled(figure, axes, "frame (quarter note)", "MIDI pitch", title, path)


def plot_spectrogram(waveform, sample_rate: int, path: str | Path, start: int = 0, title: str = "") -> Path:
    """Audio samples as a spectrogram (time across, frequency up, power in dB); the first `start`
    samples (the prime) marked apart from the generated ones. Written to `path` (.png, .svg, .pdf)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    waveform = np.asarray(waveform, np.float64)
    seconds = len(waveform) / sample_rate
    figure, axes = plt.subplots(figsize=(3 + 2 * min(max(seconds, 1), 10), 3.5), layout="constrained")
    window = 256 if len(waveform) >= 256 else max(16, 2 ** int(np.log2(max(len(waveform), 16))))
    axes.specgram(waveform + 1e-9, NFFT=window, Fs=sample_rate, noverlap=window // 2, cmap="magma")
    if start:
        axes.axvline(start / sample_rate, color="white", linestyle="--", linewidth=1,
                     label="prime | generated")
        axes.legend(loc="upper right", fontsize=8)
    return _labelled(figure, axes, "time (s)", "frequency (Hz)", title, path)


def plot_strokes(strokes, path: str | Path, title: str = "", colour_by_stroke: bool = False) -> Path:
    """Pen offsets [points, 3] (dx, dy, end of stroke) as the line they draw, the pen lifted after
    each end of stroke; each stroke in its own colour with `colour_by_stroke`. Written to `path`
    (.svg, .png, .pdf)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    strokes = np.asarray(strokes, np.float64).reshape(-1, 3)
    xy = np.cumsum(strokes[:, :2], axis=0)
    ends = np.flatnonzero(strokes[:, 2] > 0.5) + 1
    width = np.ptp(xy[:, 0]) if len(xy) else 1.0
    height = np.ptp(xy[:, 1]) if len(xy) else 1.0
    figure, axes = plt.subplots(figsize=(min(max(2 + width / max(height, 1e-9) * 1.5, 3), 14), 2.5),
                                layout="constrained")
    colours = plt.get_cmap("tab10")
    for k, piece in enumerate(np.split(xy, ends)):
        if len(piece):
            axes.plot(piece[:, 0], piece[:, 1], color=colours(k % 10) if colour_by_stroke else "black",
                      linewidth=1.5, solid_capstyle="round")
    axes.set_aspect("equal")
    axes.axis("off")
    return _labelled(figure, axes, "", "", title, path)


def plot_mixture_density(strokes, mixtures, path: str | Path, title: str = "", pixels: int = 1200) -> Path:
    """Graves' (2013) heat map: each point's predicted distribution (`mixtures` [points, 1 + 6M], in
    the strokes' units: row t, given the points before t, for point t's offset) drawn where it
    predicts, over the line the strokes [points, 3] draw. Each row's density is scaled to its own
    peak (a confident step is no brighter than an unsure one) and the rows are overlaid by maximum."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    strokes = np.asarray(strokes, np.float64).reshape(-1, 3)
    mixtures = np.asarray(mixtures, np.float64).reshape(len(strokes), -1)
    m = (mixtures.shape[1] - 1) // 6
    weights, mu_x, mu_y, s_x, s_y, rho = (mixtures[:, 1 + k * m : 1 + (k + 1) * m] for k in range(6))
    xy = np.cumsum(strokes[:, :2], axis=0)
    origins = np.concatenate([[[0.0, 0.0]], xy[:-1]])  # row t predicts from the point before t
    low, high = xy.min(axis=0) - 4 * s_x.mean(), xy.max(axis=0) + 4 * s_y.mean()
    unit = max(high[0] - low[0], high[1] - low[1], 1e-9) / pixels  # data units per pixel
    shape = (int((high[1] - low[1]) / unit) + 1, int((high[0] - low[0]) / unit) + 1)
    heat = np.zeros(shape)
    for t in range(len(strokes)):
        cx, cy = origins[t, 0] + mu_x[t], origins[t, 1] + mu_y[t]
        reach = 3 * max(s_x[t].max(), s_y[t].max())
        cols = np.arange(max(int((cx.min() - reach - low[0]) / unit), 0),
                         min(int((cx.max() + reach - low[0]) / unit) + 1, shape[1]))
        rows = np.arange(max(int((cy.min() - reach - low[1]) / unit), 0),
                         min(int((cy.max() + reach - low[1]) / unit) + 1, shape[0]))
        if not len(cols) or not len(rows):
            continue
        gx = (low[0] + cols * unit)[None, :, None]
        gy = (low[1] + rows * unit)[:, None, None]
        zx, zy = (gx - cx) / s_x[t], (gy - cy) / s_y[t]
        one_minus = 1 - rho[t] ** 2
        density = (weights[t] / (2 * np.pi * s_x[t] * s_y[t] * np.sqrt(one_minus))
                   * np.exp(-(zx**2 + zy**2 - 2 * rho[t] * zx * zy) / (2 * one_minus))).sum(axis=-1)
        patch = heat[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        np.maximum(patch, density / max(density.max(), 1e-300), out=patch)
    figure, axes = plt.subplots(figsize=(min(max(2 + shape[1] / max(shape[0], 1) * 1.5, 3), 14), 2.5),
                                layout="constrained")
    axes.imshow(heat, origin="lower", cmap="hot", interpolation="bilinear",
                extent=(low[0], low[0] + shape[1] * unit, low[1], low[1] + shape[0] * unit))
    ends = np.flatnonzero(strokes[:, 2] > 0.5) + 1
    for piece in np.split(xy, ends):
        if len(piece):
            axes.plot(piece[:, 0], piece[:, 1], color="#4a90d9", linewidth=0.6)
    axes.set_aspect("equal")
    axes.axis("off")
    return _labelled(figure, axes, "", "", title, path)


def plot_window(window, text: str, path: str | Path, title: str = "") -> Path:
    """A synthesis network's window [points, characters]: its weight on each character of `text`
    (up) at each point (across), Graves' (2013) alignment figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    window = np.asarray(window, np.float64)
    figure, axes = plt.subplots(figsize=(3 + min(len(window) / 60, 10), 1 + 0.18 * max(len(text), 4)),
                                layout="constrained")
    axes.imshow(window.T, aspect="auto", origin="lower", cmap="Greys", interpolation="nearest")
    axes.set_yticks(range(len(text)), [repr(c)[1:-1] if c != " " else "\u2423" for c in text], fontsize=7)
    return _labelled(figure, axes, "point", "character", title, path)


def plot_confusion(counts, labels: list[str], path: str | Path, title: str = "") -> Path:
    """A confusion matrix [true, predicted] (`seqzoo.tasks.audio_classification.confusion_matrix`): each row
    as fractions of its clips, the counts written in the cells that hold any."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    counts = np.asarray(counts)
    fractions = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = 2 + 0.35 * len(labels)
    figure, axes = plt.subplots(figsize=(size + 1, size), layout="constrained")
    shown = axes.imshow(fractions, cmap="Blues", vmin=0, vmax=1)
    for (row, column), count in np.ndenumerate(counts):
        if count:
            axes.text(column, row, str(count), ha="center", va="center", fontsize=6,
                      color="white" if fractions[row, column] > 0.5 else "black")
    axes.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    axes.set_yticks(range(len(labels)), labels, fontsize=7)
    figure.colorbar(shown, ax=axes, shrink=0.8, label="fraction of the row")
    return _labelled(figure, axes, "predicted", "true", title, path)


def _labelled(figure, axes, xlabel: str, ylabel: str, title: str, path: str | Path) -> Path:
    """Names a one-panel figure's axes and title, saves it to `path` and closes it."""
    import matplotlib.pyplot as plt

    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_title(title, fontsize=9)
    try:
        _save(figure, path)
    finally:
        plt.close(figure)
    return Path(path)
