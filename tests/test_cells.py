"""`seqzoo cells`: features read from Python's tokens, cells recorded as the model runs them, the
statistics that find a cell, and what a user sees (and is refused)."""

import json
import sysconfig

import keras
import numpy as np
import pytest

import seqzoo
from seqzoo.cli import main
from seqzoo.interpret.features import CODE_DEFAULT, code_features, features
from seqzoo.interpret.record import CHUNK, CellRecorder
from seqzoo.interpret.statistics import FeatureStatistics, rank_auc

SNIPPET = '''def f(x):
    if x > (1 + 2):  # hi
        return "a" + 'b'
    return [x,
            (x)]
'''


def marks(text, values):
    """The characters where a feature is on, as a string (spaces elsewhere)."""
    return "".join(c if v else " " for c, v in zip(text, values, strict=True))


def test_code_features_come_from_pythons_tokens():
    found = features(SNIPPET, CODE_DEFAULT)
    assert marks(SNIPPET, found["string"]).split() == ['"a"', "'b'"]
    assert marks(SNIPPET, found["comment"]).strip() == "# hi"
    assert marks(SNIPPET, found["if_condition"]).strip() == "if x > (1 + 2):"
    lines = SNIPPET.splitlines(keepends=True)
    start = [sum(len(line) for line in lines[:i]) for i in range(len(lines))]
    assert [int(found["indentation"][s]) for s in start] == [0, 1, 2, 1, 1]  # leading spaces included
    depth = found["bracket_depth"]
    assert depth[SNIPPET.index("1 + 2")] == 1 and depth[SNIPPET.index("(x)]") + 1] == 2
    assert depth[SNIPPET.index("def")] == 0
    assert found["column"][SNIPPET.index("# hi")] == SNIPPET.splitlines()[1].index("#")


def test_triple_quoted_and_f_strings_are_strings_and_prose_is_not_python():
    text = 'x = f"{y}z"\ns = """a\n# not a comment\n"""\n'
    found = features(text, ("string", "comment"))
    assert marks(text, found["string"]).split() == ['f"{y}z"', '"""a', "#", "not", "a", "comment", '"""']
    assert not found["comment"].any()
    assert code_features("He said (so it goes\n  and then") is None
    assert features("a dog\n", ("string",)) is None


def test_statistics_find_the_cell_that_is_the_feature():
    rng = np.random.default_rng(0)
    n, width = 4000, 6
    inside = (rng.random(n) < 0.3).astype(np.int32)
    depth = rng.integers(0, 4, n).astype(np.int32)
    values = rng.uniform(-1, 1, (n, width))
    values[:, 2] = np.where(inside, 0.8, -0.8) + rng.normal(0, 0.05, n)  # the string cell
    values[:, 4] = -depth / 4 + rng.normal(0, 0.01, n)  # a depth cell, low when deep
    stats = FeatureStatistics(("string", "bracket_depth"), {"h1": slice(0, 3), "c1": slice(3, 6)}, width)
    for start in range(0, n, 500):
        piece = slice(start, start + 500)
        stats.add(values[piece], {"string": inside[piece], "bracket_depth": depth[piece]}, start >= 3000)
    best = stats.best_cells()
    assert best["string"][0] == 2 and best["string"][1] > 0.99
    assert best["bracket_depth"][0] == 4 and best["bracket_depth"][1] < -0.99
    probes = stats.probes()
    assert probes["string"]["h1"] > 0.99 and probes["bracket_depth"]["c1"] > 0.99
    assert abs(probes["string"]["c1"] - 0.5) < 0.1  # the other layer knows nothing of strings


def test_rank_auc_counts_ties_half_as_a_pairwise_count_does():
    rng = np.random.default_rng(1)
    score, positive = rng.integers(0, 5, 200).astype(float), rng.random(200) < 0.4
    pairs = [(s > t) + 0.5 * (s == t) for s in score[positive] for t in score[~positive]]
    assert rank_auc(score, positive) == pytest.approx(np.mean(pairs))
    assert rank_auc(score, np.zeros(200, bool)) is None


@pytest.fixture(scope="module")
def code_folder(tmp_path_factory):
    """Twelve modules of the standard library: real code, newlines and indentation kept."""
    root = tmp_path_factory.mktemp("code")
    stdlib = sysconfig.get_paths()["stdlib"]
    for name in ("bisect", "colorsys", "keyword", "shlex", "fnmatch", "glob", "heapq", "textwrap",
                 "stat", "copy", "abc", "numbers"):
        (root / f"{name}.py").write_text(open(f"{stdlib}/{name}.py", encoding="utf-8").read())
    return root


@pytest.fixture(scope="module")
def code_run(code_folder, tmp_path_factory):
    return seqzoo.train("char_lm", code_folder, preset="tiny", epochs=1, verbose=0,
                        out=tmp_path_factory.mktemp("runs") / "char_lm",
                        overrides={"train.documents": "file", "train.validation_fraction": 0.3,
                                   "train.batch_size": 32, "train.seq_len": 32,
                                   "model.rnn.layers": 2, "model.rnn.units": 12})


def test_files_are_documents_whole_split_by_file(code_run):
    record = json.loads((code_run / "run.json").read_text())
    assert record["config"]["train"]["documents"] == "file"
    prompts = record["heldout_texts"]
    assert prompts and all("\n" in prompt for prompt in prompts)  # newlines and indentation kept
    texts = seqzoo.interpret.heldout_texts(seqzoo.load_run(code_run))
    assert [text[:120] for text in texts] == prompts[: len(texts)]


def test_recorded_cells_are_the_models_own_states_across_chunks(code_run, code_folder):
    run = seqzoo.load_run(code_run)
    recorder = CellRecorder(run)
    assert [name for name, _ in recorder.groups] == ["h1", "c1", "h2", "c2"]
    texts = [(code_folder / "textwrap.py").read_text()[: CHUNK * 2 + 37], "def f():\n    return 1\n"]
    pieces = {}
    for index, start, rows in recorder.record(texts):
        pieces.setdefault(index, []).append((start, rows))
    layers = [layer for layer in run.model.layers if isinstance(layer, keras.layers.RNN)]
    h2 = keras.Model(run.model.input, layers[1].output)
    for index, text in enumerate(texts):
        starts = [start for start, _ in pieces[index]]  # in order, each piece where the last ended
        assert starts == [0, *np.cumsum([len(rows) for _, rows in pieces[index]])[:-1]]
        assert len(pieces[index]) == (1 + len(text) - 1) // CHUNK + 1  # [BOS] takes the first step
        recorded = np.concatenate([rows for _, rows in pieces[index]])
        expected = h2(recorder.ids(text)[None])[0, 1:]  # after [BOS]: one row a character
        np.testing.assert_allclose(recorded[:, recorder.slices()["h2"]], expected, atol=1e-5)


@pytest.mark.parametrize("name, overrides", [("tcn_lm", {}),
                                             ("transformer_lm", {"layers": 2, "max_length": 64})])
def test_blocks_are_recorded_step_by_step_as_the_whole_sequence_gives_them(name, overrides, monkeypatch):
    from seqzoo.interpret import record
    from seqzoo.tasks.language_model import lm_meta, lm_vectorizer
    from seqzoo.training.run_folder import Run

    monkeypatch.setattr(record, "CHUNK", 16)  # several chunks: the caches carry over
    config = seqzoo.get_config(name, preset="tiny", **overrides)
    vectorizer = lm_vectorizer(config["text"], [SNIPPET])
    model = seqzoo.build(name, preset="tiny", vectorizer=vectorizer, **overrides)
    run = Run("untrained", name, config, lm_meta(config, vectorizer), {}, [], model, vectorizer)
    recorder = CellRecorder(run)
    blocks = [layer for layer in model.layers if layer.name == "tcn" or "block" in layer.name]
    assert [group for group, _ in recorder.groups] == [
        f"b{i}" for i in range(1, 1 + (len(config["model"]["tcn"]["dilations"]) if name == "tcn_lm" else 2))]
    text = (SNIPPET * 10)[:60]  # within the transformer's window of 64 ([BOS] included)
    recorded = np.concatenate([rows for _, _, rows in recorder.record([text])])
    last = keras.Model(model.input, blocks[-1].output)(recorder.ids(text)[None])[0, 1:]
    np.testing.assert_allclose(recorded[:, recorder.slices()[recorder.groups[-1][0]]], last, atol=1e-5)


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cells_writes_the_table_and_a_picture_per_feature(code_run, code_folder, tmp_path, capsys):
    out = tmp_path / "cells"
    code, printed, _ = run_cli(capsys, "cells", str(code_run), "--data", str(code_folder / "fnmatch.py"),
                               "--out", str(out))
    assert code == 0, printed
    report = json.loads((out / "report.json").read_text())
    assert set(report["features"]) == set(CODE_DEFAULT)
    string = report["features"]["string"]
    assert string["measure"] == "AUC" and 0.5 <= abs(string["value"]) <= 1
    assert set(string["probes"]) == {"h1", "c1", "h2", "c2"}
    assert report["characters"] == len((code_folder / "fnmatch.py").read_text())
    assert "| string |" in printed and (out / "report.md").read_text().startswith("| feature |")
    page = (out / "string.html").read_text()
    assert page.count("<span ") == min(report["characters"], seqzoo.interpret.EXCERPT)
    assert (out / "string.png").read_bytes()[:4] == b"\x89PNG"
    code, _, _ = run_cli(capsys, "cells", str(code_run), "--data", str(code_folder / "fnmatch.py"),
                         "--cell", "2:3", "--out", str(tmp_path / "cell.html"))
    assert code == 0 and "cell c2:3" in (tmp_path / "cell.html").read_text()


def test_the_python_api_returns_the_excerpts_activations(code_run):
    report = seqzoo.cells(code_run, SNIPPET * 3)
    assert report.characters == len(SNIPPET) * 3 and report.texts == 1
    assert report.activations["c2"].shape == (len(SNIPPET) * 3, 12)
    assert np.all(np.abs(report.activations["c2"]) <= 1)  # tanh(c)
    assert report.value(report.best["string"]["cell"]).shape == (len(SNIPPET) * 3,)
    plain = seqzoo.cells(code_run, "x = (1 + 2)\n" * 30)  # no string, no comment: nothing to score
    assert plain.best["comment"] == {"cell": None, "measure": "AUC", "value": None}
    assert "| comment | - | never varies in this text | - | - | - | - |" in plain.table()


@pytest.mark.parametrize("argv, message", [
    (["--cell", "c2:12"], "--cell 'c2:12' is out of range: c2 has 12 cells (c2:0..11)"),
    (["--cell", "x"], "--cell 'x' names no cell: cells are h1:0..11, c1:0..11, h2:0..11, c2:0..11"),
    (["--feature", "strng"], "unknown feature 'strng'; did you mean 'string'?"),
    (["--cell", "1:1", "--out", "x.txt"], "with --cell is a picture: name an .html or .png file"),
    (["--out", "/dev/null/cells"], "cannot write '/dev/null/cells': '/dev/null' is not a writable folder"),
])
def test_cells_refuses_a_bad_request_in_one_line(code_run, code_folder, argv, message, capsys, tmp_path):
    code, _, err = run_cli(capsys, "cells", str(code_run), "--data", str(code_folder / "glob.py"), *argv)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())


def test_cells_refuses_bad_text_and_runs_that_are_no_char_lm(code_run, sentiment_run, tmp_path, capsys):
    (tmp_path / "empty.py").write_text("")
    (tmp_path / "binary.py").write_bytes(b"\x00\x01ELF")
    (tmp_path / "prose.txt").write_text("He said (so it goes\n  and then")
    cases = [
        ([str(sentiment_run), "--data", str(tmp_path / "prose.txt")], "cells reads a language model's run"),
        ([str(code_run), "--data", str(tmp_path / "empty.py")], "has no text"),
        ([str(code_run), "--data", str(tmp_path / "binary.py")], "is a binary file (it holds NUL bytes)"),
        ([str(code_run), "--data", str(tmp_path / "prose.txt"), "--feature", "string"],
         "feature string is read from Python's tokens, and the text"),
    ]
    for argv, message in cases:
        code, _, err = run_cli(capsys, "cells", *argv, "--out", str(tmp_path / "out"))
        assert code == 2 and message in err, err
    assert not (tmp_path / "out").exists()
    code, out, err = run_cli(capsys, "cells", str(code_run), "--data", str(tmp_path / "prose.txt"),
                             "--out", str(tmp_path / "out"))
    assert code == 0 and "| word_position |" in out  # prose gets the prose features


def test_characters_outside_the_vocabulary_are_counted_with_a_note(code_run, tmp_path, capsys):
    (tmp_path / "greek.py").write_text('x = "αβγδ"\n')
    code, out, err = run_cli(capsys, "cells", str(code_run), "--data", str(tmp_path / "greek.py"),
                             "--out", str(tmp_path / "out"))
    assert code == 0 and "seqzoo: note: 4 of 11 characters are outside the model's vocabulary" in err
