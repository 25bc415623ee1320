"""The character LM at real scale: a run's held-out bits per character beside general-purpose
compressors, `seqzoo cells` characters/s, and training tokens/s of the four Bai et al. models.

    python bench/bench_char_lm.py --run runs/stdlib [--cells-chars 1000000] [--params 3000000] [--steps 8]

1. Anchors. The run's own held-out split (read again from its training data) and its training
   text: gzip -9, bz2 -9 and xz -9e conditioned on the training text (`seqzoo.metrics.compression_bits`)
   beside the run's held-out bits per character. Goal (issue 29): the LM below xz on code, below
   bz2 on PTB characters.
2. `seqzoo cells` over the first `--cells-chars` characters of the held-out files: characters/s.
3. Training tokens/s at about `--params` weights: tcn_lm and char_lm with LSTM, GRU and simple RNN
   cells, beside a plain `keras.Sequential` character LSTM of the same size (the keras-io text
   generation example's model, stacked): the ratio is seqzoo's LSTM over it.
Samples: `--samples` draws 40 blocks of 30 lines from the run (exported first) and prints the
share `ast.parse` accepts, after cutting each at its last complete top-level statement.
"""

from __future__ import annotations

import argparse
import ast
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import seqzoo  # noqa: E402
from seqzoo.metrics import compression_bits  # noqa: E402
from seqzoo.paper.models import nearest_width  # noqa: E402
from seqzoo.tasks.language_model import lm_documents  # noqa: E402

SEQ_LEN, BATCH = 100, 64


def anchors(run) -> list[str]:
    """Prints the anchors table; returns the held-out documents."""
    train, heldout, _ = lm_documents(Path(run.data["path"]), run.config["train"])
    train_docs, heldout_docs = ([d.decode("utf-8") for d in split.as_numpy_iterator()]
                                for split in (train, heldout))
    train_text, heldout_text = "\n".join(train_docs), "\n".join(heldout_docs)
    started = time.perf_counter()
    bits = compression_bits(train_text, heldout_text)
    print(f"\n## Anchors: {len(heldout_text):,} held-out characters after {len(train_text):,} of training "
          f"({time.perf_counter() - started:.0f} s to compress)\n")
    print("| what | bits per character |\n|---|---|")
    print(f"| {run.name} ({run.path}) | {run.metrics['val_bits_per_character']:.3f} |")
    for name, value in bits.items():
        print(f"| {name}, conditioned on the training text | {value:.3f} |")
    return heldout_docs


def cells_speed(run, heldout_docs: list[str], chars: int) -> None:
    texts, total = [], 0
    for text in heldout_docs:
        if total >= chars:
            break
        texts.append(text[: chars - total])
        total += len(texts[-1])
    started = time.perf_counter()
    report = seqzoo.cells(run, texts)
    seconds = time.perf_counter() - started
    print(f"\n## seqzoo cells: {report.characters:,} characters in {report.texts} texts, {seconds:.1f} s: "
          f"{report.characters / seconds:,.0f} characters/s\n")
    print(report.table())


def training_speed(params: int, steps: int, vocab: int = 256) -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(3, vocab, (BATCH * (steps + 2), SEQ_LEN + 1)).astype("int32")
    data = (x[:, :-1], x[:, 1:])
    print(f"\n## Training tokens/s at about {params:,} weights (batch {BATCH} x {SEQ_LEN} characters, "
          f"{steps} steps after 2 warm-up steps)\n")
    print("| model | weights | tokens/s |\n|---|---|---|")
    rows = {}
    candidates = {
        "tcn_lm": ("tcn_lm", "model.tcn.filters", {}),
        "char_lm LSTM": ("char_lm", "model.rnn.units", {"model.rnn.cell": "lstm"}),
        "char_lm GRU": ("char_lm", "model.rnn.units", {"model.rnn.cell": "gru"}),
        "char_lm RNN": ("char_lm", "model.rnn.units", {"model.rnn.cell": "simple_rnn"}),
    }
    for label, (entry, width_key, fixed) in candidates.items():
        def build(width, entry=entry, width_key=width_key, fixed=fixed):
            return seqzoo.build(entry, **{"text.max_tokens": vocab, **fixed, width_key: width})

        width = nearest_width(lambda width, build=build: build(width).count_params(), params)
        model = build(width)
        rows[label] = _tokens_per_second(model, data, steps)
        name = f"{label} ({width_key.split('.')[-1]} {width})"
        print(f"| {name} | {model.count_params():,} | {rows[label]:,.0f} |")
    units = nearest_width(lambda u: _plain_lstm(vocab, u).count_params(), params)
    plain = _plain_lstm(vocab, units)
    reference = _tokens_per_second(plain, data, steps)
    print(f"| keras.Sequential LSTM (units {units}) | {plain.count_params():,} | {reference:,.0f} |")
    print(f"\nseqzoo char_lm LSTM / keras.Sequential LSTM: {rows['char_lm LSTM'] / reference:.2f}")


def _plain_lstm(vocab: int, units: int) -> keras.Model:
    """The keras-io character LM (Embedding -> LSTM -> Dense softmax), with two LSTM layers as char_lm has."""
    model = keras.Sequential([keras.Input((None,), dtype="int32"), keras.layers.Embedding(vocab, 64),
                              keras.layers.LSTM(units, return_sequences=True),
                              keras.layers.LSTM(units, return_sequences=True),
                              keras.layers.Dense(vocab, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    return model


def _tokens_per_second(model, data, steps: int) -> float:
    x, y = data
    model.fit(x[: 2 * BATCH], y[: 2 * BATCH], batch_size=BATCH, epochs=1, verbose=0)  # trace, warm up
    started = time.perf_counter()
    model.fit(x[2 * BATCH :], y[2 * BATCH :], batch_size=BATCH, epochs=1, verbose=0)
    return steps * BATCH * SEQ_LEN / (time.perf_counter() - started)


def samples(run_dir: str, blocks: int = 40, lines: int = 30) -> None:
    export = seqzoo.export_run(run_dir, base=tempfile.mkdtemp(prefix="bench-char-lm-"))
    model = seqzoo.exporters.ExportedModel(export)
    parsed = 0
    for seed in range(blocks):
        text = model.generate([""], max_new_tokens=lines * 40, temperature=0.8, seed=seed)[0]
        parsed += parses(text, lines)
    print(f"\n## Samples: {parsed} of {blocks} blocks of {lines} lines parse ({parsed / blocks:.0%}), "
          "temperature 0.8, each cut at its last complete top-level statement")


def parses(text: str, lines: int) -> bool:
    """Whether `ast.parse` accepts the first `lines` whole lines, as they are or cut before the
    last top-level statement (which the block may have cut off mid-way)."""
    kept = text.split("\n")[: lines + 1][:-1] or [""]  # whole lines: the last may be cut
    starts = [i for i, line in enumerate(kept) if line[:1] not in ("", " ", "\t", ")", "]", "}", "#")]
    for block in ("\n".join(kept), "\n".join(kept[: starts[-1]]) if len(starts) > 1 else ""):
        try:
            if block.strip():
                ast.parse(block)
                return True
        except (SyntaxError, ValueError):
            pass
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", help="a finished char_lm run (its training data still where it was)")
    parser.add_argument("--cells-chars", type=int, default=1_000_000)
    parser.add_argument("--params", type=int, default=3_000_000)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--samples", action="store_true", help="export the run and sample 40 blocks")
    args = parser.parse_args()
    if args.run:
        run = seqzoo.load_run(args.run)
        heldout_docs = anchors(run)
        cells_speed(run, heldout_docs, args.cells_chars)
        if args.samples:
            samples(args.run)
    training_speed(args.params, args.steps)


if __name__ == "__main__":
    main()
