"""`seqzoo compare`: matched sizes, one table, entries of one task only."""

import pytest

from seqzoo.compare import compare, table


def test_entries_are_matched_in_size_and_measured(sentiment_file):
    rows = compare(["sentiment", "bilstm"], sentiment_file, preset="tiny", budget=1.0)
    assert [r.name for r in rows] == ["sentiment", "bilstm"]
    assert abs(rows[1].parameters - rows[0].parameters) / rows[0].parameters < 0.05
    assert all(r.train_tokens_per_second > 0 and r.inference_tokens_per_second > 0 for r in rows)
    assert all(r.metric == "val_accuracy" and 0 <= r.value <= 1 for r in rows)
    lines = table(rows, 1.0).splitlines()
    assert lines[0] == ("| entry | parameters | train tokens/s | inference tokens/s | "
                        "held-out metric after 1 s |")
    assert lines[2].startswith(f"| sentiment | {rows[0].parameters:,} |")
    assert lines[2].endswith(f"| accuracy {rows[0].value:.3f} |")


def test_entries_of_different_tasks_are_refused():
    with pytest.raises(ValueError, match="compare needs entries of one task; got classification, "
                                         "language_model"):
        compare(["sentiment", "char_lm"])


def test_an_unknown_entry_names_the_closest():
    with pytest.raises(ValueError, match=r"unknown model 'bilstn'; did you mean 'bilstm'\?"):
        compare(["bilstn"])
