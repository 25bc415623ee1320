"""`seqzoo paper`: the TCN vs LSTM / GRU / RNN table of Bai, Kolter and Koltun (2018), rerun.

The tasks are generated as locuslab/TCN generates them (`tasks`); the TCN uses the paper's
hyperparameters, the recurrent baselines are sized to its parameter count and train with
their own learning rate and gradient clipping (`models.TUNED`, picked by `tuning.tune`).
Each (task, model) run is resumable under a budget (`runs`); `report` renders the table.
`quick` shrinks sequence lengths, data and epochs so every task finishes in minutes on a
laptop CPU: its numbers show the trend, not the paper's values.

This is the project's own experiment, kept beside the library as keras-tcn keeps its tasks:
nothing in the library imports it.
"""

from seqzoo.paper.models import TUNED, build, compiled, matched_width, nearest_width, training_settings
from seqzoo.paper.report import markdown, parse_duration, write_results
from seqzoo.paper.runs import (
    ZOO_ROWS,
    PaperRun,
    device,
    read_run,
    report,
    run_jsb,
    run_name,
    run_task,
    run_zoo_row,
)
from seqzoo.paper.tasks import (
    MODELS,
    PUBLISHED,
    QUICK,
    TASKS,
    PaperTask,
    adding_problem,
    copy_memory,
    mnist,
    task_data,
    test_data,
    validation_split,
)
from seqzoo.paper.tuning import (
    TUNING_GRID,
    TUNING_STEPS,
    TuningPoint,
    chosen,
    tune,
    tuning_markdown,
    write_tuning,
)

__all__ = [
    "MODELS", "PUBLISHED", "QUICK", "TASKS", "TUNED", "TUNING_GRID", "TUNING_STEPS", "PaperRun", "PaperTask",
    "TuningPoint", "adding_problem", "build", "chosen", "compiled", "copy_memory", "device", "markdown",
    "matched_width", "mnist", "nearest_width", "parse_duration", "read_run", "report", "run_jsb", "run_name",
    "run_zoo_row", "ZOO_ROWS", "run_task", "task_data", "test_data", "training_settings", "tune",
    "tuning_markdown", "validation_split",
    "write_results", "write_tuning",
]
