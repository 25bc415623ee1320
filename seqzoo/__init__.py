"""seqzoo: the classic sequence models, built, trained and exported the same way.

```python
import seqzoo
seqzoo.list_models()                              # ['sentiment', ...]
model = seqzoo.build("sentiment", preset="tiny")  # a compiled keras.Model
```
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from seqzoo import data, text  # noqa: E402
from seqzoo.errors import UserError  # noqa: E402
from seqzoo.export import export, export_run  # noqa: E402  (seqzoo.export is the function)
from seqzoo.registry import list_models  # noqa: E402
from seqzoo.train import load_run, train  # noqa: E402
from seqzoo.zoo import build, get_config  # noqa: E402

__all__ = [
    "UserError", "build", "data", "export", "export_run", "get_config", "list_models",
    "load_run", "text", "train",
]
__version__ = "0.1.0"
