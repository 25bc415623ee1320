"""What every config key may hold: its kind and range, declared once and checked in one place.

Keys are looked up by their full dotted path first, then by their last part, so
`dropout` is a probability wherever it sits (`model.rnn.dropout`,
`model.embedding.dropout`, ...) and a new family's keys are checked the moment
its YAML uses a declared name. A key no rule covers is a bug (tests/test_config.py
checks every shipped YAML).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

from seqzoo.errors import UserError, did_you_mean

INT32_MAX = 2**31 - 1  # TensorFlow sizes and ids are int32 in the exported graphs
FLOAT32_MAX = 3.4028234663852886e38
# Bounds that only say "fits the dtype": named in a message only when the value passes them.
_DTYPE_LIMITS = (INT32_MAX, -INT32_MAX - 1, FLOAT32_MAX, -FLOAT32_MAX)


@dataclass(frozen=True)
class Rule:
    """A config value's kind (`int`, `float`, `bool`, `str`, `list`) and, for numbers, its range.

    `above` / `below` are exclusive bounds, `minimum` / `maximum` inclusive ones; floats
    are always finite. A list's items follow `item`.
    """

    kind: type  # int, float, str, bool, list, dict
    minimum: float | None = None
    maximum: float | None = None
    above: float | None = None
    below: float | None = None
    nullable: bool = False
    item: Rule | None = None
    non_empty: bool = False
    choices: tuple[str, ...] | None = None  # the words a `str` may be

    def check(self, where: str, value: Any, what: str = "config key") -> Any:
        """The value (an int given for a float becomes a float), or UserError naming it as
        `what 'where'` (a config key), or as `where` alone when `what` is empty (an argument)."""
        name = f"{what} {where!r}" if what else where
        if value is None:
            if self.nullable:
                return None
            raise UserError(f"{name} needs a value (null is not allowed)")
        value = self._of_kind(name, value)
        if self.kind is list:
            if self.non_empty and not value:
                raise UserError(f"{name} needs at least one item")
            if self.item is None:
                return value
            return [self.item.check(f"{where}[{i}]", v, what) for i, v in enumerate(value)]
        if self.kind in (int, float):
            self._in_range(name, value)
        if self.choices is not None and value not in self.choices:
            raise UserError(f"{name} has no choice {value!r}{did_you_mean(value, self.choices)}")
        return value

    def _of_kind(self, name: str, value: Any) -> Any:
        # NumPy numbers pass as Python ones; a bool is never a number here.
        if self.kind is float and isinstance(value, numbers.Real) and not isinstance(value, bool):
            value = float(value)
        elif self.kind is int and isinstance(value, numbers.Integral) and not isinstance(value, bool):
            value = int(value)
        if type(value) is not self.kind:
            raise UserError(f"{name} expects {self.kind.__name__}, got {type(value).__name__} ({value!r})")
        if self.kind is float and not math.isfinite(value):
            raise UserError(f"{name} must be a finite number, got {value!r}")
        return value

    def _in_range(self, name: str, value: float) -> None:
        low = self.minimum if self.minimum is not None else self.above
        high = self.maximum if self.maximum is not None else self.below
        too_low = low is not None and (value < low if self.minimum is not None else value <= low)
        too_high = high is not None and (value > high if self.maximum is not None else value >= high)
        if not (too_low or too_high):
            return
        low = None if low in _DTYPE_LIMITS and not too_low else low
        high = None if high in _DTYPE_LIMITS and not too_high else high
        if low is not None and high is not None:
            opening, closing = "[(", "])"
            bounds = (f"in {opening[self.minimum is None]}{_number(low)}, "
                      f"{_number(high)}{closing[self.maximum is None]}")
        elif low is not None:
            bounds = f"{'at least' if self.minimum is not None else 'greater than'} {_number(low)}"
        else:
            bounds = f"{'at most' if self.maximum is not None else 'less than'} {_number(high)}"
        raise UserError(f"{name} must be {bounds}, got {value!r}")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else str(value)


def size(minimum: int = 1, maximum: int = INT32_MAX, nullable: bool = False) -> Rule:
    return Rule(int, minimum=minimum, maximum=maximum, nullable=nullable)


STRATEGIES = ("auto", "one_device", "mirrored", "multi_worker")  # seqzoo.training.distribute
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")  # Keras dtype policies
MAX_BEAM_WIDTH = 16  # the widest beam a search runs: the config, the CLI and the exports' checks

PROBABILITY = Rule(float, minimum=0.0, below=1.0)  # dropout: 1 would drop everything
FRACTION = Rule(float, above=0.0, below=1.0)
TEXT = Rule(str)
FLAG = Rule(bool)

RULES: dict[str, Rule] = {
    # Sizes of the model: positive, and small enough for int32 shapes.
    **{key: size() for key in (
        "units", "dim", "filters", "layers", "heads", "attention_units", "ff_dim", "model_dim",
        "target_embedding_dim", "kernel_size", "stacks", "skip_every", "max_positions", "max_length",
        "embedding_dim", "image_size", "residual_channels", "dilation_channels", "skip_channels", "window",
        "components", "max_chars", "max_points", "max_points_limit",
    )},
    "lines": size(nullable=True),
    **{key: size(minimum=0) for key in ("time_masks", "time_mask", "band_masks", "band_mask")},  # SpecAugment
    "mels": size(),
    "speakers": size(minimum=0),  # a WaveNet's speaker ids (0: not conditioned)
    "speaker_dim": size(),
    "conditioning": Rule(str, choices=("none", "speaker")),
    **{key: Rule(float, above=0.0, maximum=1000.0) for key in ("frame_ms", "hop_ms")},
    "max_seconds": Rule(float, above=0.0, maximum=3600.0),
    "speech.alphabet": TEXT,
    "model.tcn": Rule(dict, nullable=True),  # an encoder's section, null when the other is used
    "model.rnn": Rule(dict, nullable=True),
    "alphabet_size": size(minimum=2),  # padding and one character
    "kappa_step": Rule(float, above=0.0, maximum=10.0),
    "bias": Rule(float, minimum=0.0, maximum=100.0),
    "sample_rate": size(minimum=1000, maximum=384_000),  # Hz
    "conv_filters": Rule(list, item=size(), non_empty=True),
    "attention_penalty": Rule(float, minimum=0.0),
    "dilations": Rule(list, item=size(), non_empty=True),
    "input_channels": size(nullable=True),
    "max_tokens": size(minimum=3),  # padding, out-of-vocabulary, one token
    "target.max_tokens": size(minimum=5),  # ... and [START], [END]
    "target_vocab_size": size(minimum=5),
    "num_classes": size(minimum=2),
    "num_tags": size(minimum=2),
    "dropout": PROBABILITY,
    # Training.
    "learning_rate": Rule(float, above=0.0),
    "global_clipnorm": Rule(float, above=0.0, nullable=True),
    "lr_decay": Rule(float, above=0.0, maximum=1.0, nullable=True),
    "lr_decay_after": size(minimum=0),
    "test_fraction": FRACTION,
    "epochs": size(),
    "batch_size": size(),
    "seq_len": size(),
    "patience": size(minimum=0),
    "shuffle_buffer": size(),
    "vocabulary_sample": size(nullable=True),
    "seed": size(minimum=0, maximum=2**32 - 1),  # NumPy's seed range
    "validation_fraction": FRACTION,
    # Decoding and generation.
    "beam_width": size(maximum=MAX_BEAM_WIDTH),
    "length_penalty": Rule(float, minimum=0.0),
    "max_new_tokens": size(minimum=0),
    "max_new_tokens_limit": size(),
    "frames": size(),
    "frames_limit": size(),
    "seconds": Rule(float, above=0.0),
    "seconds_limit": Rule(float, above=0.0),
    "join_timeout": Rule(float, above=0.0),
    "prime_seconds_limit": Rule(float, minimum=0.0),
    # Words: checked against their choices where they are used (check_choice names the closest).
    **{key: TEXT for key in (
        "activation", "cell", "head", "loss", "merge_mode", "normalization", "optimizer", "oov",
        "padding", "pooling", "positions", "tokenizer", "trainable", "format", "backbone", "transpose",
    )},
    "strategy": Rule(str, choices=STRATEGIES),
    "precision": Rule(str, choices=PRECISIONS),
    "documents": Rule(str, choices=("line", "file")),
    "attention": Rule(str, nullable=True),
    "path": Rule(str, nullable=True),
    "backbone_weights": Rule(str, nullable=True),
    "metrics": Rule(list, item=TEXT),
    **{key: FLAG for key in (
        "bidirectional", "lowercase", "strip_punctuation", "norm_first", "residual", "tie_embeddings",
        "project", "trusted", "backbone_trainable", "gate", "jit_compile",
        "carry_state",
    )},
}


def rule_for(path: str) -> Rule | None:
    """The rule of a dotted key path: by the whole path, else by its last part."""
    return RULES.get(path) or RULES.get(path.rsplit(".", 1)[-1])


def validate(config: dict, prefix: str = "") -> dict:
    """Checks every leaf of a merged config in place (ints given for floats become floats).

    Raises UserError naming the first key whose value is of the wrong kind or out of range.
    """
    for key, value in config.items():
        where = f"{prefix}{key}"
        if isinstance(value, dict):
            validate(value, where + ".")
            continue
        rule = rule_for(where)
        if rule is None:
            raise RuntimeError(f"config key {where!r} has no rule in seqzoo/schema.py")
        config[key] = rule.check(where, value)
    return config


def check_record(record: Any, fields: dict[str, Rule], what: str) -> dict:
    """A JSON object seqzoo wrote itself (a model card, run.json, paper_run.json), read back as any
    file a user may have edited: an object holding every field of `fields`, each of its rule (other
    keys are kept as they are). UserError naming `what` and the first field that is wrong."""
    if not isinstance(record, dict):
        raise UserError(f"{what} is not a JSON object")
    for name, rule in fields.items():
        if name not in record:
            raise UserError(f"{what} has no '{name}'")
        try:
            record[name] = rule.check(name, record[name], what="")
        except UserError as err:
            raise UserError(f"{what}: {err}") from None
    return record
