"""Evaluation figures the tasks share: the token-level tagging report, the translation report, the
mean loss over the valid positions of weighted batches."""

from __future__ import annotations

import collections

import tensorflow as tf

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


LENGTH_BANDS = (10, 20, 30, 40)  # source tokens: 1-10, 11-20, 21-30, 31-40, 41+


def translation_report(references: list[str], hypotheses: list[str], source_lengths: list[int],
                       characters: bool = False) -> dict[str, float]:
    """Corpus BLEU and chrF (sacrebleu), exact match, and exact match by source length band.

    `characters`: score BLEU on characters (sacrebleu's `char` tokenizer), for targets
    such as dates that are one word. Bands are `exact_match[1-10]`, ... (source tokens);
    a band with no sentences is left out.

    Example:
    ```python
    translation_report(["2021-03-03"], ["2021-03-03"], [16], characters=True)["exact_match"]  # 1.0
    ```
    """
    import sacrebleu

    if not references:
        raise ValueError("no sentences to score")
    tokenize = "char" if characters else "13a"
    exact = [r == h for r, h in zip(references, hypotheses, strict=True)]
    report = {
        "bleu": sacrebleu.corpus_bleu(hypotheses, [references], tokenize=tokenize).score,
        "chrf": sacrebleu.corpus_chrf(hypotheses, [references]).score,
        "exact_match": sum(exact) / len(exact),
    }
    edges = (0, *LENGTH_BANDS, float("inf"))
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        band = [e for e, n in zip(exact, source_lengths, strict=True) if low < n <= high]
        if band:
            name = f"{low + 1}-{high}" if high != float("inf") else f"{low + 1}+"
            report[f"exact_match[{name}]"] = sum(band) / len(band)
    return report


def mean_over_valid(model, batches, loss) -> float:
    """The mean of `loss(y, model(x))` (one value per position) over the positions whose weight is
    above 0, summed in float64 over every (x, y, weights) batch: a figure per predicted frame or
    sample, whatever padding the batches carry."""
    total, count = 0.0, 0.0
    predict = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    for x, y, weights in batches:
        valid = tf.cast(weights > 0, tf.float64)
        total += float(tf.reduce_sum(tf.cast(loss(y, predict(x)), tf.float64) * valid))
        count += float(tf.reduce_sum(valid))
    return total / count


COMPRESSORS = {  # name -> compress(bytes): Python's own, at their strongest settings
    "gzip -9": lambda data: __import__("gzip").compress(data, 9, mtime=0),
    "bz2 -9": lambda data: __import__("bz2").compress(data, 9),
    "xz -9e": lambda data: __import__("lzma").compress(data, preset=9 | __import__("lzma").PRESET_EXTREME),
}


def compression_bits(train: str, heldout: str) -> dict[str, float]:
    """The anchors a character LM's held-out bits per character are read against: for each
    general-purpose compressor, the bits it adds to compress `heldout` after `train` (bits(train +
    heldout) - bits(train)), per character of `heldout`. gzip sees the last 32 KB of the training
    text, bz2 the last 900 KB block, xz all of it (a 64 MB dictionary)."""
    if not heldout:
        raise ValueError("no held-out text to compress")
    before, after = train.encode("utf-8"), (train + heldout).encode("utf-8")
    return {name: 8 * (len(compress(after)) - len(compress(before))) / len(heldout)
            for name, compress in COMPRESSORS.items()}
