"""The tagging task: column files, the restoration data, the F1 report, training, serving."""

import json
import re

import pytest

import seqzoo
from seqzoo.cli import main
from seqzoo.data.tagging import (
    TaggedSentences,
    punctuation_tags,
    read_conll,
    restoration_corpus,
    restore,
    write_conll,
)
from seqzoo.exporters import ExportedModel
from seqzoo.metrics import format_tag_report, tag_report

# Capitalised words are tagged CAP; the word before a full stop PERIOD: learnable in a few epochs.
SENTENCES = [
    "Anna met Bob in Paris.", "the cat sat on the mat.", "Bob saw Anna at home.",
    "a dog ran in Paris.", "Paris is big.", "the mat is red.",
]


@pytest.fixture(scope="module")
def conll_file(tmp_path_factory):
    # Distinct sentences: the streamed split is a hash of each, so copies would all land on one side.
    variants = ["Anna saw Bob in Paris.", "Bob met Anna at home.", "Anna met Bob at home.",
                "Paris is red.", "the dog sat on the mat.", "the cat ran in Paris.",
                "a cat sat on the mat.", "a dog saw Anna.", "the cat is big.", "Bob is big.",
                "Anna ran in Paris.", "Bob sat on the mat."]
    tokens, tags = zip(*(punctuation_tags(s.split()) for s in SENTENCES * 4 + variants), strict=True)
    return write_conll(TaggedSentences(list(tokens), list(tags)),
                       tmp_path_factory.mktemp("tagging") / "train.conll")


@pytest.fixture(scope="module")
def tagger_export(conll_file, tmp_path_factory):
    run = seqzoo.train("bilstm_tagger", conll_file, preset="tiny", epochs=25, verbose=0,
                       out=tmp_path_factory.mktemp("runs") / "tagger",
                       overrides={"max_length": 8, "learning_rate": 0.03, "validation_fraction": 0.3})
    return run, seqzoo.export_run(run, base=tmp_path_factory.mktemp("saved_models"))


def test_punctuation_tags_name_case_and_the_following_mark():
    tokens, tags = punctuation_tags('"Hello," said the U.S. envoy (Mr Smith). At 4:00pm - done!'.split())
    assert tokens == ["hello", "said", "the", "u.s.", "envoy", "mr", "smith", "at", "4:00pm", "done"]
    assert tags == ["CAP_COMMA", "O", "O", "CAP", "O", "CAP", "CAP_PERIOD", "CAP", "O", "EXCLAMATION"]


def test_restore_puts_capitals_and_marks_back():
    text = "Hundreds of people left Sydney, police said. Was it wise?"
    assert restore(*punctuation_tags(text.split())) == text


def test_restoration_corpus_is_lee_news_tagged_in_windows():
    sentences = read_conll(restoration_corpus())
    assert len(sentences) == 2008 and all(len(tokens) <= 32 for tokens in sentences.tokens)
    assert " ".join(sentences.tokens[0][:6]) == "hundreds of people have been forced"
    assert {"O", "CAP", "COMMA", "PERIOD", "CAP_PERIOD"} <= set(sentences.tag_names)
    assert restoration_corpus().read_bytes() == restoration_corpus().read_bytes()  # cached, stable


def test_read_conll_takes_the_last_column_and_skips_docstart(tmp_path):
    path = tmp_path / "ner.txt"
    path.write_text("-DOCSTART- -X- O O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\n"
                    "Peter\tB-PER\nBlackburn\tI-PER\n")
    sentences = read_conll(path)
    assert sentences.tokens == [["EU", "rejects"], ["Peter", "Blackburn"]]
    assert sentences.tags == [["B-ORG", "O"], ["B-PER", "I-PER"]]
    assert sentences.lines == [3, 6]


@pytest.mark.parametrize("content, message", [
    ("the\tO\ncat\n", "line 2: expected 'token<TAB>tag', got 'cat' (a missing tag?)"),
    ("the\tO\nbig cat\tO\n", "line 2: token 'big cat' is empty or holds whitespace"),
    ("\n\n", "has no tagged tokens"),
])
def test_read_conll_names_the_bad_line(tmp_path, content, message):
    path = tmp_path / "bad.conll"
    path.write_text(content)
    with pytest.raises(seqzoo.UserError, match=re.escape(message)):
        read_conll(path)


def test_long_sentences_are_split_without_losing_a_tag():
    sentences = TaggedSentences([list("abcdefg")], [list("OOXOOXO")], [10]).chunked(3)
    assert sentences.tokens == [["a", "b", "c"], ["d", "e", "f"], ["g"]]
    assert sentences.tags == [["O", "O", "X"], ["O", "O", "X"], ["O"]]
    assert sentences.lines == [10, 13, 16]


def test_tag_report_scores_tokens_and_leaves_o_out_of_the_averages():
    report = tag_report([["O", "COMMA", "PERIOD", "COMMA"]], [["O", "COMMA", "COMMA", "O"]])
    assert report["COMMA"] == {"precision": 0.5, "recall": 0.5, "f1-score": 0.5, "support": 2}
    assert report["PERIOD"] == {"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 1}
    assert report["micro avg"]["precision"] == 0.5  # 1 right of 2 non-O predictions
    assert report["micro avg"]["recall"] == pytest.approx(1 / 3)
    assert report["macro avg"]["f1-score"] == 0.25 and report["micro avg"]["support"] == 3
    assert format_tag_report(report).splitlines()[0].split() == ["precision", "recall", "f1-score", "support"]


def test_taggers_need_one_token_per_word(conll_file, tmp_path):
    with pytest.raises(seqzoo.UserError, match="taggers read one token per word"):
        seqzoo.train("bilstm_tagger", conll_file, preset="tiny", out=tmp_path / "r",
                     overrides={"strip_punctuation": True})


def test_trained_tagger_learns_the_tags_and_reports_f1(tagger_export):
    run, _ = tagger_export
    metrics = json.loads((run / "run.json").read_text())["metrics"]
    assert metrics["val_accuracy"] > 0.9 and metrics["val_f1"] > 0.8, metrics
    assert {"val_f1[CAP]", "val_f1[PERIOD]", "val_precision", "val_recall"} <= set(metrics)


def test_exported_tagger_tags_tokens_and_flags_truncation(tagger_export):
    _, path = tagger_export
    rows = ExportedModel(path).tag(["bob saw anna in paris", "", "the cat " * 5])
    assert rows[0]["tokens"] == ["bob", "saw", "anna", "in", "paris"]
    assert rows[0]["tags"] == ["CAP", "O", "CAP", "O", "CAP_PERIOD"]
    assert rows[0]["restored"] == "Bob saw Anna in Paris." and not rows[0]["truncated"]
    assert rows[1] == {"text": "", "tokens": [], "tags": [], "truncated": False, "restored": ""}
    assert len(rows[2]["tags"]) == 8 and rows[2]["truncated"]  # max_length 8 of 10 words


def test_cli_tag_prints_tags_and_notes_truncation(tagger_export, capsys):
    _, path = tagger_export
    assert main(["tag", str(path), "anna met bob at home", "the cat " * 5]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[:2] == ["anna/CAP met/O bob/CAP at/O home/PERIOD",
                                    "  restored: Anna met Bob at home."]
    assert "note: only the first 8 words were tagged (text.max_length)" in err


def test_evaluate_refuses_tags_never_seen_in_training(tagger_export, tmp_path):
    run, _ = tagger_export
    path = tmp_path / "heldout.conll"
    path.write_text("anna\tCAP\nran\tB-VERB\n\nbob\tI-VERB\n")
    with pytest.raises(seqzoo.UserError, match=r"never saw in training: 'B-VERB' \(line 2\), "
                       r"'I-VERB' \(line 4\); it knows O, CAP"):
        seqzoo.evaluate_run(run, path)


def test_evaluate_on_a_users_file_gives_the_f1_figures(tagger_export, conll_file):
    run, _ = tagger_export
    figures = seqzoo.evaluate_run(run, conll_file)
    assert figures["f1"] > 0.8 and 0 <= figures["f1[CAP]"] <= 1


def test_cli_tag_on_a_classifier_is_a_usage_error(exported_sentiment, capsys):
    assert main(["tag", str(exported_sentiment), "hello"]) == 2
    assert "is a classification model; tag needs a tagging model" in capsys.readouterr().err
