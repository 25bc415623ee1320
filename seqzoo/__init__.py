"""seqzoo: the classic sequence models, built, trained and exported the same way.

```python
import seqzoo
seqzoo.list_models()                              # ['sentiment', ...]
model = seqzoo.build("sentiment", preset="tiny")  # a compiled keras.Model
```

Names load on first use, so `import seqzoo` (and the `seqzoo` command's start)
does not import TensorFlow until something needs it.
"""

import importlib

__version__ = "0.1.0"

_FUNCTIONS = {
    "build": "seqzoo.zoo",
    "get_config": "seqzoo.zoo",
    "list_models": "seqzoo.registry",
    "train": "seqzoo.training",
    "load_run": "seqzoo.training",
    "evaluate_run": "seqzoo.training",
    "export": "seqzoo.exporters",
    "export_run": "seqzoo.exporters",
    "translate": "seqzoo.tasks.translation",
    "caption": "seqzoo.tasks.captioning",
    "cells": "seqzoo.interpret",
    "plot_attention": "seqzoo.plots",
    "plot_caption_attention": "seqzoo.plots",
    "UserError": "seqzoo.errors",
}
_SUBPACKAGES = ("data", "decoding", "embeddings", "exporters", "layers", "models", "tasks", "text",
                "training")

__all__ = [*_FUNCTIONS, *_SUBPACKAGES]


def __getattr__(name: str):
    if name in _FUNCTIONS:
        value = getattr(importlib.import_module(_FUNCTIONS[name]), name)
    elif name in _SUBPACKAGES:
        value = importlib.import_module(f"seqzoo.{name}")
    else:
        raise AttributeError(f"module 'seqzoo' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
