"""Config + factory + compile: what `seqzoo.build` does."""

from __future__ import annotations

from typing import Any

import keras

from seqzoo import config as config_lib
from seqzoo.errors import check_choice
from seqzoo.registry import get_entry

# Names keras.optimizers.get understands: its optimizer classes, lowercased, less the
# base class and the wrappers that need another optimizer inside.
_NOT_STANDALONE = {"optimizer", "lossscaleoptimizer", "multioptimizer"}
OPTIMIZERS = sorted(
    name.lower() for name, value in vars(keras.optimizers).items()
    if isinstance(value, type) and issubclass(value, keras.optimizers.Optimizer)
    and name.lower() not in _NOT_STANDALONE
)


def get_config(name: str, preset: str | None = None, **overrides: Any) -> dict:
    """The merged config of a zoo entry as a plain dict: defaults, preset, overrides.

    Example:
    ```python
    seqzoo.get_config("sentiment", preset="tiny", units=32)["model"]["rnn"]["units"]  # 32
    ```
    """
    get_entry(name)
    return config_lib.resolve(name, preset, overrides)


def build(name: str, preset: str | None = None, **overrides: Any) -> keras.Model:
    """Builds a zoo entry as a Keras model compiled with its config's defaults.

    Args:
        name: str. A name from `seqzoo.list_models()`.
        preset: str. A size preset (`tiny`, `small`, `base`); the defaults are `base`.
        **overrides: config values, by dotted path or unambiguous ending
            (`units=64`, `rnn={"cell": "gru"}`, `**{"model.rnn.layers": 2}`).

    Example:
    ```python
    model = seqzoo.build("sentiment", cell="gru", units=64, num_classes=2)
    model.fit(token_ids, labels, epochs=3)
    ```
    """
    return build_from_config(name, get_config(name, preset, **overrides))


def build_from_config(name: str, config: dict) -> keras.Model:
    """Builds and compiles a zoo entry from an already merged config (as `get_config` gives)."""
    model = get_entry(name).factory(vocab_size=config["text"]["max_tokens"], **config["model"])
    compile_model(model, **config["compile"])
    return model


def compile_model(
    model: keras.Model, *, optimizer: str, learning_rate: float, loss: str, metrics: list[str]
) -> None:
    """Compiles with a named Keras optimizer at the given learning rate."""
    check_choice("optimizer", optimizer, OPTIMIZERS)
    optimizer = keras.optimizers.get({"class_name": optimizer, "config": {"learning_rate": learning_rate}})
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
