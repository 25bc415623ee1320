"""Configs: presets, overrides by path / ending / dict, and one-line errors."""

import pytest

import seqzoo
from seqzoo.config import parse_assignments


def test_get_config_returns_the_base_defaults_as_a_plain_dict():
    config = seqzoo.get_config("sentiment")
    assert config["model"]["rnn"] == {
        "cell": "lstm", "units": 128, "layers": 1, "dropout": 0.0, "bidirectional": False,
    }
    assert config["compile"]["optimizer"] == "adam"


def test_preset_is_merged_over_the_defaults():
    config = seqzoo.get_config("sentiment", preset="tiny")
    assert config["model"]["rnn"]["units"] == 8
    assert config["model"]["rnn"]["cell"] == "lstm"  # untouched by the preset


def test_override_by_leaf_name_dotted_ending_full_path_and_dict():
    config = seqzoo.get_config(
        "sentiment", preset="tiny", units=32,
        **{"rnn.layers": 2, "model.embedding.dim": 12}, rnn={"cell": "gru"},
    )
    assert config["model"]["rnn"]["units"] == 32
    assert config["model"]["rnn"]["layers"] == 2
    assert config["model"]["rnn"]["cell"] == "gru"
    assert config["model"]["embedding"]["dim"] == 12


def test_returned_configs_do_not_share_state():
    seqzoo.get_config("sentiment")["model"]["rnn"]["units"] = -1
    assert seqzoo.get_config("sentiment")["model"]["rnn"]["units"] == 128


def test_int_is_accepted_for_a_float_key():
    assert seqzoo.get_config("sentiment", learning_rate=1)["compile"]["learning_rate"] == 1.0


@pytest.mark.parametrize("overrides, message", [
    ({"unitz": 3}, "unknown config key 'unitz'; did you mean 'units'?"),
    ({"rnn": {"celll": "gru"}}, "unknown config key 'model.rnn.celll'; did you mean 'model.rnn.cell'?"),
    ({"dropout": 0.1},
     "config key 'dropout' is ambiguous; use one of model.embedding.dropout, model.rnn.dropout"),
    ({"units": "many"}, "config key 'model.rnn.units' expects int, got str ('many')"),
    ({"bidirectional": 1}, "config key 'model.rnn.bidirectional' expects bool, got int (1)"),
])
def test_bad_overrides_name_the_key_and_what_is_right(overrides, message):
    with pytest.raises(ValueError) as err:
        seqzoo.get_config("sentiment", **overrides)
    assert str(err.value) == message


def test_unknown_preset_names_the_closest():
    with pytest.raises(ValueError, match=r"unknown preset 'tinny' for 'sentiment'; did you mean 'tiny'\?"):
        seqzoo.get_config("sentiment", preset="tinny")


def test_cli_assignments_parse_values_as_yaml():
    assert parse_assignments(["rnn.units=64", "cell=gru", "bidirectional=true", "lr=1e-3"]) == {
        "rnn.units": 64, "cell": "gru", "bidirectional": True, "lr": 1e-3,
    }


def test_cli_assignment_without_equals_is_an_error():
    with pytest.raises(ValueError, match="--set expects KEY=VALUE, got 'units'"):
        parse_assignments(["units"])
