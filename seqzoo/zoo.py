"""Config + factory + compile: what `seqzoo.build` does."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import keras

from seqzoo import config as config_lib
from seqzoo.embeddings.pretrained import check_embeddings_block, pretrained_from_config
from seqzoo.errors import UserError, check_choice
from seqzoo.layers import Pretrained
from seqzoo.losses import LOSSES
from seqzoo.registry import get_entry
from seqzoo.schema import PRECISIONS
from seqzoo.text import Vectorizer

# Names keras.optimizers.get understands: its optimizer classes, lowercased, less the
# base class and the wrappers that need another optimizer inside.
_NOT_STANDALONE = {"optimizer", "lossscaleoptimizer", "multioptimizer"}
BYTES_PER_TRAINED_PARAMETER = 16  # float32 weights, their gradients and Adam's two moments
OPTIMIZERS = sorted(
    name.lower() for name, value in vars(keras.optimizers).items()
    if isinstance(value, type) and issubclass(value, keras.optimizers.Optimizer)
    and name.lower() not in _NOT_STANDALONE
)


def get_config(name: str, /, preset: str | None = None, **overrides: Any) -> dict:
    """The merged config of a zoo entry as a plain dict: defaults, preset, overrides.

    Example:
    ```python
    seqzoo.get_config("sentiment", preset="tiny", units=32)["model"]["rnn"]["units"]  # 32
    ```
    """
    get_entry(name)
    return config_lib.resolve(name, preset, overrides)


def build(
    name: str, /, preset: str | None = None, *, vectorizer: Vectorizer | None = None, **overrides: Any
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


def build_from_config(name: str, config: dict, pretrained: Pretrained | None = None,
                      precision: str | None = None, stateful_batch: int | None = None) -> keras.Model:
    """Builds and compiles a zoo entry from a merged config (as `get_config` gives), computing in
    `precision` (default: the config's `train.precision`); with `stateful_batch`, its stateful twin
    at that batch (`stateful_twin`: what `train.carry_state` trains).

    The model is first planned without allocating a weight, and one too large to train in
    this machine's memory is refused, naming its size (see `check_size`)."""
    factory = get_entry(name).factory
    if "embeddings" in config:
        check_embeddings_block(config["embeddings"])
    # Entries that read text get its vocabulary size; pretrained vectors only when there are some.
    arguments = {**({"vocab_size": config["text"]["max_tokens"]} if "text" in config else {}),
                 **config["model"], **({"pretrained": pretrained} if pretrained is not None else {})}
    check_size(name, config, planned_parameters(factory, arguments))
    train = config.get("train", {})
    with dtype_policy(precision or train.get("precision", "float32")):
        model = factory(**arguments)
        if stateful_batch is not None:
            model = stateful_twin(model, stateful_batch)
        compile_model(model, **config["compile"], jit_compile=train.get("jit_compile", False))
    return model


def recurrent_layers(model: keras.Model) -> list[keras.layers.RNN]:
    return [layer for layer in model.layers if isinstance(layer, keras.layers.RNN)]


def stateful_twin(model: keras.Model, batch: int) -> keras.Model:
    """`model` (one input [batch, time, ...]) with every recurrent layer stateful, at a fixed
    batch: each call starts from the states the last call ended with, as truncated backpropagation
    through time with carried states trains (`train.carry_state`: Zaremba et al. 2014, Karpathy's
    char-rnn). The same layers and weights (copied; the states are not weights, so the twin's
    weights load into `model`)."""
    if not recurrent_layers(model):
        raise UserError(f"train.carry_state carries recurrent layers' states; {model.name} has none")

    def clone(layer):
        config = layer.get_config()
        if isinstance(layer, keras.layers.RNN):
            config["stateful"] = True
        return layer.__class__.from_config(config)

    (spec,) = model.inputs
    inputs = keras.Input(batch_shape=(batch, *spec.shape[1:]), dtype=spec.dtype, name=spec.name)
    twin = keras.models.clone_model(model, input_tensors=inputs, clone_function=clone)
    twin.set_weights(model.get_weights())
    return twin


@contextlib.contextmanager
def dtype_policy(precision: str) -> Iterator[None]:
    """Layers built inside compute in `precision` (weights stay float32 in the mixed ones);
    every model's `probabilities` layer is float32 whatever the policy."""
    check_choice("precision", precision, PRECISIONS)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def planned_parameters(factory, arguments: dict) -> int:
    """How many weights the factory's model would have, without allocating them: its
    variables are created deferred (`keras.StatelessScope`) and never initialised."""
    from keras.src.backend.common import global_state

    pending = global_state.get_global_attribute("uninitialized_variables", [], set_to_default=True)
    before = len(pending)
    try:
        with keras.StatelessScope(initialize_variables=False):
            return factory(**{k: v for k, v in arguments.items() if k != "pretrained"}).count_params()
    finally:
        del pending[before:]  # forgotten, so no later scope initialises them


def check_size(name: str, config: dict, parameters: int) -> None:
    """UserError when training `parameters` weights would need more than this machine's memory."""
    needed = parameters * BYTES_PER_TRAINED_PARAMETER
    available = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    if needed <= available:
        return
    sizes = sorted(_sizes(config), key=lambda item: -item[1])[:3]
    raise UserError(
        f"model {name!r} would have {parameters:,} parameters, about {needed / 2**30:,.0f} GiB to train "
        f"({BYTES_PER_TRAINED_PARAMETER} bytes each: weights, gradients, Adam's moments), more than this "
        f"machine's {available / 2**30:,.0f} GiB; its largest sizes: "
        + ", ".join(f"{key}={value:,}" for key, value in sizes)
    )


def _sizes(config: dict, prefix: str = "") -> list[tuple[str, int]]:
    """(dotted key, value) of the integer sizes that set a model's weights."""
    found = []
    for key, value in config.items():
        where = f"{prefix}{key}"
        if isinstance(value, dict) and key not in ("train", "decoding", "generation", "compile"):
            found += _sizes(value, where + ".")
        elif type(value) is int and where.startswith(("model.", "text.max_tokens", "target.max_tokens")):
            found.append((where, value))
    return found


def compile_model(
    model: keras.Model, *, optimizer: str, learning_rate: float, loss: str, metrics: list[str],
    global_clipnorm: float | None = None, jit_compile: bool = False,
) -> None:
    """Compiles with a named Keras optimizer at the given learning rate, gradients clipped to
    `global_clipnorm` when set (wrapped for loss scaling by Keras when the model computes in
    mixed_float16). `loss` is a Keras loss name or one of seqzoo's (`LOSSES`)."""
    check_choice("optimizer", optimizer, OPTIMIZERS)
    loss = LOSSES.get(loss, loss)
    for what, name, get in [("loss", loss, keras.losses.get),
                            *[("metric", metric, keras.metrics.get) for metric in metrics]]:
        try:
            get(name)
        except ValueError:
            raise UserError(f"unknown {what} {name!r}: Keras has no {what} of that name") from None
    optimizer = keras.optimizers.get({"class_name": optimizer, "config": {
        "learning_rate": learning_rate, "global_clipnorm": global_clipnorm}})
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics, jit_compile=jit_compile)
