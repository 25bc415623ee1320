"""Loading vectors: formats, the fast parser vs gensim's own readers, robust parsing, cache."""

import json
import os

import numpy as np
import pytest
from gensim.models import KeyedVectors
from gensim.models.fasttext import load_facebook_vectors
from gensim.test.utils import datapath

from seqzoo import embeddings
from seqzoo.embeddings import cache
from seqzoo.embeddings.text_format import parse_text_vectors


@pytest.mark.parametrize("name, expected", [
    ("test_glove.txt", "glove"),
    ("lee_fasttext.vec", "word2vec_text"),
    ("pang_lee_polarity_fasttext.vec", "word2vec_text"),
    ("euclidean_vectors.bin", "word2vec_bin"),
    ("lee_fasttext.bin", "fasttext_bin"),
])
def test_format_is_detected_from_the_file(name, expected):
    assert embeddings.detect_format(datapath(name)) == expected


@pytest.mark.parametrize("name, gensim_kwargs", [
    ("test_glove.txt", {"no_header": True}),
    ("lee_fasttext.vec", {}),
    # gensim's reader stops on this file's invalid UTF-8 unless told to replace it; ours replaces.
    ("pang_lee_polarity_fasttext.vec", {"unicode_errors": "replace"}),
    ("euclidean_vectors.bin", {"binary": True}),
])
def test_every_row_equals_gensims_own_reader(name, gensim_kwargs):
    ours = embeddings.load(datapath(name), cache_enabled=False)
    theirs = KeyedVectors.load_word2vec_format(datapath(name), **gensim_kwargs)
    assert ours.index_to_key == theirs.index_to_key
    np.testing.assert_array_equal(ours.vectors, theirs.vectors)


def test_fasttext_bin_keeps_subword_vectors_for_unseen_words():
    kv = embeddings.load(datapath("lee_fasttext.bin"))
    reference = load_facebook_vectors(datapath("lee_fasttext.bin"))
    assert "qqzzxxyy" not in kv.key_to_index
    np.testing.assert_allclose(kv["qqzzxxyy"], reference["qqzzxxyy"])


def test_a_vocabulary_keeps_only_its_words_and_their_variants():
    kv = embeddings.load(datapath("test_glove.txt"), vocabulary=["", "[UNK]", "The", "of", "nope"],
                         cache_enabled=False)
    assert sorted(kv.index_to_key) == ["of", "the"]


def write(tmp_path, name, content: bytes):
    path = tmp_path / name
    path.write_bytes(content)
    return path


def test_words_with_spaces_duplicates_bad_bytes_and_blank_lines_are_counted(tmp_path):
    path = write(tmp_path, "odd.txt", b"the 1 2\n. . . 3 4\n\nthe 5 6\ncaf\xe9 7 8\n")
    parsed = parse_text_vectors(path)
    assert parsed.words == ["the", ". . .", "caf\ufffd"]
    np.testing.assert_array_equal(parsed.vectors, [[1, 2], [3, 4], [7, 8]])
    stats = parsed.stats
    assert (stats.duplicates, stats.words_with_spaces, stats.undecodable_words, stats.blank_lines) == (
        1, 1, 1, 1)


def test_duplicates_keep_the_first_row_where_gensim_leaves_a_none_key(tmp_path):
    path = write(tmp_path, "dup.vec", b"3 2\nthe 1 2\nof 3 4\nthe 5 6\n")
    kv = embeddings.load(path, cache_enabled=False)
    assert kv.index_to_key == ["the", "of"]
    np.testing.assert_array_equal(kv["the"], [1, 2])


@pytest.mark.parametrize("content, message", [
    (b"the 1 2\nof 3\n", r"dim.txt:2: expected 2 values after the word, found 1"),
    (b"the 1 2\nof 3 4 5\n", r"dim.txt:2: expected 2 values after the word, found 3"),
    (b"", r"vector file '.*dim.txt' is empty"),
    (b"5 2\nthe 1 2\n", r"is truncated: its header declares 5 words, it holds 1"),
    (b"the 1 2\nof 1 x\n", r"has values that are not numbers \(row of 'of'\)"),
])
def test_malformed_files_name_the_problem(tmp_path, content, message):
    path = write(tmp_path, "dim.txt", content)
    with pytest.raises(ValueError, match=message):
        embeddings.load(path, format="glove" if content else "auto", cache_enabled=False)


def test_rows_of_the_wrong_dimension_can_be_skipped_and_counted(tmp_path):
    path = write(tmp_path, "dim.txt", b"the 1 2\nof 3\nand 4 5\n")
    loaded = embeddings.load_with_details(path, on_error="skip", cache_enabled=False)
    assert loaded.kv.index_to_key == ["the", "and"]
    assert loaded.stats["skipped_rows"] == 1


def test_gensims_pickle_format_loads_only_when_trusted(tmp_path):
    path = tmp_path / "vectors.kv"
    KeyedVectors.load_word2vec_format(datapath("lee_fasttext.vec")).save(str(path))
    with pytest.raises(ValueError, match="a pickle that can run code when loaded"):
        embeddings.load(path)
    assert len(embeddings.load(path, trusted=True)) == 1762


def test_second_load_is_a_memory_mapped_cache_hit(tmp_path):
    path = write(tmp_path, "v.txt", b"the 1 2\nof 3 4\n")
    first = embeddings.load_with_details(path)
    second = embeddings.load_with_details(path)
    assert (first.cache, second.cache) == ("written", "hit")
    assert isinstance(second.kv.vectors, np.memmap)
    np.testing.assert_array_equal(second.kv["of"], [3, 4])
    key = cache.cache_key(path, {"format": "glove", "on_error": "raise", "wanted": None})
    assert sorted(p.name for p in (cache.cache_root() / key).iterdir()) == [
        "meta.json", "vectors.npy", "words.json"]


def test_a_changed_file_is_parsed_again(tmp_path):
    path = write(tmp_path, "v.txt", b"the 1 2\n")
    embeddings.load(path)
    path.write_bytes(b"the 9 9\nof 3 4\n")
    os.utime(path, ns=(1, 1))
    reloaded = embeddings.load_with_details(path)
    assert reloaded.cache == "written" and reloaded.kv.index_to_key == ["the", "of"]


def test_npy_folder_round_trip(tmp_path):
    kv = embeddings.load(datapath("lee_fasttext.vec"))
    embeddings.write_vectors(kv, tmp_path / "lee.npy", "npy")
    assert embeddings.detect_format(tmp_path / "lee.npy") == "npy"
    back = embeddings.load(tmp_path / "lee.npy")
    assert back.index_to_key == kv.index_to_key
    np.testing.assert_array_equal(back.vectors, kv.vectors)
    assert json.loads((tmp_path / "lee.npy" / "words.json").read_text())[0] == "the"


def test_writing_never_replaces_an_existing_file(tmp_path):
    (tmp_path / "out.bin").write_text("keep me")
    with pytest.raises(ValueError, match="already exists"):
        embeddings.write_vectors(embeddings.load(datapath("test_glove.txt")), tmp_path / "out.bin",
                                 "word2vec_bin")
    assert (tmp_path / "out.bin").read_text() == "keep me"


@pytest.mark.parametrize("header", [b"", b"2 2\n"])  # no capacity known / fewer rows declared
def test_rows_are_exact_across_parse_chunks(tmp_path, monkeypatch, header):
    from seqzoo.embeddings.text_format import _RowBuffer

    monkeypatch.setattr(_RowBuffer, "CHUNK_ROWS", 3)
    rows = [(f"w{i}", [i, -i / 4]) for i in range(8)]
    path = write(tmp_path, "v.txt", header + b"".join(
        f"{w} {a} {b}\n".encode() for w, (a, b) in rows))
    parsed = parse_text_vectors(path) if not header else parse_text_vectors(path, wanted=None)
    assert parsed.words == [w for w, _ in rows]
    np.testing.assert_array_equal(parsed.vectors, [v for _, v in rows])
    kept = parse_text_vectors(path, wanted={"w1", "w4", "w7"})
    np.testing.assert_array_equal(kept.vectors, [[1, -0.25], [4, -1], [7, -1.75]])


@pytest.mark.parametrize("content", [b"the 1 2\nof nan 4\nand 5 6\n", b"3 2\nthe 1 2\nof 3 -inf\nand 5 6\n"])
def test_rows_that_are_not_finite_are_refused_naming_the_line_or_skipped_and_counted(tmp_path, content):
    path = write(tmp_path, "v.txt", content)
    refused = r"v.txt:\d: the vector of 'of' holds (nan|-inf) \(pass on_error='skip'"
    with pytest.raises(ValueError, match=refused):
        embeddings.load(path, cache_enabled=False)
    loaded = embeddings.load_with_details(path, on_error="skip", cache_enabled=False)
    assert loaded.kv.index_to_key == ["the", "and"] and loaded.stats["non_finite_rows"] == 1
    assert np.isfinite(loaded.kv.vectors).all()


def test_a_header_claiming_billions_of_words_allocates_only_what_the_bytes_hold(tmp_path):
    import resource

    path = write(tmp_path, "v.vec", b"4000000000 300\nthe " + b"1 " * 299 + b"1\n")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ValueError, match=r"is truncated: its header declares 4000000000 words, it holds 1 "
                                         r"\(the file ends at byte 619\)"):
        embeddings.load(path, cache_enabled=False)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000  # KiB
    lying = write(tmp_path, "w.vec", b"1 5000000\nthe 1 2\n")
    with pytest.raises(ValueError, match=r"declares dimension 5000000, more than its 18 bytes can hold"):
        embeddings.load(lying, "word2vec_text", cache_enabled=False)


def binary_file(tmp_path, words, vectors, header=None, name="v.bin"):
    rows = b"".join(word.encode() + b" " + np.asarray(vector, "<f4").tobytes() + b"\n"
                    for word, vector in zip(words, vectors, strict=True))
    dim = len(vectors[0])
    return write(tmp_path, name, (header or f"{len(words)} {dim}\n".encode()) + rows)


def test_binary_word2vec_equals_gensims_reader_and_keeps_a_vocabulary(tmp_path):
    path = binary_file(tmp_path, ["the", "of", "and"], [[1, 2], [3, 4], [5.5, -6]])
    np.testing.assert_array_equal(embeddings.load(path, cache_enabled=False).vectors,
                                  KeyedVectors.load_word2vec_format(str(path), binary=True).vectors)
    assert embeddings.load(path, vocabulary=["and"], cache_enabled=False).index_to_key == ["and"]


@pytest.mark.parametrize("cut, header, message", [
    (5, None, r"is truncated at byte 37: word 3 of 3 \(at byte 29\) has no vector"),
    (0, b"3000000000 2\n", r"is truncated or its header is wrong: 3,000,000,000 words of 2 floats need "
                           r"at least 30,000,000,000 bytes after the header, the file has 38"),
    (0, b"not a header\n", r"has no word2vec header"),
])
def test_a_cut_or_lying_binary_file_is_named_with_the_byte(tmp_path, cut, header, message):
    path = binary_file(tmp_path, ["the", "of", "and"], [[1, 2], [3, 4], [5, 6]], header)
    if cut:
        path.write_bytes(path.read_bytes()[:-cut])
    with pytest.raises(ValueError, match=message):
        embeddings.load(path, format="word2vec_bin", cache_enabled=False)


def test_a_binary_vector_holding_nan_is_named_or_skipped(tmp_path):
    path = binary_file(tmp_path, ["the", "of"], [[1, 2], [float("nan"), 4]])
    with pytest.raises(ValueError, match=r"the vector of 'of' \(at byte 20\) holds nan"):
        embeddings.load(path, cache_enabled=False)
    assert embeddings.load(path, on_error="skip", cache_enabled=False).index_to_key == ["the"]


@pytest.mark.parametrize("damage", ["truncate", "flip", "delete_words"])
def test_a_damaged_cache_entry_is_parsed_again_not_fatal(tmp_path, damage):
    path = write(tmp_path, "v.txt", b"the 1 2\nof 3 4\n")
    embeddings.load(path)
    key = cache.cache_key(path, {"format": "glove", "on_error": "raise", "wanted": None})
    entry = cache.cache_root() / key
    if damage == "truncate":
        (entry / "vectors.npy").write_bytes((entry / "vectors.npy").read_bytes()[:-3])
    elif damage == "flip":
        data = bytearray((entry / "vectors.npy").read_bytes())
        data[-1] ^= 0xFF
        (entry / "vectors.npy").write_bytes(bytes(data))
    else:
        (entry / "words.json").unlink()
    again = embeddings.load_with_details(path)
    assert again.cache == "written" and again.kv.index_to_key == ["the", "of"]
    np.testing.assert_array_equal(again.kv["of"], [3, 4])
    assert embeddings.load_with_details(path).cache == "hit"


@pytest.mark.parametrize("name, damage, message", [
    ("lee_fasttext.bin", lambda b: b[: len(b) // 2], r"does not read as fasttext_bin"),
    ("v.npy", None, r"does not read as npy: vectors.npy is float32\[2, 2\], not float \[3, dimension\]"),
])
def test_whole_file_formats_that_do_not_read_are_named(tmp_path, name, damage, message):
    if name == "v.npy":
        (tmp_path / name).mkdir()
        np.save(tmp_path / name / "vectors.npy", np.ones((2, 2), np.float32))
        (tmp_path / name / "words.json").write_text('["a", "b", "c"]')
    else:
        write(tmp_path, name, damage(open(datapath(name), "rb").read()))
    with pytest.raises(ValueError, match=message):
        embeddings.load(tmp_path / name)
