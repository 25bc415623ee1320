"""Streamed line files: globs, the hash split, the checking pass's messages, the vocabulary sample."""

import collections
import json

import numpy as np
import pytest
import tensorflow as tf

import seqzoo
from seqzoo.data.streaming import Reservoir, held_out, line_files
from seqzoo.errors import UserError
from seqzoo.tasks import get_task
from seqzoo.tasks.base import ReadOptions

POS = ["a gorgeous film", "wonderful and moving", "a great cast", "great fun", "a wonderful film"]
NEG = ["dull and tedious", "a tedious mess", "boring film", "dull boring mess", "a boring cast"]


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shards")
    for index in range(3):
        lines = [f"__label__pos {t} {index} {k}" for k, t in enumerate(POS)]
        lines += [f"__label__neg {t} {index} {k}" for k, t in enumerate(NEG)]
        (folder / f"part-{index}.txt").write_text("\n".join(lines) + "\n\n")
    return folder


def prepared(data, **train):
    config = seqzoo.get_config("sentiment", "tiny", **{f"train.{k}": v for k, v in train.items()})
    return get_task("classification").prepare(config, data, ReadOptions()), config


def texts_of(dataset, vectorizer):
    vocabulary = np.array(vectorizer.get_vocabulary())
    return [" ".join(vocabulary[row[row > 0]]) for ids, _ in dataset for row in ids.numpy()]


def test_a_glob_streams_every_file_and_the_split_is_a_hash_of_the_line(shards):
    data, _ = prepared(shards / "part-*.txt", validation_fraction=0.3)
    train = texts_of(data.train_batches(range(0, 1)), data.vectorizer)
    heldout = texts_of(data.validation, data.vectorizer)
    assert data.examples == len(train) and len(train) + len(heldout) == 30
    assert set(train).isdisjoint(heldout)
    assert {text.split()[-2] for text in train + heldout} == {"0", "1", "2"}  # every file read
    # The split is a property of each line: the same line is held out in any file, in any order.
    line = tf.constant([f"__label__pos {text} 1 {k}" for k, text in enumerate(POS)])
    again = held_out(line, 0.3, 42).numpy()
    assert again.tolist() == held_out(tf.reverse(line, [0]), 0.3, 42).numpy()[::-1].tolist()
    assert data.meta == {"labels": ["neg", "pos"]}


def test_an_epoch_order_depends_on_seed_and_epoch_alone(shards):
    data, _ = prepared(shards / "part-*.txt", shuffle_buffer=4)
    first = texts_of(data.train_batches(range(0, 2)), data.vectorizer)
    resumed = texts_of(data.train_batches(range(1, 2)), data.vectorizer)
    assert first[len(first) // 2:] == resumed and first[: len(first) // 2] != resumed
    assert sorted(first[: len(first) // 2]) == sorted(resumed)
    for global_seed in (0, 7):  # the global seed (keras.utils.set_random_seed) plays no part; 0 once failed
        tf.random.set_seed(global_seed)
        assert texts_of(data.train_batches(range(0, 2)), data.vectorizer) == first


def test_the_checking_pass_names_the_file_and_line(shards, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.txt").write_text("__label__pos fine\n__label__neg also fine\n")
    (bad / "b.txt").write_text("__label__pos fine\n\nno label here\n")
    with pytest.raises(UserError, match=r"b\.txt:3: expected '__label__<label> <text>', got 'no label here'"):
        prepared(bad / "*.txt")
    (bad / "b.txt").write_bytes(b"__label__pos one\r__label__neg two\r")
    with pytest.raises(UserError, match=r"b\.txt:1: '__label__' inside a text: lines must end in \\n"):
        prepared(bad / "*.txt")
    with pytest.raises(UserError, match=r"no files match '.*nothing-\*\.txt'"):
        line_files(tmp_path / "nothing-*.txt")


def test_a_split_left_empty_is_one_line(tmp_path):
    path = tmp_path / "two.txt"
    path.write_text("__label__pos a\n" * 3)  # one line three times: one split has it all
    with pytest.raises(UserError, match=r"the (validation|training) split is empty \(3 labelled examples, "
                                        r"validation_fraction=0\.1; each example's split is a hash of it, so "
                                        r"copies land together: more distinct labelled examples or a larger "
                                        r"train\.validation_fraction fill both\)$"):
        prepared(path, validation_fraction=0.1)


def test_the_vocabulary_can_come_from_a_seeded_uniform_sample(shards):
    full, _ = prepared(shards / "part-*.txt")
    sampled, _ = prepared(shards / "part-*.txt", vocabulary_sample=6)
    again, _ = prepared(shards / "part-*.txt", vocabulary_sample=6)
    assert sampled.vectorizer.get_vocabulary() == again.vectorizer.get_vocabulary()
    assert set(sampled.vectorizer.get_vocabulary()) < set(full.vectorizer.get_vocabulary())
    seen = collections.Counter()
    for seed in range(2000):
        reservoir = Reservoir(2, seed)
        for item in range(10):
            reservoir.add(item)
        seen.update(reservoir.items)
    assert max(seen.values()) / min(seen.values()) < 1.2  # each of 10 items kept ~400 times in 2000


def test_a_glob_trains_and_resumes_on_the_same_files(shards, tmp_path):
    run = seqzoo.train("sentiment", shards / "part-*.txt", preset="tiny", out=tmp_path / "run", verbose=0)
    record = json.loads((run / "run.json").read_text())
    assert record["data"].endswith("part-*.txt") and len(record["heldout_texts"]) > 0


def test_a_csv_table_streams_row_by_row_quoted_line_breaks_and_all(tmp_path):
    texts = [f"{t}, {k}" for k, t in enumerate(POS * 4)] + [f"{t},\n{k}" for k, t in enumerate(NEG * 4)]
    labels = ["pos"] * 20 + ["neg"] * 20
    rows = [f'"{text}",{label}' for text, label in zip(texts, labels, strict=True)]
    (tmp_path / "reviews.csv").write_text("text,label\n" + "\n".join(rows) + "\n")
    data, _ = prepared(tmp_path / "reviews.csv", validation_fraction=0.3)
    train = texts_of(data.train_batches(range(0, 1)), data.vectorizer)
    heldout = texts_of(data.validation, data.vectorizer)
    assert data.examples == len(train) and len(train) + len(heldout) == 40 and set(train).isdisjoint(heldout)
    assert data.meta == {"labels": ["neg", "pos"]}
    assert data.heldout_texts and set(data.heldout_texts) <= set(texts)  # commas and line breaks kept
    again, _ = prepared(tmp_path / "reviews.csv", validation_fraction=0.3)  # the split is the rows' own
    assert texts_of(again.validation, again.vectorizer) == heldout


def test_an_aclimdb_folder_streams_file_by_file(tmp_path):
    for label, texts in (("pos", POS), ("neg", NEG)):
        (tmp_path / "train" / label).mkdir(parents=True)
        for k, text in enumerate(texts * 4):
            (tmp_path / "train" / label / f"{k}_7.txt").write_text(f"{text}<br />{k}")
    data, _ = prepared(tmp_path, validation_fraction=0.3)
    train = texts_of(data.train_batches(range(0, 1)), data.vectorizer)
    heldout = texts_of(data.validation, data.vectorizer)
    assert data.examples == len(train) and data.examples + len(heldout) == 40
    assert "<br" not in " ".join(data.heldout_texts)


def test_reading_a_table_holds_one_row_at_a_time(tmp_path):
    """A 30 MB CSV read for training: Python's peak memory stays a small fraction of the file."""
    import tracemalloc

    from seqzoo.data.readers import labelled_records

    row = '"' + "a long, quoted review " * 20 + '",pos\n'
    with open(tmp_path / "big.csv", "w") as file:
        file.write("text,label\n")
        file.writelines([row] * (30_000_000 // len(row)))
    tracemalloc.start()
    count = sum(1 for _ in labelled_records(tmp_path / "big.csv"))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert count == 30_000_000 // len(row) and peak < 2_000_000, peak


def test_a_label_the_split_left_in_the_held_out_data_alone_is_kept_with_a_note():
    from seqzoo.data.streaming import label_index
    from seqzoo.errors import SeqzooNote

    with pytest.warns(SeqzooNote, match=r"tags \['SEMICOLON'\] occur only in the held-out split"):
        names, table = label_index({"O", "CAP"}, {"O", "SEMICOLON"}, "tags")
    assert names == ["CAP", "O", "SEMICOLON"]
    assert table.lookup(tf.constant(["SEMICOLON", "O"])).numpy().tolist() == [2, 1]
    with pytest.raises(UserError, match=r"training data needs at least 2 distinct labels, got \['pos'\]"):
        label_index({"pos"}, {"neg"}, "labels")
