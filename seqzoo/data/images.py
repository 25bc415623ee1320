"""Encoded image bytes -> float pixels, in the graph: what training and every served captioner read.

`decode_images` never fails a batch for one bad image: each image is decoded on its own inside
a tf.data pipeline that drops the ones whose decode raises (not an image, truncated, too large),
and the batch comes back whole with an `ok` flag per image. Grayscale, RGBA, palette and 16-bit
images become 8-bit RGB; every image is resized to `size` x `size`.
"""

from __future__ import annotations

from pathlib import Path

import tensorflow as tf

from seqzoo.errors import UserError
from seqzoo.files import regular_file

MAX_PIXELS = 40_000_000  # decoded pixels (every frame of an animation) past this are refused, not decoded
MAX_FILE_BYTES = 256 << 20  # an image file larger than this is not read
# Magic numbers of the formats tf.io.decode_image reads; anything else is not decoded at all.
SIGNATURES = {"png": b"\x89PNG\r\n\x1a\n", "jpeg": b"\xff\xd8\xff", "gif": b"GIF8", "bmp": b"BM"}
PNG_END = b"IEND\xaeB`\x82"  # the last chunk of every whole PNG file
JPEG_END = b"\xff\xd9"
GIF_FRAME = b"!\xf9\x04"  # a GIF's graphic control extension: one before each frame of an animation
# Entropy-coded bytes (no 0xFF, so no marker) put before a JPEG's end marker to see whether the
# decoder reads them: a whole scan never does, a scan cut short does (see `_whole_jpeg`).
JPEG_PROBE = bytes((i * 97 + 13) % 255 for i in range(256))


def decode_image(data: tf.Tensor, size: int) -> tf.Tensor:
    """One encoded image (a scalar tf.string) -> float32 [size, size, 3] in [0, 255].

    Raises InvalidArgumentError for bytes that are not a whole image of a known format, or
    one with more than MAX_PIXELS pixels (checked from the header, before decoding)."""
    checks = [tf.debugging.assert_equal(_known_and_whole(data), True,
                                        message="not a whole PNG, JPEG, GIF or BMP image")]
    with tf.control_dependencies(checks):
        height, width = _header_size(data)
    pixels = tf.cast(height, tf.int64) * tf.cast(width, tf.int64) * _frames(data)
    with tf.control_dependencies([tf.debugging.assert_less_equal(
            pixels, tf.constant(MAX_PIXELS, tf.int64), message=f"image larger than {MAX_PIXELS} pixels")]):
        image = tf.io.decode_image(tf.identity(data), channels=3, expand_animations=False)
    image = tf.cond(_starts(data, SIGNATURES["jpeg"]), lambda: _whole_jpeg(data, image), lambda: image)
    image = tf.image.resize(tf.cast(image, tf.float32), [size, size], antialias=True)
    return tf.clip_by_value(tf.ensure_shape(image, [size, size, 3]), 0.0, 255.0)


def decode_images(data: tf.Tensor, size: int) -> tuple[tf.Tensor, tf.Tensor]:
    """Encoded images tf.string [batch] -> (float32 [batch, size, size, 3] in [0, 255], ok bool [batch]).

    An image that cannot be decoded gets zeros and ok = False; the others are unaffected."""
    count = tf.shape(data, out_type=tf.int64)[0]
    decoded = (tf.data.Dataset.from_tensor_slices((tf.range(count), data))
               .map(lambda i, x: (i, decode_image(x, size)))
               .ignore_errors())
    # One element more, at index `count`, so the single batch is never empty; cut off below.
    # (get_single_element of one batch: Dataset.reduce costs 0.1 s a call, this 5 ms.)
    sentinel = tf.data.Dataset.from_tensors((count, tf.zeros([size, size, 3])))
    indices, images = decoded.concatenate(sentinel).batch(tf.int64.max).get_single_element()
    ok = tf.scatter_nd(indices[:, None], tf.ones_like(indices, tf.bool), [count + 1])[:count]
    return tf.scatter_nd(indices[:, None], images, [count + 1, size, size, 3])[:count], ok


def read_image_file(path: str | Path) -> bytes:
    """An image file's bytes, as a client sends them: a regular file (never a pipe or a device) of at
    most MAX_FILE_BYTES; UserError naming it otherwise. Whether it decodes is `decode_images`' to say."""
    path = regular_file(path, "image", MAX_FILE_BYTES)
    try:
        return path.read_bytes()
    except OSError as err:
        raise UserError(f"cannot read image '{path}': {err.strerror or err}") from None


def file_problem(path: str) -> str | None:
    """Why an image file cannot be decoded, from its first and last bytes (the checks
    `decode_image` makes first), or None."""
    try:
        with open(path, "rb") as file:
            head = file.read(8)
            file.seek(max(file.seek(0, 2) - 8, 0))
            tail = file.read(8)
    except OSError as err:
        return f"cannot read it: {err.strerror}"
    kind = next((name for name, magic in SIGNATURES.items() if head.startswith(magic)), None)
    if kind is None:
        return "not a PNG, JPEG, GIF or BMP image" if head else "empty"
    end = {"png": PNG_END, "jpeg": JPEG_END}.get(kind)
    if end is not None and not tail.endswith(end):
        return f"a cut {kind.upper()} file (no end marker)"
    return None


def _starts(data: tf.Tensor, prefix: bytes) -> tf.Tensor:
    return tf.equal(tf.strings.substr(data, 0, len(prefix)), prefix)


def _ends(data: tf.Tensor, suffix: bytes) -> tf.Tensor:
    start = tf.maximum(tf.strings.length(data) - len(suffix), 0)
    return tf.equal(tf.strings.substr(data, start, len(suffix)), suffix)


def _known_and_whole(data: tf.Tensor) -> tf.Tensor:
    """A known format, and for PNG and JPEG (whose decoders raise or fill in on a cut file)
    the end marker in place: a truncated upload is refused, not half decoded."""
    png, jpeg = _starts(data, SIGNATURES["png"]), _starts(data, SIGNATURES["jpeg"])
    other = _starts(data, SIGNATURES["gif"]) | _starts(data, SIGNATURES["bmp"])
    return (png & _ends(data, PNG_END)) | (jpeg & _ends(data, JPEG_END)) | other


def _whole_jpeg(data: tf.Tensor, image: tf.Tensor) -> tf.Tensor:
    """`image`, decoded from JPEG `data`, once it is known that no scan was cut short.

    A JPEG cut mid-scan with its end marker put back (FF D9) decodes without an error: libjpeg
    only warns, and fills the missing blocks with gray. The probe: decode again with JPEG_PROBE
    inserted before the end marker. A whole scan ends at its last block and the bytes after it
    are skipped, so the pixels are the same; a cut scan reads them as its missing blocks, so they
    differ. (A progressive file cut exactly between two scans passes: it is a whole image at a
    lower quality, as progressive JPEG means it to be.)"""
    probed = tf.strings.join([tf.strings.substr(data, 0, tf.strings.length(data) - len(JPEG_END)),
                              JPEG_PROBE, JPEG_END])
    same = tf.reduce_all(tf.equal(tf.io.decode_jpeg(probed, channels=3), image))
    with tf.control_dependencies([tf.debugging.assert_equal(same, True,
                                                            message="a cut JPEG file (a scan ends early)")]):
        return tf.identity(image)


def _frames(data: tf.Tensor) -> tf.Tensor:
    """How many frames the decoder will decode: an animated GIF's every frame, not its first alone
    (160 frames of 4000 x 4000 in a 2.2 MB file took a served captioner to 3.4 GB). Counted by their
    graphic control extensions (`! F9 04`), which every animation frame carries; 1 for the rest."""
    extensions = tf.cast(tf.size(tf.strings.split(data, sep=GIF_FRAME)), tf.int64) - 1
    return tf.where(_starts(data, SIGNATURES["gif"]), tf.maximum(extensions, 1), tf.constant(1, tf.int64))


def _header_size(data: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """(height, width) read from the header, without decoding: PNG's IHDR, JPEG's frame header
    (tf.io.extract_jpeg_shape), GIF's and BMP's little-endian fields."""
    def number(offset, length, little_endian):
        raw = tf.io.decode_raw(tf.strings.substr(data, offset, length), tf.uint8)
        raw = tf.cast(raw, tf.int64)
        if little_endian:
            raw = tf.reverse(raw, [0])
        return tf.reduce_sum(raw * (256 ** tf.range(length - 1, -1, -1, dtype=tf.int64)))

    def png():
        return number(20, 4, False), number(16, 4, False)

    def jpeg():
        shape = tf.io.extract_jpeg_shape(data, output_type=tf.int32)
        return tf.cast(shape[0], tf.int64), tf.cast(shape[1], tf.int64)

    def gif():
        return number(8, 2, True), number(6, 2, True)

    def bmp():  # height may be negative (top-down rows): the magnitude is what counts
        height = number(22, 4, True)
        return tf.where(height >= 2**31, 2**32 - height, height), number(18, 4, True)

    return tf.case([(_starts(data, SIGNATURES["png"]), png), (_starts(data, SIGNATURES["jpeg"]), jpeg),
                    (_starts(data, SIGNATURES["gif"]), gif)], default=bmp, exclusive=True)
