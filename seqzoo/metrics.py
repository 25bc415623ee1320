"""Evaluation figures the tasks share: the token-level tagging report."""

from __future__ import annotations

import collections

AVERAGES = ("micro avg", "macro avg", "weighted avg")


def tag_report(true: list[list[str]], predicted: list[list[str]], ignore: tuple[str, ...] = ("O",)
               ) -> dict[str, dict[str, float]]:
    """Per-tag precision, recall, F1 and support over tokens, with micro, macro and weighted
    averages, laid out as seqeval's `classification_report(output_dict=True)`.

    Tokens are scored one by one (the tags are labels, not BIO spans). Tags in
    `ignore` get their row but stay out of the averages, as seqeval leaves out `O`.

    Example:
    ```python
    tag_report([["O", "COMMA"]], [["O", "PERIOD"]])["COMMA"]  # precision 0, recall 0, support 1
    ```
    """
    counts = {name: collections.Counter() for name in ("true", "predicted", "correct")}
    for true_row, predicted_row in zip(true, predicted, strict=True):
        if len(true_row) != len(predicted_row):
            raise ValueError(f"a sentence has {len(true_row)} true tags and {len(predicted_row)} predicted")
        for t, p in zip(true_row, predicted_row, strict=True):
            counts["true"][t] += 1
            counts["predicted"][p] += 1
            counts["correct"][t] += t == p
    tags = sorted(set(counts["true"]) | set(counts["predicted"]))
    report = {tag: _scores(counts["correct"][tag], counts["predicted"][tag], counts["true"][tag])
              for tag in tags}
    scored = [tag for tag in tags if tag not in ignore]
    report["micro avg"] = _scores(*(sum(counts[k][tag] for tag in scored)
                                    for k in ("correct", "predicted", "true")))
    support = sum(report[tag]["support"] for tag in scored)
    for average, weight in (("macro avg", lambda tag: 1 / max(len(scored), 1)),
                            ("weighted avg", lambda tag: report[tag]["support"] / max(support, 1))):
        report[average] = {key: sum(report[tag][key] * weight(tag) for tag in scored)
                           for key in ("precision", "recall", "f1-score")}
        report[average]["support"] = support
    return report


def format_tag_report(report: dict[str, dict[str, float]]) -> str:
    """The report as seqeval prints it: one row per tag, then the averages."""
    width = max(len(name) for name in report)
    lines = [f"{'':>{width}}  precision    recall  f1-score   support", ""]
    for name, row in report.items():
        if name == AVERAGES[0]:
            lines.append("")
        lines.append(f"{name:>{width}}  {row['precision']:9.4f} {row['recall']:9.4f} "
                     f"{row['f1-score']:9.4f} {int(row['support']):9d}")
    return "\n".join(lines)


def _scores(correct: int, predicted: int, true: int) -> dict[str, float]:
    precision = correct / predicted if predicted else 0.0
    recall = correct / true if true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1-score": f1, "support": true}
