"""zoo_configs/<name>.yaml -> a validated plain dict, with presets and overrides.

A config file holds `defaults:` (the `base` size) and `presets:` (`tiny`, `small`,
`base`), each a partial config merged over the defaults. Overrides name a key by
its full dotted path (`model.rnn.units`) or by any unambiguous ending of it
(`rnn.units`, `units`); a section takes a nested dict (`rnn={"units": 64}`).
"""

from __future__ import annotations

import copy
from importlib import resources
from typing import Any

import yaml

from seqzoo.errors import UserError, did_you_mean
from seqzoo.schema import validate

SHARED = "training"  # zoo_configs/training.yaml: the `train` settings every entry shares


def load_yaml(name: str) -> dict[str, Any]:
    """The parsed zoo_configs/<name>.yaml, shipped inside the package."""
    path = resources.files("seqzoo.zoo_configs") / f"{name}.yaml"
    if not path.is_file():
        raise RuntimeError(f"model {name!r} is registered but has no zoo_configs/{name}.yaml")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def entry_names() -> list[str]:
    """The entries that have a zoo_configs file, sorted: the registry's names (a test keeps them so),
    known without importing the models, so without TensorFlow."""
    return sorted(path.name.removesuffix(".yaml") for path in resources.files("seqzoo.zoo_configs").iterdir()
                  if path.name.endswith(".yaml") and path.name != f"{SHARED}.yaml")


def entry_config(name: str, preset: str | None = None, overrides: dict[str, Any] | None = None) -> dict:
    """`resolve` for an entry named by its zoo_configs file (`seqzoo config`: no TensorFlow to wait for)."""
    names = entry_names()
    if name not in names:
        raise UserError(f"unknown model {name!r}{did_you_mean(name, names)}")
    return resolve(name, preset, overrides)


def resolve(name: str, preset: str | None = None, overrides: dict[str, Any] | None = None) -> dict:
    """The merged config for `name`: defaults, then the preset, then the overrides, every value
    checked against its declared kind and range (`seqzoo.schema`)."""
    spec = load_yaml(name)
    config = copy.deepcopy(spec["defaults"])
    if "train" in config:  # the settings every entry shares, under the entry's own
        config["train"] = {**load_yaml(SHARED)["defaults"]["train"], **config["train"]}
    presets = spec.get("presets", {})
    if preset is not None:
        if preset not in presets:
            raise UserError(f"unknown preset {preset!r} for {name!r}{did_you_mean(preset, presets)}")
        _merge(config, presets[preset] or {}, prefix="")
    for key, value in (overrides or {}).items():
        _merge_at(config, locate(config, key), value, prefix="")
    return validate(config)


def parse_assignments(assignments: list[str], flag: str = "--set") -> dict[str, Any]:
    """['rnn.units=64', 'cell=gru'] -> {'rnn.units': 64, 'cell': 'gru'} (values as YAML, so JSON too);
    `flag` names the option in errors."""
    parsed = {}
    for item in assignments:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise UserError(f"{flag} expects KEY=VALUE, got {item!r}")
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError as err:
            reason = getattr(err, "problem", None) or str(err).splitlines()[0]
            raise UserError(f"{flag} {key}: cannot parse value {raw!r}: {reason}") from None
        parsed[key.strip()] = _float_or_self(value)
    return parsed


def _float_or_self(value: Any) -> Any:
    """YAML 1.1 reads '1e-3' as a string; a user writing it means a number."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    return value


def _paths(config: dict, prefix: str = "") -> list[str]:
    """Every dotted key path in config, sections and leaves alike."""
    out = []
    for key, value in config.items():
        path = f"{prefix}{key}"
        out.append(path)
        if isinstance(value, dict):
            out.extend(_paths(value, path + "."))
    return out


def locate(config: dict, key: str, prefix: str = "") -> list[str]:
    """The path a user's key refers to: a full dotted path, or a unique ending of one.

    Raises UserError naming the closest keys, or the candidates when ambiguous.
    """
    paths = _paths(config)
    if key in paths:
        return key.split(".")
    matches = [p for p in paths if p.endswith("." + key)]
    if len(matches) == 1:
        return matches[0].split(".")
    if len(matches) > 1:
        choices = ", ".join(prefix + m for m in matches)
        raise UserError(f"config key {key!r} is ambiguous; use one of {choices}")
    where = prefix + key
    full = _paths(config, prefix)
    leaves = {p.rsplit(".", 1)[-1] for p in full}
    raise UserError(f"unknown config key {where!r}{did_you_mean(where, [*full, *leaves])}")


def _merge_at(config: dict, path: list[str], value: Any, prefix: str) -> None:
    for part in path[:-1]:
        config, prefix = config[part], f"{prefix}{part}."
    _merge(config, {path[-1]: value}, prefix)


def _merge(config: dict, update: dict, prefix: str) -> None:
    """Merges update into config in place; a section takes a dict, a value anything but one
    (`seqzoo.schema.validate` then checks each value)."""
    for key, value in update.items():
        if key not in config:
            _merge_at(config, locate(config, key, prefix), value, prefix)
            continue
        where = prefix + key
        if value is None and isinstance(config[key], dict) and _nullable_section(where):
            config[key] = None  # a section that may be off (the recognizer's rnn when a tcn is given)
        elif isinstance(config[key], dict):
            if not isinstance(value, dict):
                raise UserError(f"config key {where!r} is a section: give a dict, or set one of its "
                                f"keys ({where}.{next(iter(config[key]), 'key')}=...)")
            _merge(config[key], value, where + ".")
        elif isinstance(value, dict):
            if config[key] is None and _nullable_section(where):
                config[key] = value
                continue
            raise UserError(f"config key {where!r} is a value, not a section; got {value!r}")
        else:
            config[key] = value


def _nullable_section(where: str) -> bool:
    """Whether the schema lets the section at `where` be null (`model.rnn`, `model.tcn`)."""
    from seqzoo.schema import rule_for

    rule = rule_for(where)
    return rule is not None and rule.kind is dict and rule.nullable
