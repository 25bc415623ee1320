"""`seqzoo train`, `seqzoo evaluate` and `seqzoo compare`: training runs and their figures."""

from __future__ import annotations

import json
import os
from pathlib import Path

from seqzoo.cli.common import add_config_options

# `seqzoo compare --task`: the entries compared by default.
COMPARED = {"sentiment": "sentiment,bilstm,deep_rnn,tcn,transformer",
            "lm": "char_lm,word_lm,tcn_lm,transformer_lm",
            "tagging": "bilstm_tagger,deep_rnn_tagger,tcn_tagger"}
COMPARED_TASKS = {"sentiment": "classification", "lm": "language_model", "tagging": "tagging"}


def add_commands(commands) -> None:
    """train, evaluate, compare"""
    command = commands.add_parser("train", help="train an entry and write a run directory")
    command.add_argument("name")
    command.add_argument("--data", help="the entry's data: a file, a folder or a glob (default: its task's "
                         "offline corpus); language models also take python_stdlib, ptb_char, ptb_word")
    add_config_options(command)
    command.add_argument("--epochs", type=int)
    command.add_argument("--budget", help="wall-clock time for this call, like 2h or 90m: training stops "
                         "after the last epoch that fits, and the same command continues it")
    command.add_argument("--out", help="run directory (default: runs/NAME, next free)")
    command.add_argument("--text-column", help="CSV/TSV column of the texts (default: text)")
    command.add_argument("--label-column", help="CSV/TSV column of the labels (default: label)")
    command.add_argument("--images", help="captioners: the folder the caption file's image paths are "
                         "relative to (default: the caption file's folder)")
    command.add_argument("--strategy", help="auto | one_device | mirrored | multi_worker (default: the "
                         "config's train.strategy; auto: mirrored when this host has several GPUs)")
    command.add_argument("--precision", help="float32 | mixed_float16 | mixed_bfloat16 (default: the "
                         "config's train.precision; exports are float32 either way)")
    command.add_argument("--workers", help="multi_worker without TF_CONFIG: host:port of every worker, "
                         "comma-separated, the same list on each")
    command.add_argument("--task-index", type=int, help="with --workers: this worker's place in the list")
    command.set_defaults(run=train_command)

    command = commands.add_parser("evaluate", help="a run's metrics on a held-out file")
    command.add_argument("run_dir")
    command.add_argument("--data", help="held-out data (default: the run's own held-out split)")
    command.set_defaults(run=_evaluate)

    command = commands.add_parser("compare", help="entries of one task at matched size and budget")
    command.add_argument("--task", choices=list(COMPARED), required=True,
                         help="sentiment: the classifiers on Pang & Lee; lm: the LMs on Lee news; "
                         "tagging: the taggers on Lee punctuation restoration")
    command.add_argument("--models", help="comma-separated entries (default: all of the task's)")
    command.add_argument("--data", help="the task's data (default: its offline corpus)")
    command.add_argument("--budget", type=float, default=30.0, help="training seconds per entry")
    command.add_argument("--params", type=int, help="target parameters (default: the first "
                         "entry's small preset)")
    command.set_defaults(run=_compare)


def train_command(args) -> Path:
    import seqzoo
    from seqzoo.config import parse_assignments
    from seqzoo.errors import UserError
    from seqzoo.training.distribute import workers_config

    read_options = {key: value for key, value in
                    (("text_column", args.text_column), ("label_column", args.label_column),
                     ("images", args.images)) if value}
    overrides = parse_assignments(args.assignments)
    callbacks = []
    if args.budget is not None:
        from seqzoo.paper.report import parse_duration
        from seqzoo.training.callbacks import WallClockBudget

        callbacks.append(WallClockBudget(parse_duration(args.budget)))
    if args.workers is not None or args.task_index is not None:
        config = seqzoo.get_config(args.name, args.preset, **overrides)
        strategy = args.strategy or config["train"]["strategy"]
        if strategy != "multi_worker":
            raise UserError("--workers and --task-index describe a cluster: they take --strategy "
                            f"multi_worker (this run's strategy is {strategy})")
        os.environ["TF_CONFIG"] = workers_config(args.workers, args.task_index)
    run_dir = seqzoo.train(
        args.name, args.data, preset=args.preset, overrides=overrides,
        epochs=args.epochs, out=args.out, strategy=args.strategy, precision=args.precision,
        callbacks=callbacks, **read_options,
    )
    if callbacks and callbacks[0].spent:
        print(f"stopped at the budget ({args.budget}); the same command continues {run_dir}")
        return run_dir
    if not (run_dir / "run.json").is_file():
        print(f"worker done; the chief writes {run_dir}")
        return run_dir
    metrics = json.loads((run_dir / "run.json").read_text())["metrics"]
    print(f"run: {run_dir}  " + "  ".join(f"{k}={v:.4f}" for k, v in metrics.items()))
    return run_dir


def _evaluate(args) -> None:
    import seqzoo

    metrics = seqzoo.evaluate_run(args.run_dir, args.data)
    width = max(map(len, metrics), default=0)
    for name, value in metrics.items():
        print(f"{name:{width}s} {value:.4f}")


def _compare(args) -> None:
    from seqzoo.compare import compare, table
    from seqzoo.errors import UserError
    from seqzoo.registry import get_entry

    names = [name.strip() for name in (args.models or COMPARED[args.task]).split(",") if name.strip()]
    others = [name for name in names if get_entry(name).task != COMPARED_TASKS[args.task]]
    if others:
        raise UserError(f"--task {args.task} compares {COMPARED_TASKS[args.task]} entries; "
                        f"{', '.join(others)} {'is' if len(others) == 1 else 'are'} not one")
    rows = compare(names, args.data, budget=args.budget, parameters=args.params)
    print(table(rows, args.budget))
