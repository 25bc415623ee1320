"""`seqzoo list`, `seqzoo config` and `seqzoo demo`: the zoo's entries, their configs, and a first run."""

from __future__ import annotations

from pathlib import Path

from seqzoo.cli.common import add_config_options
from seqzoo.cli.exports import export_command
from seqzoo.cli.training import train_command


def add_commands(commands) -> None:
    """list, config, demo"""
    command = commands.add_parser("list", help="list the zoo's entries")
    command.set_defaults(run=_list)

    command = commands.add_parser("config", help="print an entry's merged config as YAML")
    command.add_argument("name")
    add_config_options(command)
    command.set_defaults(run=_config, tensorflow=False)

    command = commands.add_parser("demo", help="train an entry briefly, export it and show it answering "
                                  "(default: the date translator)")
    command.add_argument("--entry", default="seq2seq_attn", help="the entry (default: %(default)s; --list)")
    command.add_argument("--list", action="store_true", help="list the entries and what each demo shows")
    command.add_argument("--base", default="saved_models", help="export base (default: %(default)s)")
    command.add_argument("--epochs", type=int, help="default: the demo's own")
    command.set_defaults(run=_demo)


def _list(args) -> None:
    import seqzoo

    for name in seqzoo.list_models():
        print(name)


def _config(args) -> None:
    import yaml

    from seqzoo.config import entry_config, parse_assignments

    config = entry_config(args.name, args.preset, parse_assignments(args.assignments))
    print(yaml.safe_dump(config, sort_keys=False), end="")


def _demo(args) -> None:
    import time

    from seqzoo.cli import build_parser
    from seqzoo.demo import demo_for, demos
    from seqzoo.exporters import ExportedModel

    if args.list:
        for name, task, shows in demos():
            print(f"{name:18s} {task:15s} {shows}")
        return
    demo = demo_for(args.entry)
    started = time.perf_counter()
    print(f"== training {args.entry} ({demo.preset} preset) on its offline data")
    # The commands' own parser gives every option its default, so a new option cannot be missed here.
    parser = build_parser()
    run_dir = train_command(parser.parse_args(["train", args.entry, "--preset", demo.preset,
                                               "--epochs", str(args.epochs or demo.epochs)]))
    print("== exporting")
    from seqzoo.exporters.web.runtime import runtime_missing

    web = runtime_missing() is None
    path = export_command(parser.parse_args(["export", str(run_dir), "--base", str(args.base),
                                             *(["--web"] if web else [])]))
    for line in demo.show(ExportedModel(path), Path.cwd()):
        print(line)
    print(f"== done in {time.perf_counter() - started:.0f} s: the run in {run_dir}, the export in {path}")
    print(f"serve it: tensorflow_model_server --model_config_file={Path(args.base).resolve()}/models.config")
    if web and (path / "web").is_dir():
        print(f"try it in a browser: seqzoo web {path} --open")
    elif not web:
        print(f"for a page that runs it in a browser: seqzoo web --fetch-runtime, then seqzoo export "
              f"{run_dir} --web")
