"""`seqzoo.cells` and `seqzoo cells`: what each cell of a character language model learned (Karpathy,
Johnson and Fei-Fei 2015, "Visualizing and Understanding Recurrent Networks").

Every cell's value is recorded over a held-out text (`record`), set against features computed from
the text itself (`features`: strings, comments, brackets, indentation, columns, ...), and scored
(`statistics`): the best single cell of each feature, and a linear probe over each layer's cells.
Pictures colour each character by a cell's value (-1 blue .. +1 red), as HTML and PNG (`pictures`).

```python
report = seqzoo.cells("runs/char_lm", open("held_out.py").read())
print(report.table())
report.html("c2:117", "cell.html")
```
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from seqzoo.errors import SeqzooNote, UserError
from seqzoo.interpret.features import FEATURES, feature_names, features

EXCERPT = 3000  # characters of the first text kept (with every cell's values) for the pictures
# Held out for the probes: every 5th text (the last of fewer), a single text's last fifth.
PROBE_HELD_OUT = 5


@dataclass
class CellsReport:
    """What `cells` found: the best cell of each feature, the layer probes, and the excerpt drawn."""

    features: tuple[str, ...]
    best: dict[str, dict]  # feature -> {"cell": "c2:117", "measure": "AUC" | "r", "value": float}
    probes: dict[str, dict[str, float | None]]  # feature -> {group: held-out AUC or R^2}
    characters: int
    texts: int
    oov: int
    excerpt: str  # the first text's first EXCERPT characters
    activations: dict[str, np.ndarray] = field(repr=False)  # group -> [len(excerpt), units]
    # feature -> group -> every cell's AUC or r
    scores: dict[str, dict[str, list[float]]] = field(repr=False, default_factory=dict)

    def value(self, cell: str) -> np.ndarray:
        """One cell's values over the excerpt."""
        group, _, index = cell.partition(":")
        return self.activations[group][:, int(index)]

    def table(self) -> str:
        """The Markdown table: feature, best cell and its figure, each layer's probe (held out)."""
        groups = sorted({g for probes in self.probes.values() for g in probes}, key=lambda g: (g[1:], g))
        lines = ["| feature | best cell | its figure | " + " | ".join(f"probe {g}" for g in groups) + " |",
                 "|---|---|---|" + "---|" * len(groups)]
        for name in self.features:
            best = self.best[name]
            if best["cell"] is None:
                lines.append(f"| {name} | - | never varies in this text |" + " - |" * len(groups))
                continue
            measure = "AUC" if best["measure"] == "AUC" else "r"
            probe = "R²" if measure == "r" else "AUC"
            probes = ("n/a" if self.probes[name][g] is None else f"{probe} {self.probes[name][g]:.3f}"
                      for g in groups)
            figure = f"{measure} {best['value']:+.3f}"
            lines.append(f"| {name} | {best['cell']} | {figure} | {' | '.join(probes)} |")
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {"features": {name: {**self.best[name], "about": FEATURES[name].about,
                                    "probes": self.probes[name]} for name in self.features},
                "characters": self.characters, "texts": self.texts, "out_of_vocabulary": self.oov}

    def html(self, cell: str, path: str | Path) -> Path:
        from seqzoo.interpret.pictures import write_html

        return write_html(self.excerpt, self._shown(cell), self._title(cell), path)

    def png(self, cell: str, path: str | Path) -> Path:
        from seqzoo.interpret.pictures import write_png

        return write_png(self.excerpt, self._shown(cell), self._title(cell), path)

    def _shown(self, cell: str) -> np.ndarray:
        """The values as drawn: in -1..1 already (an RNN's), or divided by the largest in the excerpt
        (a TCN channel, 0 and up)."""
        values = self.value(cell)
        return values / max(1.0, float(np.abs(values).max(initial=0.0)))

    def _title(self, cell: str) -> str:
        named = [f"{name} ({self.best[name]['measure']} {self.best[name]['value']:+.2f})"
                 for name in self.features if self.best[name]["cell"] == cell]
        return f"cell {cell}" + (f": {', '.join(named)}" if named else "")


def cells(run, texts: str | list[str], feature: list[str] | None = None, verbose: int = 0) -> CellsReport:
    """Records every cell of a character LM's run (a folder, or a loaded `seqzoo.load_run`) over
    held-out text (one string, or several documents) and scores it against the text's features
    (`feature`: names from `seqzoo.interpret.features.FEATURES`; default: the code features when
    most texts parse as Python, else the prose ones). `verbose` 1 shows a progress bar over the
    characters."""
    import keras

    from seqzoo.interpret.features import is_python
    from seqzoo.interpret.record import CellRecorder
    from seqzoo.interpret.statistics import FeatureStatistics
    from seqzoo.training import load_run

    run = load_run(run) if isinstance(run, (str, Path)) else run
    recorder = CellRecorder(run)
    texts = [texts] if isinstance(texts, str) else list(texts)
    texts = [text for text in texts if text]
    if not texts:
        raise UserError("cells needs text: the held-out text is empty")
    code = sum(is_python(text) for text in texts[:8]) > min(len(texts), 8) / 2
    names = feature_names(feature, code)
    if any(FEATURES[name].code for name in names):
        kept = [text for text in texts if is_python(text)]
        if not kept:
            asked = [name for name in names if FEATURES[name].code]
            raise UserError(f"feature{'s' if len(asked) > 1 else ''} {', '.join(asked)} "
                            f"{'are' if len(asked) > 1 else 'is'} read from Python's tokens, and the text "
                            f"({texts[0][:30]!r}...) is not Python; prose features: "
                            "column, word_position, quote")
        if len(kept) < len(texts):
            warnings.warn(f"{len(texts) - len(kept)} of {len(texts)} texts are not Python (ast.parse refuses "
                          "them) and are left out", SeqzooNote, stacklevel=2)
        texts = kept
    slices = recorder.slices()
    statistics = FeatureStatistics(names, slices, recorder.width)
    excerpt = np.zeros((min(len(texts[0]), EXCERPT), recorder.width), np.float32)
    if len(texts) == 1:  # its last fifth is held out for the probes (the states run on through it)
        held_out, boundary = [], len(texts[0]) - len(texts[0]) // PROBE_HELD_OUT
    else:
        held_out = ([i for i in range(len(texts)) if i % PROBE_HELD_OUT == PROBE_HELD_OUT - 1]
                    or [len(texts) - 1])
        boundary = None
    training = [i for i in range(len(texts)) if i not in set(held_out)]
    values = {}  # the features of the texts being recorded, each dropped after its last piece
    characters = sum(len(text) for text in texts)
    progress = keras.utils.Progbar(characters, unit_name="character") if verbose else None
    for part in (training, held_out):
        for local, start, rows in recorder.record([texts[i] for i in part]):
            index = part[local]
            stop = start + len(rows)
            if index not in values:
                values[index] = features(texts[index], names)
            if index == 0 and start < EXCERPT:
                excerpt[start : min(stop, EXCERPT)] = rows[: EXCERPT - start]
            pieces = [(start, stop, part is held_out)]
            if boundary is not None and start < boundary < stop:
                pieces = [(start, boundary, False), (boundary, stop, True)]
            elif boundary is not None:
                pieces = [(start, stop, start >= boundary)]
            for lo, hi, test in pieces:
                statistics.add(rows[lo - start : hi - start], {n: v[lo:hi] for n, v in values[index].items()},
                               test)
            if stop == len(texts[index]):
                del values[index]
            if progress is not None:
                progress.add(stop - start)
    if recorder.oov:
        warnings.warn(f"{recorder.oov} of {characters} characters are outside the model's vocabulary "
                      "(read as its out-of-vocabulary id)", SeqzooNote, stacklevel=2)
    group_of = {}
    for group, s in slices.items():
        for unit in range(s.start, s.stop):
            group_of[unit] = (group, unit - s.start)
    best = {}
    for name, found in statistics.best_cells().items():
        measure = "AUC" if FEATURES[name].kind == "yes/no" else "r"
        if found is None:
            best[name] = {"cell": None, "measure": measure, "value": None}
            continue
        group, index = group_of[found[0]]
        best[name] = {"cell": f"{group}:{index}", "measure": measure, "value": found[1]}
    every = {name: statistics.scores(name) for name in names}  # every cell's figure, once a feature
    scores = {name: {g: every[name][s].round(4).tolist() for g, s in slices.items()} for name in names}
    return CellsReport(names, best, statistics.probes(), characters, len(texts), recorder.oov,
                       texts[0][:EXCERPT], {g: excerpt[:, s] for g, s in slices.items()}, scores)


def read_texts(data: str | Path, documents: str = "file") -> list[str]:
    """The held-out texts a file, a folder (its .py and .txt files) or a glob holds: each file one
    text, or each line (`documents: line`, as the run was trained). UserError for a binary or empty
    file; invalid UTF-8 is read with U+FFFD, which the vocabulary counts as out of it."""
    from seqzoo.data.readers import read_text
    from seqzoo.files import data_files, regular_file

    texts = []
    for file in data_files(data, (".py", ".txt"), "text files"):
        raw = regular_file(file, "data file").read_bytes()[:8192]
        if b"\0" in raw:
            raise UserError(f"'{file}' is a binary file (it holds NUL bytes), not text")
        text = read_text(file)
        if documents == "line":
            texts.extend(line.strip() for line in text.splitlines() if line.strip())
        elif text.strip():
            texts.append(text)
    if not texts:
        raise UserError(f"'{data}' has no text")
    return texts


def heldout_texts(run) -> list[str]:
    """The documents of a run's own held-out split, read again from its training data."""
    from seqzoo.tasks.language_model import lm_documents

    if run.data is None or not Path(run.data["path"]).exists():
        where = "" if run.data is None else f" ('{run.data['path']}' is gone)"
        raise UserError(f"the run's training data cannot be read again{where}: give --data")
    _, heldout, _ = lm_documents(Path(run.data["path"]), run.config["train"])
    return [text.decode("utf-8") for text in heldout.as_numpy_iterator()]
