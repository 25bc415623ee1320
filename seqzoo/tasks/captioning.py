"""Captioning: encoded images -> captions with a CNN encoder and an RNN decoder (show_tell,
show_attend_tell).

The caption vocabulary starts with [START] (id 2) and [END] (id 3), as a translation target's.
Training is teacher forcing on every (image, reference) pair: ((image, [START] w_1 ... w_n),
w_1 ... w_n [END]). Images are read from disk, decoded and resized in tf.data.

SavedModel signatures (decoding, resizing, search and detokenization all in the graph):
  serving_default          image (encoded bytes [batch]) -> caption, score, token_ids, valid
                           (beam search at the config's width; a bad image gets valid = False
                           and '' and never fails the batch)
  caption                  image, beam_width (1: greedy) -> the same outputs
  caption_with_attention   + attention [batch, steps, rows, columns], tokens (show_attend_tell)
  encode / decode_step     for a client that drives the loop itself
The `.tflite` file: `caption` (float image [1, size, size, 3] in [0, 255], beam_width), `encode`
and `decode_step`, builtin ops only.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from seqzoo.data.batching import batches
from seqzoo.data.captions import (
    CaptionedImages,
    SkippedImages,
    caption_split,
    digit_scenes,
    gathered,
    no_readable_image,
    read_captions,
)
from seqzoo.data.images import decode_images, read_image_file
from seqzoo.decoding.translator import Translator
from seqzoo.errors import SeqzooNote
from seqzoo.layers.image_encoder import ImageEncoder
from seqzoo.schema import MAX_BEAM_WIDTH
from seqzoo.tasks.base import Prepared, ReadOptions, Serving, streamed_prepared
from seqzoo.tasks.encoder_decoder import (
    BEAM_WIDTH,
    END_ID,
    START_ID,
    EncoderDecoderTask,
    checked_beam_width,
    detokenize,
    loop_card,
    target_vectorizer,
    teacher_forced,
)
from seqzoo.text import Vectorizer, string_tensor

IMAGE = [tf.TensorSpec([None], tf.string, name="image")]
HELDOUT_FOR_PARITY = 16
HELDOUT_FOR_METRICS = 2048  # held-out captions whose images the caption figures (BLEU, exact match) read
# Bytes every export must survive: nothing, not an image, a cut PNG.
EDGE_CASES = [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00"]


@dataclass
class HeldoutImages:
    """What the captioning figures read: the images with all their references (and boxes), and
    their (image, reference) batches for the loss."""

    images: CaptionedImages
    batches: tf.data.Dataset


class CaptioningTask(EncoderDecoderTask):
    """Captioned images: a digit-scenes folder, or a caption file (COCO JSON, Flickr8k tokens,
    image_path<TAB>caption) with the image folder (`images=`)."""

    name = "captioning"
    verb = "caption"
    web_page = "captioning"
    attention_outputs = ("attention", "tokens")
    serving = Serving(input="image", binary_inputs=("image",))
    read_options = ("images",)

    def request_values(self, name: str, items: list[str], meta: dict) -> list[bytes]:
        """Image files, read as the bytes a client sends."""
        return [read_image_file(item) for item in items]

    def default_data(self) -> Path:
        return digit_scenes()

    def prepare(self, config: dict, data: Path, options: ReadOptions) -> Prepared:
        """Streams the (image, caption) pairs (`seqzoo.data.captions.caption_split`): memory does not
        grow with the caption file, and images are read as batches are made. One checking pass
        counts the captions, skips (with a note) those whose images are missing or not whole, keeps
        a vocabulary sample if asked for, and the first held-out captions, whose images the
        caption figures (BLEU, exact match) read."""
        settings = config["train"]
        fraction, seed = settings["validation_fraction"], settings["seed"]
        skipped = SkippedImages()
        scanning, root = caption_split(Path(data), options.images, fraction, seed, skipped)
        scan = scanning.scan(HELDOUT_FOR_METRICS, settings["vocabulary_sample"])
        if not sum(scan.examples):
            raise no_readable_image(Path(data), root, skipped)
        skipped.note(Path(data))
        split, _ = caption_split(Path(data), options.images, fraction, seed)
        split.check_sizes(scan, data, "captions")
        prefix = tf.constant(f"{root}{os.sep}")

        def adapt(captions):
            vectorizer = target_vectorizer(config["text"], captions)
            config["text"]["max_tokens"] = vectorizer.vocabulary_size()
            _note_long_captions(captions, vectorizer)
            return vectorizer

        prepared = streamed_prepared(
            split, scan, lambda names, captions: (captions, prefix + names), settings, adapt,
            functools.partial(caption_batches, size=config["model"]["image_size"]),
            lambda vectorizer: captioning_meta(config, vectorizer), text_at=1)
        heldout = gathered(scan.heldout, root)
        return dataclasses.replace(prepared, heldout_texts=heldout.paths[:HELDOUT_FOR_PARITY],
                                   heldout=HeldoutImages(heldout, prepared.validation))

    def evaluation_dataset(self, config, vectorizer, meta, data) -> HeldoutImages:
        images = read_split(Path(data), None)
        return HeldoutImages(images, caption_dataset(images, vectorizer, meta["image_size"],
                                                     config["train"]["batch_size"]))

    def metrics(self, model, dataset, meta) -> dict[str, float]:
        """Loss and word accuracy (teacher forcing); BLEU-1..4, exact match (against any
        reference) and, where boxes are known, exact match by objects and grounding, of the
        captions the served search writes (the config's beam width)."""
        if not isinstance(dataset, HeldoutImages):
            return super().metrics(model, dataset, meta)
        figures = super().metrics(model, dataset.batches, meta)
        captions = caption_images(model, meta, dataset.images.paths, meta["beam_width"])
        report = caption_report(dataset.images, captions, Vectorizer.from_config(meta["text"]))
        figures.update({f"val_{k}": v for k, v in report.items()})
        return figures

    def search_function(self, model, vectorizer, meta):
        return caption_function(model, meta)

    def source(self, vectorizer, meta):
        return lambda image: decode_images(image, meta["image_size"])[0]

    def tflite_input(self, meta) -> tf.TensorSpec:
        return tf.TensorSpec([1, meta["image_size"], meta["image_size"], 3], tf.float32, name="image")

    def tflite_sources(self, vectorizer, images, meta) -> list:
        """Each image decoded and resized as the card tells an app to; None (captioned '') for one that
        does not decode."""
        pixels, ok = decode_images(string_tensor(images), meta["image_size"])
        return [image[None] if valid else None
                for image, valid in zip(pixels.numpy(), ok.numpy(), strict=True)]

    def parity_inputs(self, heldout: list) -> list:
        """Held-out images (encoded bytes, or paths of files still on disk) and the bad-bytes edge cases."""
        kept = [item for item in heldout if isinstance(item, bytes) or Path(item).is_file()]
        return [image_data(item) for item in kept] + EDGE_CASES

    def card(self, meta) -> dict:
        size, steps = meta["image_size"], meta["max_steps"]
        caption = {
            "caption": "tf.string [batch]: '' for an image that could not be decoded",
            "token_ids": f"int32 [batch, {steps}]: caption ids, 0 from [END] on",
            "score": "float32 [batch]: log p(caption, [END] | image)",
            "valid": "bool [batch]: the image was decoded (PNG, JPEG, GIF or BMP, whole, at most "
                     "40 million pixels); the others get '' and never fail the batch",
        }
        image = {"image": "tf.string [batch]: encoded PNG / JPEG / GIF / BMP bytes, any size and channels "
                          f"(decoded, made RGB and resized to {size} x {size} in the graph)"}
        signatures = {
            "serving_default": {"inputs": image,
                                "outputs": {**caption, "search": f"beam width {meta['beam_width']}"}},
            "caption": {"inputs": {**image, "beam_width": f"int32, 1 (greedy) to {MAX_BEAM_WIDTH}"},
                        "outputs": caption},
            **loop_card(image, "regions", "decoder states state_<k> float32 [batch, units]", "word",
                        "vocabulary"),
        }
        if meta["attention"] is not None:
            rows, columns = meta["grid"]
            signatures["caption_with_attention"] = {
                "inputs": signatures["caption"]["inputs"],
                "outputs": {**caption, "attention": f"float32 [batch, {steps}, {rows}, {columns}]: each "
                            "word's weights over the image's regions (row-major, over the resized image)",
                            "tokens": f"tf.string [batch, {steps}]"}}
        return {
            "saved_model": signatures,
            "tflite": {
                "signatures": "caption, encode, decode_step",
                "inputs": {"image": f"float32 [1, {size}, {size}, 3]: RGB in [0, 255], resized to "
                           f"{size} x {size} by the app", "beam_width": "int32 (caption)"},
                "outputs": {"token_ids": f"int32 [1, {steps}]: indexes vocabulary.json; 0 from [END] on",
                            "score": "float32 [1]"},
            },
        }


def _note_long_captions(captions: list[str] | tf.data.Dataset, vectorizer: Vectorizer) -> None:
    """A note when training captions are longer than the model may write: they are cut, and
    the model can never produce them whole."""
    batched = captions.batch(4096) if isinstance(captions, tf.data.Dataset) else [captions]
    total = long = longest = 0
    for batch in batched:
        lengths = vectorizer.tokenize(batch).row_lengths().numpy()
        total, long = total + len(lengths), long + int(np.sum(lengths > vectorizer.max_length))
        longest = max(longest, int(lengths.max(initial=0)))
    if long:
        warnings.warn(f"{long} of {total} training captions have more than text.max_length="
                      f"{vectorizer.max_length} words (the longest {longest}) and were cut; "
                      f"--set text.max_length={longest} keeps them whole",
                      SeqzooNote, stacklevel=3)


def captioning_meta(config: dict, vectorizer: Vectorizer) -> dict:
    """What serving needs: the caption vectorizer, the image size, the search settings."""
    model = config["model"]
    encoder = ImageEncoder(model["backbone"], model["image_size"], model["conv_filters"], model["units"])
    return {
        "text": vectorizer.get_config(),
        "image_size": model["image_size"],
        "grid": list(encoder.grid()),
        "max_steps": vectorizer.max_length + 1,  # the words and [END]
        "beam_width": config["decoding"]["beam_width"],
        "length_penalty": config["decoding"]["length_penalty"],
        "attention": model.get("attention"),
    }


def caption_function(model: keras.Model, meta: dict):
    """images (encoded bytes [batch]), beam_width -> caption, token_ids, score, valid, attention
    [batch, steps, rows, columns], tokens: what the serving signatures return."""
    translator = Translator(model, START_ID, END_ID)
    vocabulary = tf.constant(Vectorizer.from_config(meta["text"]).get_vocabulary())
    rows, columns = model.get_layer("encoder").grid()
    size = meta["image_size"]

    def caption(image, beam_width):
        pixels, valid = decode_images(image, size)
        result = translator.search(pixels, beam_width, meta["max_steps"], meta["length_penalty"])
        token_ids = tf.where(valid[:, None], result.token_ids, 0)
        out = {
            "caption": detokenize(vocabulary, token_ids, " "),
            "token_ids": token_ids,
            "score": tf.where(valid, result.scores, 0.0),
            "valid": valid,
            "tokens": tf.gather(vocabulary, token_ids),
        }
        if meta["attention"] is not None:  # show_tell has one image vector, no map
            attention = result.attention * tf.cast(valid, tf.float32)[:, None, None]
            out["attention"] = tf.reshape(attention, [tf.shape(image)[0], meta["max_steps"], rows, columns])
        return out

    return caption


def caption(run, images: list, beam_width: int = 1) -> list[dict]:
    """Captions by a trained run (`seqzoo.load_run`) of encoded images or image files, with the
    attention maps of a show_attend_tell model: rows as `caption_rows` makes them, which
    `seqzoo.plots.plot_caption_attention` draws.

    Example:
    ```python
    run = seqzoo.load_run("runs/show_attend_tell")
    row = seqzoo.caption(run, ["scene.png"], beam_width=3)[0]  # row["caption"]: 'a large 7 at ...'
    ```
    """
    return caption_rows(caption_images(run.model, run.meta, list(images), checked_beam_width(beam_width)))


def caption_rows(outputs: dict[str, np.ndarray]) -> list[dict]:
    """Per image: caption, score, valid, and, where the outputs have them, tokens and attention
    [word, row, column]."""
    rows = []
    for i in range(len(outputs["caption"])):
        row = {"caption": outputs["caption"][i].decode("utf-8", errors="replace"),
               "score": float(outputs["score"][i]), "valid": bool(outputs["valid"][i])}
        if "attention" in outputs:
            words = [t.decode("utf-8", errors="replace") for t in outputs["tokens"][i] if t]
            row.update(tokens=words, attention=outputs["attention"][i, : len(words)].tolist())
        rows.append(row)
    return rows


def image_data(item: bytes | str | Path) -> bytes:
    """An encoded image, given as its bytes or as its file."""
    return item if isinstance(item, bytes) else read_image_file(item)


def caption_images(model: keras.Model, meta: dict, images: list, beam_width: int = 1,
                   batch_size: int = 64) -> dict[str, np.ndarray]:
    """The `caption_function` outputs for encoded images or image files, batch by batch (files
    read as their batch comes), as NumPy arrays."""
    function = tf.function(caption_function(model, meta), autograph=False,
                           input_signature=[IMAGE[0], BEAM_WIDTH])
    parts = []
    for start in range(0, len(images), batch_size):
        data = string_tensor([image_data(item) for item in images[start : start + batch_size]])
        parts.append({k: v.numpy() for k, v in function(data, tf.constant(beam_width)).items()})
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def caption_report(images: CaptionedImages, outputs: dict[str, np.ndarray], vectorizer: Vectorizer) -> dict:
    """BLEU-1..4 (sacrebleu, every reference), exact match against any reference; with boxes,
    exact match by the number of objects and grounding: the share of digit words whose attention
    mass lies mostly (> 0.5) inside the box of the digit they name."""
    import sacrebleu

    hypotheses = [c.decode("utf-8", errors="replace") for c in outputs["caption"]]
    references = [[" ".join(t.decode() for t in row) for row in vectorizer.tokenize(refs).to_list()]
                  for refs in images.captions]
    most = max(len(refs) for refs in references)
    streams = [[refs[i] if i < len(refs) else refs[0] for refs in references] for i in range(most)]
    report = {f"bleu{n}": sacrebleu.BLEU(max_ngram_order=n).corpus_score(hypotheses, streams).score
              for n in range(1, 5)}
    exact = [h in refs for h, refs in zip(hypotheses, references, strict=True)]
    report["exact_match"] = float(np.mean(exact))
    if images.boxes:
        objects = [len(scene) for scene in images.boxes]
        for count in sorted(set(objects)):
            report[f"exact_match[{count}]"] = float(np.mean([e for e, n in zip(exact, objects, strict=True)
                                                             if n == count]))
        if "attention" in outputs:
            report["grounding"] = grounding(images.boxes, outputs["tokens"], outputs["attention"])
    return report


def grounding(boxes: list[list[dict]], tokens: np.ndarray, attention: np.ndarray) -> float:
    """The share of generated digit words (naming a digit the scene holds) whose attention mass
    inside that digit's box exceeds 0.5; each region's weight counts by the share of its cell the
    box covers. A digit the scene holds twice counts its better box."""
    rows, columns = attention.shape[2:]
    top, left = np.arange(rows) / rows, np.arange(columns) / columns
    grounded = []
    for scene, words, weights in zip(boxes, tokens, attention, strict=True):
        for word, step in zip(words, weights, strict=True):
            word = word.decode("utf-8", errors="replace")
            named = [d["box"] for d in scene if str(d["digit"]) == word]
            if not named:
                continue
            masses = []
            for y0, x0, y1, x1 in named:
                cover_y = np.clip(np.minimum(top + 1 / rows, y1) - np.maximum(top, y0), 0, None) * rows
                cover_x = np.clip(np.minimum(left + 1 / columns, x1) - np.maximum(left, x0), 0, None)
                cover_x *= columns
                masses.append(float(np.sum(step * np.outer(cover_y, cover_x))))
            grounded.append(max(masses) > 0.5)
    return float(np.mean(grounded)) if grounded else 0.0


def caption_dataset(images: CaptionedImages, vectorizer: Vectorizer, size: int, batch_size: int,
                    shuffle_seed: int | None = None, epochs: range | None = None) -> tf.data.Dataset:
    """`caption_batches` of every (image, reference) pair of `images`."""
    paths, captions = images.pairs()
    return caption_batches(tf.data.Dataset.from_tensor_slices((tf.constant(captions), tf.constant(paths))),
                           vectorizer, batch_size, shuffle_seed, epochs, size=size)


def caption_batches(examples: tf.data.Dataset, vectorizer: Vectorizer, batch_size: int,
                    shuffle_seed: int | None = None, epochs: range | None = None, buffer: int | None = None,
                    *, size: int) -> tf.data.Dataset:
    """(caption, image path) examples -> ((image [size, size, 3], [START] + caption ids), caption ids
    + [END]), padded per batch; images read from disk and decoded as the batches are made (by
    `decode_images`, as the exports decode), in the order `seqzoo.data.batching.batches` gives. The
    readers have skipped files that are not whole images; one that still fails to decode gets its
    caption masked out of the loss (all padding), so it neither stops training nor teaches anything."""

    @tf.autograph.experimental.do_not_convert  # plain ops; autograph only warned about the closure
    def vectorize(captions, paths):
        pixels, valid = decode_images(tf.map_fn(tf.io.read_file, paths), size)
        caption_in, caption_out = teacher_forced(vectorizer.lookup(captions), vectorizer.max_length)
        kept = tf.cast(valid[:, None], tf.int32)
        return (pixels, caption_in * kept), caption_out * kept

    def batch(examples):
        return examples.batch(batch_size).map(vectorize, num_parallel_calls=tf.data.AUTOTUNE,
                                              deterministic=True)

    return batches(examples, batch, shuffle_seed, epochs, buffer)


def read_split(data: Path, images: str | None) -> CaptionedImages:
    """One caption file (a folder: its test.tsv), in memory, with its images' boxes where known."""
    return read_captions(data / "test.tsv" if data.is_dir() else data, images)
