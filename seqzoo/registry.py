"""Model name -> factory, filled by the @register decorator in each models/ module."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras

from seqzoo.errors import UserError, did_you_mean

Factory = Callable[..., keras.Model]


@dataclass(frozen=True)
class Entry:
    """A zoo entry: its name, the factory that builds it, and the task it solves.

    `task` names the data, training and serving behaviour the entry shares with
    others of its kind (see `seqzoo.tasks`); `generator`, for an entry that generates, the
    `seqzoo.decoding.Generator` class that steps its model.
    """

    name: str
    factory: Factory
    task: str
    generator: type | None = None


_REGISTRY: dict[str, Entry] = {}


def register(name: str, *, task: str, generator: type | None = None) -> Callable[[Factory], Factory]:
    """Class or function decorator adding a factory to the zoo under `name`.

    The factory takes the merged config's top-level sections as keyword arguments
    and returns an uncompiled `keras.Model`; `seqzoo.build` compiles it.

    Example:
    ```python
    @register("sentiment", task="classification")
    def sentiment(text, embedding, rnn, pooling, num_classes, **_): ...

    @register("char_lm", task="language_model", generator=RNNGenerator)
    def char_lm(**config): ...
    ```
    """

    def decorator(factory: Factory) -> Factory:
        if name in _REGISTRY:
            raise RuntimeError(f"model {name!r} is registered twice")
        _REGISTRY[name] = Entry(name=name, factory=factory, task=task, generator=generator)
        return factory

    return decorator


def list_models() -> list[str]:
    """The registered model names, sorted."""
    _load_models()
    return sorted(_REGISTRY)


def get_entry(name: str) -> Entry:
    """The registry entry for `name`; UserError naming the closest names if unknown."""
    _load_models()
    if name not in _REGISTRY:
        raise UserError(f"unknown model {name!r}{did_you_mean(name, _REGISTRY)}")
    return _REGISTRY[name]


def _load_models() -> None:
    import seqzoo.models  # noqa: F401  (importing the modules runs their @register)
