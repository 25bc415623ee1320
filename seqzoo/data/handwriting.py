"""Online handwriting: pen trajectories as (dx, dy, end of stroke) points, with the text they write.

Two sources:
- IAM-OnDB's stroke XML files (a user's copy of the data set: `--data` names a file or a folder);
  a line's text is its XML's `TextLine` `text` attribute, else the first line of a `.txt` file of
  the same name beside it.
- The offline default, **synthetic**: words written with the Hershey vector fonts' cursive pen
  paths (`scripts`, `cursive`; PyPI `hershey-fonts`, MIT) by seeded "writers", each with a slant,
  a size, a letter spacing, a drifting baseline, a smooth tremor and a pen speed (points per unit of
  path). One family of letter shapes: its log-loss is not comparable with Graves' IAM-OnDB figures.
  Because each point comes from a known glyph, it carries the index of the character it draws.

Points are offsets from the point before (the first from the line's start, so (0, 0)); y grows
upwards; `end of stroke` is 1 on the last point before the pen lifts.
"""

from __future__ import annotations

import functools
import io
import re
import xml.etree.ElementTree as ElementTree
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf

from seqzoo.data.corpora import news_corpus
from seqzoo.errors import UserError
from seqzoo.files import cache_dir, data_files, irregularity, write_bytes

FONTS = ("scripts", "cursive")  # single-line cursive pen paths (`scriptc` draws doubled lines)
LETTERS = "abcdefghijklmnopqrstuvwxyz"  # what the synthetic writers write, with spaces between words
XML_MAX_BYTES = 16 << 20  # an IAM-OnDB line file is a few tens of KB
MIN_POINTS = 2


@dataclass
class Line:
    """One written line: its text, its points [n, 3] float32 (dx, dy, end of stroke), and for each
    point the index in `text` of the character it draws (int32 [n]; -1 where unknown, as in
    IAM-OnDB), and who wrote it."""

    text: str
    points: np.ndarray
    chars: np.ndarray
    writer: str


@dataclass(frozen=True)
class Style:
    """A synthetic writer's hand."""

    font: str
    slant: float  # x shift per unit of height (positive leans right)
    scale: float
    spacing: float  # extra space between letters, font units
    drift: float  # the baseline's amplitude, font units, over a line
    tremor: float  # the smooth jitter's size, font units
    speed: float  # path length between two points, font units

    @classmethod
    def seeded(cls, rng: np.random.Generator) -> Style:
        return cls(
            font=FONTS[rng.integers(len(FONTS))],
            slant=rng.uniform(-0.1, 0.45),
            scale=rng.uniform(0.85, 1.15),
            spacing=rng.uniform(-1.0, 2.0),
            drift=rng.uniform(0.0, 1.5),
            tremor=rng.uniform(0.0, 0.35),
            speed=rng.uniform(2.2, 3.2),
        )


@functools.cache
def _font(name: str):
    from HersheyFonts import HersheyFonts

    font = HersheyFonts()
    font.load_default_font(name)
    return font


def write_synthetic(text: str, style: Style, rng: np.random.Generator, writer: str = "") -> Line:
    """`text` (LETTERS and spaces) written in `style`: pen paths joined where one glyph's stroke
    ends where the next begins, resampled at the writer's speed, slanted, drifted and jittered."""
    font, x = _font(style.font), 0.0
    strokes: list[tuple[list[tuple[float, float]], int]] = []  # (vertices, character index)
    for index, character in enumerate(text):
        glyph = next(iter(font.glyphs_for_text(character)), None)
        if glyph is None:
            raise UserError(f"the synthetic writer has no glyph for {character!r}")
        for stroke in glyph.strokes:
            vertices = [(x + px - glyph.left_offset, float(py)) for px, py in stroke]
            strokes.append((vertices, index))
        x += glyph.char_width + (style.spacing if character != " " else 0.0)
    points, chars, ends = [], [], []
    previous_end = None
    for vertices, index in strokes:
        sampled = _resampled(np.array(vertices, np.float64), style.speed)
        if previous_end is not None and np.allclose(vertices[0], previous_end):
            sampled = sampled[1:]  # the pen stays down: one stroke goes on into the next glyph
            if ends:
                ends[-1] = 0
        points.extend(sampled)
        chars.extend([index] * len(sampled))
        ends.extend([0] * (len(sampled) - 1) + [1])
        previous_end = vertices[-1]
    xy = np.array(points, np.float64)
    xy[:, 1] = -xy[:, 1]  # Hershey's y grows downwards
    xy[:, 0] += style.slant * (xy[:, 1] + 9.0)  # leaning about the baseline (y = -9)
    phase = rng.uniform(0, 2 * np.pi)
    xy[:, 1] += style.drift * np.sin(phase + xy[:, 0] / 60.0)
    xy += style.tremor * _smooth_noise(rng, len(xy))
    xy *= style.scale
    offsets = np.diff(xy, axis=0, prepend=xy[:1])
    return Line(text, np.column_stack([offsets, ends]).astype(np.float32), np.array(chars, np.int32), writer)


def _resampled(vertices: np.ndarray, step: float) -> list[tuple[float, float]]:
    """Points every `step` along a polyline, its first and last vertices included."""
    lengths = np.linalg.norm(np.diff(vertices, axis=0), axis=1)
    along = np.concatenate([[0.0], np.cumsum(lengths)])
    if along[-1] == 0:
        return [tuple(vertices[0])]
    count = max(2, int(round(along[-1] / step)) + 1)
    at = np.linspace(0.0, along[-1], count)
    return list(zip(np.interp(at, along, vertices[:, 0]), np.interp(at, along, vertices[:, 1]), strict=True))


GLYPHS = "".join(chr(c) for c in range(33, 127))  # the fonts' printable glyphs (96 with space, DEL)
TEMPLATE_SLANTS = (0.0, 0.2, 0.4)  # the synthetic writers lean -0.1 to 0.45


def legibility(points: np.ndarray, text: str, chars: np.ndarray | None = None) -> tuple[int, int]:
    """(characters read back, characters written) of a written line: each non-space character's
    points (`chars`: the index in `text` each point draws, from the data; by default found by
    `cut_into_characters`) set against every glyph of both fonts, at three slants, by a shape
    distance (the symmetric chamfer distance between the points and the glyph's pen path, both
    centred and scaled to unit size); a character is read back when its nearest glyph is the
    intended one."""
    if chars is None:
        chars = cut_into_characters(points, text)
    xy = np.cumsum(points[:, :2].astype(np.float64), axis=0)
    labels, shapes, starts = _templates()
    sizes = np.diff([*starts, len(shapes)])
    read = written = 0
    for index, character in enumerate(text):
        drawn = xy[chars == index]
        if character == " ":
            continue
        written += 1
        if len(drawn) < 2:
            continue
        distances = np.linalg.norm(_unit_size(drawn)[:, None] - shapes[None], axis=-1)  # [drawn, all glyphs']
        to_glyph = np.minimum.reduceat(distances, starts, axis=1).mean(axis=0)
        from_glyph = np.add.reduceat(distances.min(axis=0), starts) / sizes
        read += labels[int(np.argmin(to_glyph + from_glyph))] == character
    return read, written


CUT_STRIDE = 2  # the cut points: every second point
CUT_SHAPE_POINTS = 12  # a piece, and a glyph (CUT_SHAPE_POINTS + 4), resampled along the pen's path
CUT_LENGTHS = (0.35, 3.0)  # a piece's path length against its glyph's, the line's scale fitted: the range
CUT_LENGTH_WEIGHT = 0.5  # the cost of a piece's path length (its squared log ratio to its glyph's)


def cut_into_characters(points: np.ndarray, text: str) -> np.ndarray:
    """Each point's character (an index in `text`; -1 where none), from the writing and its text
    alone (a forced alignment): the points are cut, at every CUT_STRIDE-th point, into as many
    consecutive pieces as the text has characters other than spaces, so that the pieces' shape
    distances to their characters' glyphs, plus the squared log ratio of each piece's pen-path
    length to its glyph's (the line's scale fitted), sum to the least (dynamic programming). The
    cut knows which characters were meant; `legibility` then reads each piece among all glyphs
    without knowing. All -1 when the writing has too few points for its text."""
    xy = np.cumsum(points[:, :2].astype(np.float64), axis=0)
    chars = [(index, character) for index, character in enumerate(text) if character != " "]
    labels = np.full(len(xy), -1, np.int32)
    glyphs = _cut_templates()
    if not chars or any(character not in glyphs for _, character in chars):
        return labels
    along = _path_length(xy, points[:, 2] > 0.5)
    cuts = np.unique(np.append(np.arange(0, len(xy), CUT_STRIDE), len(xy)))  # pieces [cuts[i], cuts[j])
    glyph_lengths = np.array([glyphs[character][1] for _, character in chars])
    scale = along[-1] / glyph_lengths.sum()
    first, last = np.triu_indices(len(cuts), k=1)
    piece = along[cuts[last] - 1] - along[cuts[first]]  # a piece runs from its first point to its last
    costs = {}  # each character's cost of every piece [first, last], inf outside CUT_LENGTHS
    for character in {character for _, character in chars}:
        shapes, length = glyphs[character]
        ratio = piece / (scale * length)
        usable = np.flatnonzero((ratio >= CUT_LENGTHS[0]) & (ratio <= CUT_LENGTHS[1]))
        cost = np.full((len(cuts), len(cuts)), np.inf)
        for chunk in np.array_split(usable, max(1, len(usable) // 2048)) if len(usable) else ():
            at = along[cuts[first[chunk]], None] + np.linspace(0, 1, CUT_SHAPE_POINTS) * piece[chunk, None]
            drawn = _unit_size_each(_at_length(xy, along, at)).astype(np.float32)
            cost[first[chunk], last[chunk]] = (_chamfer(drawn, shapes).min(axis=1)
                                               + CUT_LENGTH_WEIGHT * np.log(ratio[chunk]) ** 2)
        costs[character] = cost
    best = np.full(len(cuts), np.inf)
    best[0] = 0.0
    came_from = np.zeros((len(chars), len(cuts)), np.int64)
    for k, (_, character) in enumerate(chars):
        total = best[:, None] + costs[character]  # [first, last]
        came_from[k] = np.argmin(total, axis=0)
        best = total[came_from[k], np.arange(len(cuts))]
    if not np.isfinite(best[-1]):
        return labels
    end = len(cuts) - 1
    for k in range(len(chars) - 1, -1, -1):
        start = came_from[k, end]
        labels[cuts[start] : cuts[end]] = chars[k][0]
        end = start
    return labels


def _chamfer(drawn: np.ndarray, shapes: np.ndarray) -> np.ndarray:
    """The symmetric chamfer distance [pieces, shapes] between pieces [pieces, P, 2] and shapes
    [shapes, Q, 2]: each point's distance to the nearest of the other's, averaged, both ways."""
    drawn, shapes = drawn[:, None, :, None], shapes[None, :, None]  # [piece, 1, P, 1, 2], [1, shape, 1, Q, 2]
    squared = sum((drawn[..., i] - shapes[..., i]) ** 2 for i in range(2))
    return np.sqrt(squared.min(axis=3)).mean(axis=2) + np.sqrt(squared.min(axis=2)).mean(axis=2)


def _at_length(xy: np.ndarray, along: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The points [..., 2] at path lengths `at` [...] along `xy` [n, 2] (`along`: its lengths)."""
    return np.stack([np.interp(at, along, xy[:, 0]), np.interp(at, along, xy[:, 1])], axis=-1)


@functools.cache
def _cut_templates() -> dict[str, tuple[np.ndarray, float]]:
    """Each glyph's shapes for the cut (both fonts, every slant; [shapes, CUT_SHAPE_POINTS + 4, 2],
    evenly along the pen's path, unit size) and its mean path length in font units."""
    found: dict[str, list] = {}
    for strokes, character in _glyph_paths():
        xy = np.concatenate(strokes)
        along = _path_length(xy, np.cumsum([len(stroke) for stroke in strokes]) - 1)
        shape = _unit_size(_at_length(xy, along, np.linspace(0.0, along[-1], CUT_SHAPE_POINTS + 4)))
        found.setdefault(character, []).append((shape, along[-1]))
    return {character: (np.stack([shape for shape, _ in shapes]).astype(np.float32),
                        float(np.mean([length for _, length in shapes])))
            for character, shapes in found.items()}


def _path_length(xy: np.ndarray, lifts: np.ndarray) -> np.ndarray:
    """The pen's path length to each point of `xy` [n, 2], the pen-up moves after the points `lifts`
    (a mask or indices) counted as 1e-6: strictly increasing, so a piece's ends interpolate to its
    own first and last points."""
    steps = np.linalg.norm(np.diff(xy, axis=0), axis=1)
    lifted = np.zeros(len(xy), bool)
    lifted[lifts] = True
    steps[lifted[:-1]] = 1e-6
    return np.concatenate([[0.0], np.cumsum(np.maximum(steps, 1e-6))])


@functools.cache
def _glyph_paths() -> list[tuple[list[np.ndarray], str]]:
    """(strokes, character) of every printable glyph of both fonts at each of TEMPLATE_SLANTS: each
    stroke's vertices slanted, y growing upwards (Hershey's grows downwards)."""
    paths = []
    for name in FONTS:
        for character in GLYPHS:
            glyph = next(iter(_font(name).glyphs_for_text(character)), None)
            if glyph is None or not list(glyph.strokes):
                continue
            strokes = [np.array(stroke, np.float64) * [1.0, -1.0] for stroke in glyph.strokes]
            for slant in TEMPLATE_SLANTS:
                slanted = [np.column_stack([s[:, 0] + slant * s[:, 1], s[:, 1]]) for s in strokes]
                paths.append((slanted, character))
    return paths


@functools.cache
def _templates() -> tuple[list[str], np.ndarray, np.ndarray]:
    """(each template's character, every template's points one after another, where each starts)."""
    labels, shapes = [], []
    for strokes, character in _glyph_paths():
        labels.append(character)
        shapes.append(_unit_size(np.concatenate([np.array(_resampled(stroke, 1.0)) for stroke in strokes])))
    return labels, np.concatenate(shapes), np.cumsum([0] + [len(shape) for shape in shapes[:-1]])


def _unit_size(xy: np.ndarray) -> np.ndarray:
    return _unit_size_each(xy[None])[0]


def _unit_size_each(xy: np.ndarray) -> np.ndarray:
    """Shapes [..., points, 2] centred, each scaled to a root mean square radius of 1."""
    xy = xy - xy.mean(axis=-2, keepdims=True)
    return xy / np.maximum(np.sqrt((xy**2).sum(axis=-1).mean(axis=-1)), 1e-9)[..., None, None]


def _smooth_noise(rng: np.random.Generator, n: int, width: int = 7) -> np.ndarray:
    """[n, 2] noise of about unit size, smooth over `width` points (a moving average of Gaussians)."""
    raw = rng.normal(size=(n + width - 1, 2))
    kernel = np.ones(width) / np.sqrt(width)
    return np.column_stack([np.convolve(raw[:, k], kernel, mode="valid") for k in range(2)])


def synthetic_lines(
    lines: int, writers: int, seed: int, words_per_line: tuple[int, int] = (2, 4)
) -> list[Line]:
    """`lines` lines by `writers` seeded writers (line i by writer i % writers), the words drawn
    from gensim's news articles (lowercased, letters only)."""
    rng = np.random.default_rng(seed)
    vocabulary = _words()
    styles = [Style.seeded(rng) for _ in range(writers)]
    written = []
    for i in range(lines):
        text = " ".join(rng.choice(vocabulary, size=rng.integers(words_per_line[0], words_per_line[1] + 1)))
        written.append(write_synthetic(text, styles[i % writers], rng, writer=f"synthetic-{i % writers}"))
    return written


@functools.cache
def _words() -> list[str]:
    """Distinct words of 2 to 9 letters from gensim's news articles."""
    text = news_corpus().read_bytes().decode("utf-8", errors="replace").lower()
    return sorted({w for w in re.findall(r"[a-z]+", text) if 2 <= len(w) <= 9})


def read_iam(data: str | Path) -> list[Line]:
    """IAM-OnDB line stroke files (`.xml`): a file, a glob or a folder (searched recursively)."""
    return [read_iam_line(path) for path in data_files(data, (".xml",), "IAM-OnDB stroke XML")]


def read_iam_line(path: Path) -> Line:
    """One IAM-OnDB `lineStrokes` file: its strokes' points (y flipped to grow upwards) as offsets,
    and its text. UserError naming the file for anything else."""
    problem = irregularity(path, XML_MAX_BYTES)
    if problem is not None:
        raise UserError(f"stroke file '{path}' {problem}")
    raw = path.read_bytes()
    if b"<!ENTITY" in raw or b"<!DOCTYPE" in raw:
        raise UserError(f"stroke file '{path}' declares a DOCTYPE or entities; IAM-OnDB files have none")
    try:
        root = ElementTree.fromstring(raw)
    except ElementTree.ParseError as err:
        raise UserError(f"stroke file '{path}' is not well-formed XML ({err})") from None
    strokes = []
    for stroke in root.iter("Stroke"):
        try:
            xy = [(float(point.attrib["x"]), -float(point.attrib["y"])) for point in stroke.iter("Point")]
        except (KeyError, ValueError) as err:
            raise UserError(f"stroke file '{path}' has a Point without a numeric x and y ({err})") from None
        if xy:
            strokes.append(np.array(xy, np.float64))
    if not strokes:
        raise UserError(f"stroke file '{path}' has no StrokeSet/Stroke/Point")
    xy = np.concatenate(strokes)
    if not np.isfinite(xy).all():
        raise UserError(f"stroke file '{path}' has a point that is not a finite number")
    if len(xy) < MIN_POINTS:
        raise UserError(f"stroke file '{path}' has a single point; a line needs at least {MIN_POINTS}")
    ends = np.zeros(len(xy))
    ends[np.cumsum([len(s) for s in strokes]) - 1] = 1
    offsets = np.diff(xy, axis=0, prepend=xy[:1])
    text = _iam_text(root, path)
    form = root.find(".//Form")
    writer = form.attrib.get("writerID", "") if form is not None else path.parent.name
    return Line(
        text, np.column_stack([offsets, ends]).astype(np.float32), np.full(len(xy), -1, np.int32), writer
    )


def _iam_text(root, path: Path) -> str:
    line = root.find(".//TextLine")
    if line is not None and line.attrib.get("text", "").strip():
        return line.attrib["text"].strip()
    beside = path.with_suffix(".txt")
    if irregularity(beside, 1 << 20) is None:
        text = next(
            (t.strip() for t in beside.read_text("utf-8", errors="replace").splitlines() if t.strip()), ""
        )
        if text:
            return text
    raise UserError(
        f"stroke file '{path}' has no transcription: no TextLine text attribute, and no "
        f"'{beside.name}' beside it"
    )


SYNTHETIC_LINES, SYNTHETIC_WRITERS, SYNTHETIC_SEED = 3000, 60, 2013
SYNTHETIC_VERSION = 1  # bump when the writers change: the cache is keyed by it
START = np.array([0.0, 0.0, 1.0], np.float32)  # what the networks read before a line's first point


def synthetic_corpus() -> Path:
    """The default data: SYNTHETIC_LINES lines by SYNTHETIC_WRITERS writers (`synthetic_lines`),
    written once to the cache as one `.npz` (no pickle), then read from there."""
    path = cache_dir("data") / (
        f"handwriting-synthetic-{SYNTHETIC_LINES}x{SYNTHETIC_WRITERS}-"
        f"seed{SYNTHETIC_SEED}-v{SYNTHETIC_VERSION}.npz"
    )
    if path.is_file():
        return path
    lines = synthetic_lines(SYNTHETIC_LINES, SYNTHETIC_WRITERS, SYNTHETIC_SEED)
    buffer = io.BytesIO()
    np.savez(
        buffer,
        points=np.concatenate([line.points for line in lines]),
        chars=np.concatenate([line.chars for line in lines]),
        lengths=np.array([len(line.points) for line in lines], np.int64),
        texts=np.array([line.text for line in lines]),
        writers=np.array([line.writer for line in lines]),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(path, buffer.getvalue())
    return path


def read_lines(data: str | Path) -> list[Line]:
    """Written lines from `data`: a `.npz` as `synthetic_corpus` writes it, else IAM-OnDB stroke XML."""
    path = Path(data)
    if path.suffix == ".npz" and not path.is_dir():
        return _read_npz(path)
    return read_iam(path)


def _read_npz(path: Path) -> list[Line]:
    problem = irregularity(path, 1 << 30)
    if problem is not None:
        raise UserError(f"handwriting data '{path}' {problem}")
    try:
        with np.load(path, allow_pickle=False) as arrays:
            points, chars, lengths = arrays["points"], arrays["chars"], arrays["lengths"]
            texts, writers = arrays["texts"].tolist(), arrays["writers"].tolist()
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as err:
        reason = str(err).split(". ")[0]  # NumPy's pickle message goes on about loading it unsafely
        raise UserError(f"handwriting data '{path}' is not a seqzoo handwriting .npz ({reason})") from None
    if lengths.sum() != len(points) or len(points) != len(chars) or not np.isfinite(points).all():
        raise UserError(f"handwriting data '{path}' is damaged: its arrays do not agree")
    starts = np.concatenate([[0], np.cumsum(lengths)])
    return [
        Line(text, points[a:b], chars[a:b], writer)
        for text, writer, a, b in zip(texts, writers, starts[:-1], starts[1:], strict=True)
    ]


@dataclass
class Alphabet:
    """The characters a model writes: id i + 1 for character i (0 is padding)."""

    characters: str

    @classmethod
    def of(cls, texts: list[str]) -> Alphabet:
        return cls("".join(sorted(set("".join(texts)))))

    @property
    def size(self) -> int:
        return len(self.characters) + 1

    def unknown(self, text: str) -> str:
        """The characters of `text` outside the alphabet, each once, in order."""
        return "".join(dict.fromkeys(c for c in text if c not in self.characters))

    def ids(self, text: str) -> np.ndarray:
        index = {c: i + 1 for i, c in enumerate(self.characters)}
        return np.array([index[c] for c in text if c in index], np.int32)


def offset_scale(lines: list[Line]) -> list[float]:
    """The standard deviation of dx and of dy over the lines' points (their first left out): the
    networks read and write offsets divided by it (Graves normalises so)."""
    offsets = np.concatenate([line.points[1:, :2] for line in lines]).astype(np.float64)
    return [float(max(s, 1e-6)) for s in offsets.std(axis=0)]


def line_examples(
    lines: list[Line], alphabet: Alphabet, scale: list[float], synthesis: bool
) -> tf.data.Dataset:
    """Per line: (inputs, next points [n, 3], mask [n]): inputs are the points before each ([START] and
    all but the last, normalised) and, for `synthesis`, the text's character ids."""

    def rows():
        for line in lines:
            points = line.points / np.array([*scale, 1.0], np.float32)
            before = np.concatenate([START[None], points[:-1]])
            inputs = (before, alphabet.ids(line.text)) if synthesis else before
            yield inputs, points, np.ones(len(points), np.float32)

    point_spec = tf.TensorSpec([None, 3], tf.float32)
    inputs_spec = (point_spec, tf.TensorSpec([None], tf.int32)) if synthesis else point_spec
    return tf.data.Dataset.from_generator(
        rows,
        output_signature=(inputs_spec, point_spec, tf.TensorSpec([None], tf.float32)),
    ).apply(tf.data.experimental.assert_cardinality(len(lines)))
