"""Readers for users' labelled files: real formats, written small by the tests."""

import pytest

from seqzoo.data import LabelledTexts, read_labelled, sentiment_corpus
from seqzoo.errors import UserError


def test_fasttext_lines(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text("__label__pos a gorgeous film\n\n__label__neg __label__bad dull\n")
    data = read_labelled(path)
    assert data.texts == ["a gorgeous film", "dull"]
    assert data.labels == ["pos", "neg"]
    assert data.label_names == ["neg", "pos"]


def test_csv_and_tsv_with_named_columns(tmp_path):
    (tmp_path / "a.csv").write_text('review,sentiment\n"great, really",pos\nawful,neg\n')
    (tmp_path / "a.tsv").write_text("review\tsentiment\ngreat\tpos\n")
    csv_data = read_labelled(tmp_path / "a.csv", text_column="review", label_column="sentiment")
    assert (csv_data.texts, csv_data.labels) == (["great, really", "awful"], ["pos", "neg"])
    tsv_data = read_labelled(tmp_path / "a.tsv", text_column="review", label_column="sentiment")
    assert (tsv_data.texts, tsv_data.labels) == (["great"], ["pos"])


def test_aclimdb_folder_layout(tmp_path):
    for label, text in [("pos", "loved it<br />truly"), ("neg", "hated it")]:
        (tmp_path / "train" / label).mkdir(parents=True)
        (tmp_path / "train" / label / "0_9.txt").write_text(text)
    data = read_labelled(tmp_path)
    pairs = sorted(zip(data.labels, data.texts, strict=True))
    assert pairs == [("neg", "hated it"), ("pos", "loved it truly")]


def test_the_bundled_corpus_is_gensims_pang_lee_sentences():
    data = read_labelled(sentiment_corpus())
    assert len(data) == 200
    assert data.labels.count("pos") == data.labels.count("neg") == 100
    assert data.texts[0] == "simplistic , silly and tedious ."


@pytest.mark.parametrize("content, name, message", [
    (None, "missing.txt", "data file '{dir}/missing.txt' does not exist"),
    ("\n\n", "empty.txt", "data file '{dir}/empty.txt' has no labelled examples"),
    ("pos a film\n", "bad.txt", "{dir}/bad.txt:1: expected '__label__<label> <text>', got 'pos a film'"),
    ("text,target\nfilm,pos\n", "a.csv", "{dir}/a.csv: no column 'label'; valid: target, text"),
    ("", "empty.csv", "{dir}/empty.csv: no column 'text'; valid: "),
    ('text,label\n"two\nlines",pos\nfilm,pos,extra\n', "wide.csv",
     "{dir}/wide.csv:4: row has 3 columns, the header 2"),
    ("text,label\nfilm,\n", "nolabel.csv", "{dir}/nolabel.csv:2: empty 'label'"),
    ('text,label\nfilm,pos\n"never closed,pos\nfilm,neg\n', "open.csv",
     "{dir}/open.csv:3: unexpected end of data (in the row that starts here)"),
])
def test_bad_files_give_one_clear_line(tmp_path, content, name, message):
    if content is not None:
        (tmp_path / name).write_text(content)
    with pytest.raises(ValueError) as err:
        read_labelled(tmp_path / name)
    assert str(err.value) == message.format(dir=tmp_path)


def test_labels_unseen_in_training_are_named():
    with pytest.raises(ValueError, match=r"labels \['maybe'\] were not seen in training"):
        LabelledTexts(["x"], ["maybe"]).label_ids(["neg", "pos"])


def test_quoted_line_breaks_stay_in_the_text_and_later_lines_keep_their_numbers(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text('text,label\n"first line\nsecond line",pos\r\nfilm,neg\n\nbad\n')
    with pytest.raises(ValueError, match=r"a.csv:6: row has 1 columns, the header 2"):
        read_labelled(path)
    path.write_text('text,label\n"first line\nsecond line",pos\r\nfilm,neg\n')
    assert read_labelled(path).texts == ["first line\nsecond line", "film"]


def test_only_real_line_breaks_split_lines(tmp_path):
    path = tmp_path / "train.txt"  # a form feed and U+2028 are characters of a text, not line ends
    path.write_text("__label__pos a\x0cgorgeous\u2028film\r\n__label__neg dull\rx\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"train.txt:3: expected '__label__<label> <text>', got 'x'"):
        read_labelled(path)
    path.write_text("__label__pos a\x0cgorgeous\u2028film\r\n__label__neg dull\n", encoding="utf-8")
    assert read_labelled(path).texts == ["a\x0cgorgeous\u2028film", "dull"]


def test_labelled_texts_split_is_seeded_and_holds_out_the_fraction():
    texts = LabelledTexts([f"text {i}" for i in range(10)], ["pos", "neg"] * 5)
    train, heldout = texts.split(validation_fraction=0.2, seed=42)
    assert (len(train), len(heldout)) == (8, 2) and set(train.texts).isdisjoint(heldout.texts)
    assert sorted(train.texts + heldout.texts) == sorted(texts.texts)
    assert heldout.texts == texts.split(0.2, seed=42)[1].texts != texts.split(0.2, seed=1)[1].texts
    for text, label in zip(heldout.texts, heldout.labels, strict=True):
        assert label == texts.labels[texts.texts.index(text)]
    with pytest.raises(UserError, match="1 labelled text"):
        LabelledTexts(["alone"], ["pos"]).split(0.2, seed=0)
