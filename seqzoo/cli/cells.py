"""`seqzoo cells`: what each cell of a character language model learned, as a table and pictures."""

from __future__ import annotations

import json
import os
from pathlib import Path


def add_commands(commands) -> None:
    """cells"""
    command = commands.add_parser("cells", help="find the cells of a character LM that track strings, "
                                  "comments, brackets, columns, ... and draw them")
    command.add_argument("run_dir", help="a finished run of a character LM (char_lm)")
    command.add_argument("--data", help="held-out text: a file, a folder of .py/.txt files or a glob "
                         "(default: the run's own held-out split)")
    command.add_argument("--cell", help="draw this cell only (GROUP:INDEX, e.g. c2:117; LAYER:INDEX is "
                         "the layer's cell state); --out is then an .html or .png file")
    command.add_argument("--feature", action="append", help="a feature to score (repeat for more; "
                         "default: string, comment, if_condition, indentation, bracket_depth, column for "
                         "code, column, word_position, quote for prose)")
    command.add_argument("--out", help="folder for report.md, report.json and a picture per feature "
                         "(default: cells); with --cell, the picture's file (default: cell-GROUP-INDEX.html)")
    command.set_defaults(run=_cells)


def _cells(args) -> None:
    from seqzoo.errors import UserError
    from seqzoo.files import check_target, written
    from seqzoo.interpret import cells, heldout_texts, read_texts
    from seqzoo.interpret.features import feature_names
    from seqzoo.interpret.record import CellRecorder
    from seqzoo.training import load_run

    run = load_run(args.run_dir)
    recorder = CellRecorder(run)  # a run that is no character LM is refused before any reading
    cell = recorder.cell(args.cell) if args.cell else None
    if args.feature:
        feature_names(args.feature, code=True)
    if cell is not None:
        out = Path(args.out or f"cell-{cell[0]}-{cell[1]}.html")
        if out.suffix.lower() not in (".html", ".png"):
            raise UserError(f"--out {out} with --cell is a picture: name an .html or .png file")
        check_target(out)
    else:
        out = Path(args.out or "cells")
        if out.is_file():
            raise UserError(f"--out '{out}' is a file: cells writes a folder (or give --cell for a picture)")
        if out.is_dir() and any(out.iterdir()) and not (out / "report.json").is_file():
            raise UserError(f"--out '{out}' holds files that are not an earlier cells report: choose another")
        existing = next(folder for folder in (out, *out.parents) if folder.exists())
        if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):  # now, not after the run
            raise UserError(f"cannot write '{out}': '{existing}' is not a writable folder")
    documents = run.config["train"].get("documents", "line")
    texts = read_texts(args.data, documents) if args.data else heldout_texts(run)
    report = cells(run, texts, args.feature, verbose=1)
    print(f"{report.characters} characters in {report.texts} text{'s' if report.texts > 1 else ''}")
    print(report.table())
    if cell is not None:
        name = f"{cell[0]}:{cell[1]}"
        (report.png if out.suffix.lower() == ".png" else report.html)(name, out)
        print(f"wrote {out}")
        return
    with written(out / "report.json") as tmp:  # first: it marks the folder as a cells report's
        tmp.write_text(json.dumps(report.to_json(), indent=2) + "\n")
    with written(out / "report.md") as tmp:
        tmp.write_text(report.table() + "\n")
    for name in report.features:
        best = report.best[name]["cell"]
        if best is not None:  # a feature that never varies in the text has no best cell to draw
            report.html(best, out / f"{name}.html")
            report.png(best, out / f"{name}.png")
    print(f"wrote {out}/: report.md, report.json, and for each feature its best cell as .html and .png")
