"""Training runs: fit with resumable callbacks into a run directory, and reading runs back."""

from seqzoo.training.callbacks import NonFiniteLoss
from seqzoo.training.run import evaluate_run, train
from seqzoo.training.run_folder import Run, load_run

__all__ = ["NonFiniteLoss", "Run", "evaluate_run", "load_run", "train"]
