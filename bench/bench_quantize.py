"""Quantised LiteRT files against the float32 one, one entry per family.

    python bench/bench_quantize.py [--entries sentiment,char_lm] [--out bench_quantize]

Each entry is trained as its `seqzoo demo` trains it (the demo's preset and epochs, its offline
data) and exported with `--quantize float16,dynamic,int8`; the export measures every file on the
run's held-out inputs (and the parity edge cases) as an app drives it, at batch 1. Printed per
variant: size and latency beside float32's (the ratio), and agreement with float32 in the task's
terms. A variant the converter cannot make is printed with its reason.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import seqzoo  # noqa: E402
from seqzoo.demo import demo_for  # noqa: E402
from seqzoo.exporters.quantize import TABLE_HEADER, quantization_table  # noqa: E402
from seqzoo.exporters.tflite import QUANTIZATIONS  # noqa: E402

ENTRIES = "sentiment,tcn,bilstm_tagger,char_lm,seq2seq_attn,show_attend_tell,tcn_music,lstm_music,wavenet"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", default=ENTRIES)
    parser.add_argument("--out", default="bench_quantize")
    args = parser.parse_args()
    out = Path(args.out)
    rows = []
    for entry in args.entries.split(","):
        demo = demo_for(entry)
        started = time.perf_counter()
        run = seqzoo.train(entry, preset=demo.preset, epochs=demo.epochs, out=out / "runs" / entry, verbose=0)
        version = seqzoo.export_run(run, base=out / "saved_models", quantize=list(QUANTIZATIONS))
        card = json.loads((version / "seqzoo.json").read_text())
        report = card["tflite"]["quantized"]
        print(f"{entry}: trained and exported in {time.perf_counter() - started:.0f} s, "
              f"{report['heldout_inputs']} held-out inputs", flush=True)
        rows.append((entry, card["task"], report))
    print("\n| entry " + TABLE_HEADER[0] + "\n|---" + TABLE_HEADER[1])
    for entry, task, report in rows:
        table = quantization_table(report)
        print("\n".join([f"| {entry} ({task}) {table[0]}", *(f"| {row}" for row in table[1:])]))


if __name__ == "__main__":
    main()
