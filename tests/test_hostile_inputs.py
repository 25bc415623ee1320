"""Hostile inputs, generated (hypothesis): whatever a user or a damaged disk hands seqzoo, the
outcome is a correct result or one clear ValueError, never another exception or silent garbage.

Surfaces: every vectorizer (random bytes and Unicode), config overrides (random keys and
values), vector files and cache entries (random corruption), the labelled-text, parallel-text
and column readers (random content), exported version folders (random damage).
"""

import functools
import shutil

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

import seqzoo
from seqzoo import embeddings
from seqzoo.config import _paths
from seqzoo.data import read_labelled
from seqzoo.data.tagging import read_conll
from seqzoo.data.translation import read_pairs
from seqzoo.embeddings import cache
from seqzoo.exporters import latest_version
from seqzoo.text import TOKENIZERS, Vectorizer

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
TEXTS = st.one_of(st.text(max_size=40), st.binary(max_size=40))


def one_line_value_error(error: BaseException) -> None:
    """The only failure allowed: a ValueError (seqzoo's UserError is one) with a one-line message."""
    assert isinstance(error, ValueError), f"{type(error).__name__}: {error}"
    assert str(error).strip() and "\n" not in str(error).strip(), repr(str(error))


@functools.cache
def adapted(tokenizer: str) -> Vectorizer:
    return Vectorizer(tokenizer=tokenizer, max_tokens=60, max_length=12).adapt(
        ["a gorgeous film", "dull and tedious", "café au lait", "東京 tower", "naïve ✓ résumé"])


@pytest.mark.parametrize("tokenizer", TOKENIZERS)
@SETTINGS
@given(texts=st.lists(TEXTS, min_size=1, max_size=6))
def test_any_bytes_or_unicode_become_ids_in_range_with_a_step_each(tokenizer, texts):
    vectorizer = adapted(tokenizer)
    ids = vectorizer(texts).numpy()
    assert ids.shape[0] == len(texts) and 1 <= ids.shape[1] <= vectorizer.max_length
    assert ids.min() >= 0 and ids.max() < vectorizer.vocabulary_size()
    assert (ids[:, 0] > 0).all()  # every text has at least one real step (an empty one: OOV)


# -- config overrides ---------------------------------------------------------------------------

VALUES = st.one_of(
    st.integers(-3, 300), st.sampled_from([0, 1, 2, 2**31, 2**40]), st.booleans(), st.none(),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.0, 0.5, 0.999, 1.0, 1.5, -0.1]),
    st.text(max_size=8), st.sampled_from(["lstm", "gru", "relu", "mean", "max", "last", "causal", "same"]),
    st.lists(st.integers(-2, 8), max_size=4), st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)


@st.composite
def overrides(draw):
    name = draw(st.sampled_from(seqzoo.list_models()))
    paths = _paths(seqzoo.get_config(name))
    keys = st.one_of(st.sampled_from(paths), st.sampled_from([p.rsplit(".", 1)[-1] for p in paths]),
                     st.text(min_size=1, max_size=10))
    return name, draw(st.dictionaries(keys, VALUES, min_size=1, max_size=3))


@settings(max_examples=60, deadline=None)
@given(case=overrides())
@example(case=("bilstm", {"name": None}))  # once a TypeError: build's own first argument
def test_random_config_overrides_build_or_raise_one_value_error(case):
    name, values = case
    try:
        model = seqzoo.build(name, preset="tiny", **values)
    except Exception as error:  # noqa: BLE001  (the assertion below is the point)
        one_line_value_error(error)
        return
    assert isinstance(model, keras.Model)
    keras.backend.clear_session()


# -- vector files and cache entries --------------------------------------------------------------

WORDS = ["the", "of", "and", "film", "dull"]
VECTORS = np.arange(len(WORDS) * 4, dtype=np.float32).reshape(len(WORDS), 4) / 7


def vector_file(format):
    if format == "word2vec_bin":
        rows = b"".join(w.encode() + b" " + v.astype("<f4").tobytes() + b"\n"
                        for w, v in zip(WORDS, VECTORS, strict=True))
        return f"{len(WORDS)} 4\n".encode() + rows
    header = f"{len(WORDS)} 4\n" if format == "word2vec_text" else ""
    return (header + "".join(f"{w} {' '.join(f'{x:.6f}' for x in v)}\n"
                             for w, v in zip(WORDS, VECTORS, strict=True))).encode()


@st.composite
def corruptions(draw, size):
    """(kind, position, bytes) applied to a file of `size` bytes."""
    kind = draw(st.sampled_from(["truncate", "flip", "insert", "delete"]))
    return kind, draw(st.integers(0, max(size - 1, 0))), draw(st.binary(min_size=1, max_size=6))


def corrupt(data: bytes, change) -> bytes:
    kind, at, junk = change
    if kind == "truncate":
        return data[:at]
    if kind == "flip":
        return data[:at] + bytes(b ^ j for b, j in zip(data[at:at + len(junk)], junk, strict=False)) + \
            data[at + len(junk):]
    if kind == "insert":
        return data[:at] + junk + data[at:]
    return data[:at] + data[at + len(junk):]


@pytest.mark.parametrize("format", ["glove", "word2vec_text", "word2vec_bin"])
@SETTINGS
@given(data=st.data())
def test_a_corrupted_vector_file_loads_finite_vectors_or_raises_one_line(tmp_path, format, data):
    original = vector_file(format)
    path = tmp_path / "vectors.bin"
    path.write_bytes(corrupt(original, data.draw(corruptions(len(original)))))
    try:
        kv = embeddings.load(path, format, cache_enabled=False)
    except Exception as error:  # noqa: BLE001
        one_line_value_error(error)
        return
    assert np.isfinite(kv.vectors).all() and kv.vectors.ndim == 2
    assert len(kv.index_to_key) == len(kv.vectors) == len(set(kv.index_to_key))


@SETTINGS
@given(target=st.sampled_from(["vectors.npy", "words.json", "meta.json"]), data=st.data())
def test_a_corrupted_cache_entry_gives_the_right_vectors(tmp_path, target, data):
    path = tmp_path / "v.txt"
    path.write_bytes(vector_file("glove"))
    embeddings.load(path)  # cached
    options = {"format": "glove", "on_error": "raise", "wanted": None}
    entry = cache.cache_root() / cache.cache_key(path, options)
    original = (entry / target).read_bytes()
    (entry / target).write_bytes(corrupt(original, data.draw(corruptions(len(original)))))
    kv = embeddings.load(path)
    assert kv.index_to_key == WORDS
    np.testing.assert_allclose(kv.vectors, VECTORS, atol=1e-6)
    shutil.rmtree(entry, ignore_errors=True)


# -- readers of users' files ---------------------------------------------------------------------

READERS = {
    "a.csv": read_labelled, "a.tsv": read_labelled, "a.txt": read_labelled,
    "pairs.tsv": read_pairs, "tags.conll": read_conll,
}
VALID = {
    "a.csv": b'text,label\n"a gorgeous, moving film",pos\ndull,neg\n',
    "a.tsv": b"text\tlabel\na gorgeous film\tpos\ndull\tneg\n",
    "a.txt": b"__label__pos a gorgeous film\n__label__neg dull\n",
    "pairs.tsv": b"3 March 2021\t2021-03-03\nle 4 mai 1999\t1999-05-04\n",
    "tags.conll": b"the\tO\nminister\tCAP\n\nsaid\tO\n",
}


@pytest.mark.parametrize("name", sorted(READERS))
@SETTINGS
@given(data=st.data())
def test_a_damaged_or_random_data_file_reads_or_raises_one_line(tmp_path, name, data):
    content = data.draw(st.one_of(st.binary(max_size=80),
                                  corruptions(len(VALID[name])).map(lambda c: corrupt(VALID[name], c))))
    path = tmp_path / name
    path.write_bytes(content)
    try:
        result = READERS[name](path)
    except Exception as error:  # noqa: BLE001
        one_line_value_error(error)
        return
    assert len(result) >= 1


# -- exported versions ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def two_versions(sentiment_run, tmp_path_factory):
    base = tmp_path_factory.mktemp("versions")
    seqzoo.export_run(sentiment_run, base=base)
    seqzoo.export_run(sentiment_run, base=base)
    return base / "sentiment"


@SETTINGS
@given(data=st.data())
def test_a_damaged_newest_version_is_never_the_one_used(two_versions, tmp_path, data):
    model_dir = tmp_path / "sentiment"
    shutil.rmtree(model_dir, ignore_errors=True)
    shutil.copytree(two_versions, model_dir)
    files = sorted(p for p in (model_dir / "2").rglob("*") if p.is_file())
    target = data.draw(st.sampled_from(files))
    original = target.read_bytes()
    changed = corruptions(len(original)).map(lambda change: corrupt(original, change))
    damaged = data.draw(st.one_of(st.just(None), changed))
    assume(damaged != original)
    if target.name == "seqzoo.json" and damaged is not None:
        assume(not same_json(original, damaged))  # respaced, the card says the same: still whole
    if damaged is None:
        target.unlink()
    else:
        target.write_bytes(damaged)
    with pytest.warns(seqzoo.errors.SeqzooNote, match="is damaged"):
        assert latest_version(model_dir) == model_dir / "1"


def same_json(a: bytes, b: bytes) -> bool:
    import json

    try:
        return json.loads(a) == json.loads(b)
    except ValueError:
        return False


# === Images to the captioners' decoder ===

def _image_bytes(fmt: str) -> bytes:
    import io

    from PIL import Image

    pixels = (np.arange(12 * 12 * 3) % 251).astype(np.uint8).reshape(12, 12, 3)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, fmt)
    return buffer.getvalue()


@settings(SETTINGS, max_examples=16)  # each example decodes in a fresh tf.data pipeline: a second each
@given(fmt=st.sampled_from(["PNG", "JPEG", "GIF", "BMP"]), data=st.data())
def test_a_damaged_image_is_flagged_or_decoded_and_never_fails_its_batch(fmt, data):
    # Flipped bytes anywhere (past the header checks too), cuts, inserted bytes: the damaged
    # image decodes or is flagged; the whole one beside it is decoded as if it were alone.
    import tensorflow as tf

    from seqzoo.data.images import decode_images

    whole = _image_bytes(fmt)
    damaged = bytearray(whole)
    for _ in range(data.draw(st.integers(1, 4))):
        kind = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        at = data.draw(st.integers(0, max(len(damaged) - 1, 0)))
        if kind == "flip" and damaged:
            damaged[at] ^= data.draw(st.integers(1, 255))
        elif kind == "cut":
            del damaged[at:]
        else:
            damaged[at:at] = data.draw(st.binary(min_size=1, max_size=8))
    images, ok = decode_images(tf.constant([whole, bytes(damaged)]), 8)
    alone, _ = decode_images(tf.constant([whole]), 8)
    assert bool(ok[0])
    np.testing.assert_array_equal(images[0].numpy(), alone[0].numpy())
    assert np.isfinite(images.numpy()).all()
    if not ok[1]:
        assert not images[1].numpy().any()
