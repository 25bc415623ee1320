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


@pytest.mark.parametrize("name", seqzoo.list_models())
def test_every_key_of_every_shipped_config_has_a_rule_and_its_presets_pass_it(name):
    from seqzoo.config import load_yaml
    from seqzoo.schema import rule_for

    assert [path for path in _leaves(load_yaml(name)["defaults"]) if rule_for(path) is None] == []
    for preset in [None, *load_yaml(name).get("presets", {})]:
        seqzoo.get_config(name, preset=preset)  # raises if a shipped value breaks its rule


def _leaves(config, prefix=""):
    for key, value in config.items():
        if isinstance(value, dict):
            yield from _leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}"


@pytest.mark.parametrize("overrides, message", [
    ({"units": 0}, "config key 'model.rnn.units' must be at least 1, got 0"),
    ({"rnn.dropout": 1.5}, "config key 'model.rnn.dropout' must be in [0, 1), got 1.5"),
    ({"embedding.dropout": -0.1}, "config key 'model.embedding.dropout' must be in [0, 1), got -0.1"),
    ({"learning_rate": -1}, "config key 'compile.learning_rate' must be greater than 0, got -1.0"),
    ({"learning_rate": float("nan")}, "config key 'compile.learning_rate' must be a finite number, got nan"),
    ({"epochs": 0}, "config key 'train.epochs' must be at least 1, got 0"),
    ({"validation_fraction": 1.0}, "config key 'train.validation_fraction' must be in (0, 1), got 1.0"),
    ({"seed": -1}, "config key 'train.seed' must be in [0, 4294967295], got -1"),
    ({"max_tokens": 2}, "config key 'text.max_tokens' must be at least 3, got 2"),
    ({"units": 2**40}, "config key 'model.rnn.units' must be in [1, 2147483647], got 1099511627776"),
    ({"units": None}, "config key 'model.rnn.units' needs a value (null is not allowed)"),
    ({"units": True}, "config key 'model.rnn.units' expects int, got bool (True)"),
    ({"rnn": 3}, "config key 'model.rnn' is a section: give a dict, or set one of its keys "
                 "(model.rnn.cell=...)"),
    ({"units": {"a": 1}}, "config key 'model.rnn.units' is a value, not a section; got {'a': 1}"),
    ({"metrics": ["accuracy", 3]}, "config key 'compile.metrics[1]' expects str, got int (3)"),
    ({"precision": "mixed_f16"}, "config key 'train.precision' has no choice 'mixed_f16'; did you mean "
                                 "'mixed_float16'?"),
    ({"strategy": "mirored"}, "config key 'train.strategy' has no choice 'mirored'; did you mean "
                              "'mirrored'?"),
    ({"strategy": "tpu"}, "config key 'train.strategy' has no choice 'tpu'; valid: auto, mirrored, "
                          "multi_worker, one_device"),
])
def test_values_out_of_their_declared_range_are_refused_naming_the_key(overrides, message):
    with pytest.raises(ValueError) as err:
        seqzoo.get_config("sentiment", **overrides)
    assert str(err.value) == message


def test_a_tcn_dilation_below_one_is_refused_with_its_position():
    with pytest.raises(ValueError, match=r"config key 'model.tcn.dilations\[1\]' must be at least 1, got 0"):
        seqzoo.get_config("tcn", dilations=[1, 0])


def test_cli_assignments_of_nan_and_inf_are_refused():
    with pytest.raises(ValueError, match="'compile.learning_rate' must be a finite number, got inf"):
        seqzoo.get_config("sentiment", **parse_assignments(["learning_rate=inf"]))


def test_a_model_too_large_for_this_machine_is_refused_before_a_weight_is_allocated():
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ValueError) as err:
        seqzoo.build("sentiment", units=1_000_000, dim=100_000)
    message = str(err.value)
    assert message.startswith("model 'sentiment' would have 4,402,006,000,002 parameters, about 65,595 GiB")
    assert message.endswith("its largest sizes: model.rnn.units=1,000,000, model.embedding.dim=100,000, "
                            "text.max_tokens=20,000")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KiB: nothing allocated


def test_the_planned_parameter_count_is_the_built_models():
    from seqzoo.registry import get_entry
    from seqzoo.zoo import planned_parameters

    for name in ("sentiment", "seq2seq_attn", "transformer_lm", "tcn"):
        config = seqzoo.get_config(name, preset="tiny")
        arguments = {"vocab_size": config["text"]["max_tokens"], **config["model"]}
        assert planned_parameters(get_entry(name).factory, arguments) == \
            seqzoo.build(name, preset="tiny").count_params()


@pytest.mark.parametrize("overrides, message", [
    ({"loss": "hinge_typo"}, "unknown loss 'hinge_typo': Keras has no loss of that name"),
    ({"metrics": ["acuracy"]}, "unknown metric 'acuracy': Keras has no metric of that name"),
    ({"optimizer": "adamm"}, "unknown optimizer 'adamm'; did you mean 'adam'?"),
])
def test_compile_names_keras_does_not_know_are_refused(overrides, message):
    with pytest.raises(ValueError) as err:
        seqzoo.build("sentiment", preset="tiny", **overrides)
    assert str(err.value) == message
