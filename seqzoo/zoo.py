"""Config + factory + compile: what `seqzoo.build` does."""

from __future__ import annotations

from typing import Any

import keras

from seqzoo import config as config_lib
from seqzoo.embeddings.pretrained import pretrained_from_config
from seqzoo.errors import UserError, check_choice
from seqzoo.layers import Pretrained
from seqzoo.registry import get_entry
from seqzoo.text import Vectorizer

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


def build(
    name: str, preset: str | None = None, *, vectorizer: Vectorizer | None = None, **overrides: Any
) -> keras.Model:
    """Builds a zoo entry as a Keras model compiled with its config's defaults.

    Args:
        name: str. A name from `seqzoo.list_models()`.
        preset: str. A size preset (`tiny`, `small`, `base`); the defaults are `base`.
        vectorizer: Vectorizer. The adapted vectorizer the model will read ids
            from: sizes the embedding to its vocabulary, and is what pretrained
            `embeddings` are aligned to.
        **overrides: config values, by dotted path or unambiguous ending
            (`units=64`, `rnn={"cell": "gru"}`, `**{"model.rnn.layers": 2}`).

    Example:
    ```python
    model = seqzoo.build("sentiment", cell="gru", units=64, num_classes=2)
    model = seqzoo.build("sentiment", vectorizer=vectorizer,
                         embeddings={"path": "glove.6B.100d.txt", "trainable": "oov_only"})
    ```
    """
    config = get_config(name, preset, **overrides)
    if vectorizer is not None:
        config["text"]["max_tokens"] = vectorizer.vocabulary_size()
    pretrained = None
    if config.get("embeddings", {}).get("path") is not None:
        if vectorizer is None:
            raise UserError("pretrained embeddings are aligned to a vocabulary: "
                            "pass vectorizer= (an adapted seqzoo.text.Vectorizer)")
        pretrained, _ = pretrained_from_config(config["embeddings"], vectorizer)
    return build_from_config(name, config, pretrained)


def build_from_config(name: str, config: dict, pretrained: Pretrained | None = None) -> keras.Model:
    """Builds and compiles a zoo entry from a merged config (as `get_config` gives)."""
    model = get_entry(name).factory(
        vocab_size=config["text"]["max_tokens"], pretrained=pretrained, **config["model"]
    )
    compile_model(model, **config["compile"])
    return model


def compile_model(
    model: keras.Model, *, optimizer: str, learning_rate: float, loss: str, metrics: list[str]
) -> None:
    """Compiles with a named Keras optimizer at the given learning rate."""
    check_choice("optimizer", optimizer, OPTIMIZERS)
    optimizer = keras.optimizers.get({"class_name": optimizer, "config": {"learning_rate": learning_rate}})
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
