"""`seqzoo paper`: the tasks as locuslab/TCN generates them, the size-matched baselines, the table."""

import json

import numpy as np
import pytest

from seqzoo.cli import main
from seqzoo.paper import TASKS, PaperTask, adding_problem, build, copy_memory, matched_width, run_task


def test_the_adding_problem_marks_two_distinct_positions_and_sums_them():
    x, y = adding_problem(200, 50, seed=3)
    assert x.shape == (200, 50, 2) and y.shape == (200, 1)
    assert (x[..., 1].sum(axis=1) == 2).all()  # two distinct marked positions per sequence
    np.testing.assert_allclose(y[:, 0], (x[..., 0] * x[..., 1]).sum(axis=1), rtol=1e-6)
    assert 0 <= x[..., 0].min() and x[..., 0].max() < 1
    marked = np.argwhere(x[..., 1] == 1)[:, 1]
    assert marked.min() < 5 and marked.max() > 45  # drawn over the whole sequence


def test_copy_memory_is_digits_blanks_delimiters_then_the_digits_back():
    x, y = copy_memory(5, 20, seed=0)
    assert x.shape == (5, 40, 1) and y.shape == (5, 40)
    digits = x[:, :10, 0]
    assert ((1 <= digits) & (digits <= 8)).all()
    assert (x[:, 10:29, 0] == 0).all() and (x[:, 29:, 0] == 9).all()
    assert (y[:, :30] == 0).all() and (y[:, 30:] == digits).all()


def test_baselines_are_sized_to_the_tcn():
    task = TASKS["adding"]
    target = build("tcn", task, 2).count_params()
    assert target == 70_369  # the paper's ~70K (k=8, 8 levels, 24 hidden)
    for kind in ("lstm", "gru", "rnn"):
        parameters = build(kind, task, 2, matched_width(kind, task, 2, target)).count_params()
        assert abs(parameters - target) / target < 0.02, (kind, parameters)


def test_copy_memory_model_predicts_every_step():
    task = PaperTask(**{**TASKS["copy_memory"].__dict__, "levels": 2})
    model = build("tcn", task, 1)
    assert model(np.zeros((2, 30, 1), "float32")).shape == (2, 30, 10)


def test_paper_writes_the_table_and_the_runs(tmp_path, capsys):
    assert main(["paper", "--task", "copy_memory", "--T", "10", "--epochs", "1", "--models", "tcn,rnn",
                 "--out", str(tmp_path)]) == 0
    table = (tmp_path / "paper.md").read_text().splitlines()
    assert table[0] == "| task | T | metric | model | parameters | ours | published |"
    assert table[2].startswith("| copy_memory | 10 | test loss | tcn |") and table[2].endswith("| 3.5e-05 |")
    runs = json.loads((tmp_path / "paper.json").read_text())
    assert [r["model"] for r in runs] == ["tcn", "rnn"] and runs[0]["epochs"] == 1
    assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["paper"], "name one --task, or --all"),
    (["paper", "--task", "seq_mnist", "--T", "100"], "MNIST sequences are 784 pixels long"),
    (["paper", "--task", "adding", "--models", "tcn,cnn"], "unknown model 'cnn'"),
    (["paper", "--task", "seq_mnist", "--mnist", "missing.npz"], "cannot read MNIST from 'missing.npz'"),
])
def test_bad_paper_requests_are_usage_errors(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_quick_mode_reproduces_the_papers_trend():
    """The paper's finding, in minutes: the TCN beats the LSTM on copy memory and adding."""
    for task in ("copy_memory", "adding"):
        runs = {r.model: r.value for r in run_task(task, ["tcn", "lstm"], quick=True)}
        assert runs["tcn"] < runs["lstm"], (task, runs)
