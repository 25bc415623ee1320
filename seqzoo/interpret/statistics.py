"""Which cell tracks which feature, from sums kept as the text streams by: memory holds histograms
and moment sums, never the activations of the whole text.

- The best single cell of a feature: for a yes/no feature the AUC of the cell's value (from 200-bin
  histograms of tanh(value) per cell, -1..1, so an unbounded TCN channel bins as an RNN's state does;
  0.5 is chance, and a cell that is low inside scores 1 - AUC, marked with a minus), for a count
  feature |Pearson r|.
- A linear probe over all the cells of a layer group: ridge least squares fitted on the probe's
  training characters (normal equations, summed), scored on held-out characters (AUC or R^2).
"""

from __future__ import annotations

import numpy as np

from seqzoo.interpret.features import FEATURES

BINS = 200
RIDGE = 1e-3  # times the mean diagonal of X^T X


class FeatureStatistics:
    def __init__(self, names: tuple[str, ...], groups: dict[str, slice], width: int):
        self.names, self.groups, self.width = names, groups, width
        self.n = 0
        self.sums = {"x": np.zeros(width), "xx": np.zeros(width)}
        self.count = {name: {"y": 0.0, "yy": 0.0, "xy": np.zeros(width)} for name in names
                      if FEATURES[name].kind == "count"}
        self.hist = {name: np.zeros((2, width * BINS), np.int64) for name in names
                     if FEATURES[name].kind == "yes/no"}
        self.gram = {g: np.zeros((s.stop - s.start + 1,) * 2) for g, s in groups.items()}
        self.xty = {(g, name): np.zeros(s.stop - s.start + 1) for g, s in groups.items() for name in names}
        self.weights: dict | None = None
        self.test: dict = {(g, name): [] for g in groups for name in names}  # (score, y) pieces

    def add(self, values: np.ndarray, features: dict[str, np.ndarray], probe_test: bool) -> None:
        """Characters' activations [n, width] and their features; `probe_test`: held out for the probes
        (all probe training characters come first)."""
        values = values.astype(np.float64)
        if probe_test:
            self._probe_test(values, features)
        else:
            self._probe_train(values, features)
        self.n += len(values)
        self.sums["x"] += values.sum(0)
        self.sums["xx"] += (values * values).sum(0)
        for name, sums in self.count.items():
            y = features[name].astype(np.float64)
            sums["y"] += y.sum()
            sums["yy"] += (y * y).sum()
            sums["xy"] += y @ values
        if self.hist:
            bins = np.clip(((np.tanh(values) + 1) * (BINS / 2)).astype(np.int64), 0, BINS - 1)
            flat = (bins + np.arange(self.width) * BINS).ravel()
            for name, hist in self.hist.items():
                inside = np.repeat(features[name].astype(bool), self.width)
                hist[1] += np.bincount(flat[inside], minlength=self.width * BINS)
                hist[0] += np.bincount(flat[~inside], minlength=self.width * BINS)

    def _probe_train(self, values, features) -> None:
        for g, s in self.groups.items():
            x = np.c_[values[:, s], np.ones(len(values))]
            self.gram[g] += x.T @ x
            for name in self.names:
                self.xty[(g, name)] += features[name] @ x

    def _probe_test(self, values, features) -> None:
        if self.weights is None:
            self.weights = {}
            for g, gram in self.gram.items():
                ridge = RIDGE * max(np.trace(gram) / len(gram), 1e-12) * np.eye(len(gram))
                for name in self.names:
                    self.weights[(g, name)] = np.linalg.solve(gram + ridge, self.xty[(g, name)])
        for g, s in self.groups.items():
            x = np.c_[values[:, s], np.ones(len(values))]
            for name in self.names:
                self.test[(g, name)].append(np.stack([x @ self.weights[(g, name)], features[name]]))

    def best_cells(self) -> dict[str, tuple[int, float] | None]:
        """{feature: (unit, signed score)}: Pearson r, or the AUC of the cell read the way that
        separates (-0.9: AUC 0.9 with the cell low inside); None for a feature that never varies in
        the text (no comment at all): no cell can be scored against it."""
        out = {}
        for name in self.names:
            if not self.varies(name):
                out[name] = None
                continue
            score = self.scores(name)
            strength = np.abs(score - 0.5) if name in self.hist else np.abs(np.nan_to_num(score))
            unit = int(np.argmax(strength))
            value = float(score[unit])
            out[name] = (unit, value if name not in self.hist or value >= 0.5 else -(1 - value))
        return out

    def varies(self, name: str) -> bool:
        if name in self.hist:
            return bool(self.hist[name][0].any() and self.hist[name][1].any())
        sums = self.count[name]
        return sums["yy"] / self.n - (sums["y"] / self.n) ** 2 > 1e-12

    def scores(self, name: str) -> np.ndarray:
        """Every cell's AUC or Pearson r for a feature."""
        return self._auc(name) if name in self.hist else self._pearson(name)

    def probes(self) -> dict[str, dict[str, float | None]]:
        """{feature: {group: held-out AUC or R^2}}; None where the held-out part had one class only."""
        out = {name: {} for name in self.names}
        for (g, name), pieces in self.test.items():
            if not pieces:
                out[name][g] = None
                continue
            score, y = np.concatenate(pieces, axis=1)
            out[name][g] = (rank_auc(score, y > 0.5) if FEATURES[name].kind == "yes/no"
                            else r_squared(score, y))
        return out

    def _pearson(self, name: str) -> np.ndarray:
        n, sums = self.n, self.count[name]
        cov = sums["xy"] / n - (self.sums["x"] / n) * (sums["y"] / n)
        var_x = self.sums["xx"] / n - (self.sums["x"] / n) ** 2
        var_y = sums["yy"] / n - (sums["y"] / n) ** 2
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where((var_x > 1e-12) & (var_y > 1e-12), cov / np.sqrt(var_x * var_y), 0.0)

    def _auc(self, name: str) -> np.ndarray:
        neg, pos = (h.reshape(self.width, BINS).astype(np.float64) for h in self.hist[name])
        below = np.cumsum(neg, axis=1) - neg  # negatives in lower bins
        total = pos.sum(1) * neg.sum(1)
        with np.errstate(invalid="ignore", divide="ignore"):
            auc = ((pos * (below + 0.5 * neg)).sum(1)) / total
        return np.where(total > 0, auc, 0.5)


def rank_auc(score: np.ndarray, positive: np.ndarray) -> float | None:
    """The probability that a positive scores above a negative (ties count half)."""
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(score, kind="mergesort")
    ranks = np.empty(len(score))
    ranks[order] = np.arange(1, len(score) + 1)
    _, inverse, counts = np.unique(score, return_inverse=True, return_counts=True)
    if (counts > 1).any():  # average the ranks of ties
        sums = np.bincount(inverse, weights=ranks)
        ranks = (sums / counts)[inverse]
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def r_squared(prediction: np.ndarray, y: np.ndarray) -> float | None:
    total = float(((y - y.mean()) ** 2).sum())
    if total == 0:
        return None
    return 1.0 - float(((y - prediction) ** 2).sum()) / total
