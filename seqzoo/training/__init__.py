"""Training runs: fit with resumable callbacks into a run directory, and reading runs back."""

from seqzoo.training.callbacks import NonFiniteLoss
from seqzoo.training.run import Run, evaluate_run, load_run, train

__all__ = ["NonFiniteLoss", "Run", "evaluate_run", "load_run", "train"]
