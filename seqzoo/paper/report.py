"""The paper's table: markdown beside the published figures, and the files it is written to."""

from __future__ import annotations

import re
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from seqzoo.errors import UserError
from seqzoo.files import write_json, write_text

if TYPE_CHECKING:
    from seqzoo.paper.runs import PaperRun

def markdown(runs: list[PaperRun], quick: bool) -> str:
    """Task, metric, then each model: ours and as published, the epochs and wall time it took, where,
    and whether it is finished (a run stopped at its budget shows its best checkpoint's figure so far;
    one without a checkpoint, its best validation loss)."""
    lines = ["| task | T | metric | model | parameters | ours | published | epochs | wall time | device | "
             "status |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        metric = {"mse": "test MSE", "loss": "test loss", "accuracy": "test accuracy %",
                  "nll": "test NLL per frame", "bpc": "test bits per character",
                  "ppl": "test perplexity"}[r.metric]
        fmt = {"accuracy": "{:.1f}", "nll": "{:.2f}", "bpc": "{:.2f}",
               "ppl": "{:.1f}"}.get(r.metric, "{:.3g}").format
        ours = fmt(r.value) if r.value is not None else (
            f"- (validation loss {min(r.history):.3g})" if r.history else "-")
        epochs = f"{r.epochs} of {r.max_epochs}" if r.max_epochs else str(r.epochs)
        parameters = f"{r.parameters:,}" if r.parameters else "-"  # an unfinished run's is not kept
        lines.append(f"| {r.task} | {r.T or '-'} | {metric} | {r.model} | {parameters} | {ours} "
                     f"| {fmt(r.published)} | {epochs} | {_duration(r.seconds)} | {r.device} | {r.status} |")
    if quick:
        lines.append("\n--quick: shorter sequences, less data and fewer epochs than the paper; "
                     "compare the trend, not the values.")
    return "\n".join(lines) + "\n"


def _duration(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.1f} min" if seconds >= 60 \
        else f"{seconds:.0f} s"


def parse_duration(text: str) -> float:
    """'2h', '90m', '45s', '1h30m' or plain seconds -> seconds; UserError otherwise."""
    number = r"(\d+(?:\.\d+)?)"
    match = re.fullmatch(rf"\s*(?:{number}h)?\s*(?:{number}m)?\s*(?:{number}s?)?\s*", text)
    if not text.strip() or match is None:
        raise UserError(f"--budget takes a duration like 2h, 90m, 1h30m or 3600s, got {text!r}")
    hours, minutes, seconds = (float(group or 0) for group in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total <= 0:
        raise UserError(f"--budget must be more than 0 s, got {text!r}")
    return total


def write_results(runs: list[PaperRun], out: str | Path, quick: bool) -> tuple[Path, Path]:
    """`<out>/paper.md` (the table) and `<out>/paper.json` (every run), written atomically."""
    out = output_folder(out)
    table = write_text(out / "paper.md", markdown(runs, quick))
    write_json(out / "paper.json", [asdict(r) for r in runs])
    return table, out / "paper.json"


def output_folder(out: str | Path) -> Path:
    """`out`, created if need be; UserError when it cannot be."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"cannot create '{out}': {err.strerror}") from None
    return out
