"""Quantised LiteRT files beside the float32 `.tflite`: made, timed and compared on held-out inputs.

Each variant is driven exactly as the float32 file is (the task's own driver: tokenised by the app,
batch 1, states fed back), so its size, latency and agreement are what an app would see.
Full int8 is calibrated on the inputs the float32 file saw while it was driven over the held-out
inputs. A variant the converter cannot make is kept in the report with the converter's reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from seqzoo.errors import ExportError, UserError
from seqzoo.exporters.tflite import QUANTIZATIONS, Calibration
from seqzoo.tasks import ParityRole

CALIBRATION_SAMPLES = 256  # signature calls kept for full int8's calibration, evenly spread


def parse_quantizations(kinds: str | Sequence[str] | None) -> tuple[str, ...]:
    """'float16,dynamic' (or a list) -> ('float16', 'dynamic'); UserError naming an unknown kind."""
    if kinds is None:
        return ()
    names = [k.strip() for k in (kinds.split(",") if isinstance(kinds, str) else kinds) if k.strip()]
    for name in names:
        if name not in QUANTIZATIONS:
            raise UserError(f"unknown quantization {name!r}: choose from {', '.join(QUANTIZATIONS)}")
    return tuple(dict.fromkeys(names))


def quantize(convert: Callable[..., bytes], float32: bytes, kinds: tuple[str, ...], *, task: ParityRole,
             vectorizer, heldout: list, meta: dict, stem: str) -> tuple[dict[str, bytes], dict]:
    """Makes each variant with `convert` (`seqzoo.exporters.tflite.tflite_converter`) and measures it
    and the float32 file on `heldout` (`ParityRole.heldout_inputs`: held-out data as serving_default takes
    it), in the task's terms (`ParityRole.quantization_outputs`, `ParityRole.tflite_agreement`).

    Returns (the files to write, by name, and the model card's report: per variant its file, bytes,
    latency in ms per held-out input and agreement with float32 in the task's terms, or the reason
    it could not be made).
    """
    from ai_edge_litert.interpreter import Interpreter

    recorder = _Recorder(Interpreter(model_content=float32))
    reference = task.quantization_outputs(recorder, vectorizer, heldout, meta)
    latency = _latency(task, Interpreter(model_content=float32), vectorizer, heldout, meta)
    report = {"float32": {"file": f"{stem}.tflite", "bytes": len(float32), "latency_ms": latency},
              "heldout_inputs": len(heldout)}
    files = {}
    for kind in kinds:
        try:
            data = convert(kind, recorder.calibration() if kind == "int8" else None)
        except ExportError as err:
            report[kind] = {"made": False, "reason": str(err)}
            continue
        interpreter = Interpreter(model_content=data)
        outputs = task.quantization_outputs(interpreter, vectorizer, heldout, meta)
        files[f"{stem}.{kind}.tflite"] = data
        report[kind] = {"made": True, "file": f"{stem}.{kind}.tflite", "what": QUANTIZATIONS[kind],
                        "bytes": len(data),
                        "latency_ms": _latency(task, interpreter, vectorizer, heldout, meta),
                        "agreement": task.tflite_agreement(reference, outputs, meta)}
    return files, report


TABLE_HEADER = ("| file | size | vs float32 | ms / input | vs float32 | agreement with float32 |",
                "|---|---:|---:|---:|---:|---|")


def quantization_table(report: dict) -> list[str]:
    """The card's `tflite.quantized` as Markdown rows (under TABLE_HEADER): float32, then each variant
    with its size and latency beside float32's, and its agreement, or the reason it was not made."""
    reference = report["float32"]
    rows = [f"| float32 | {_size(reference['bytes'])} | 1 | {reference['latency_ms']:.2f} | 1 | |"]
    for kind in QUANTIZATIONS:
        variant = report.get(kind)
        if variant is None:
            continue
        if not variant["made"]:
            rows.append(f"| {kind} | not made: {variant['reason']} | | | | |")
            continue
        agreement = ", ".join(f"{key} {value:g}" for key, value in variant["agreement"].items())
        rows.append(f"| {kind} | {_size(variant['bytes'])} | {variant['bytes'] / reference['bytes']:.2f} | "
                    f"{variant['latency_ms']:.2f} | {variant['latency_ms'] / reference['latency_ms']:.2f} | "
                    f"{agreement} |")
    return rows


def _size(count: int) -> str:
    return f"{count / 1e6:.2f} MB" if count >= 1e5 else f"{count / 1e3:.1f} kB"


def _latency(task: ParityRole, interpreter, vectorizer, heldout: list, meta: dict) -> float:
    """Milliseconds per held-out input through the task's own driver at batch 1 (after one warm pass)."""
    task.tflite_outputs(interpreter, vectorizer, heldout[:1], meta)
    started = time.perf_counter()
    task.tflite_outputs(interpreter, vectorizer, heldout, meta)
    return round(1000 * (time.perf_counter() - started) / len(heldout), 3)


class _Recorder:
    """A LiteRT Interpreter that keeps the inputs of every signature call: full int8's calibration."""

    def __init__(self, interpreter):
        self._interpreter, self.calls = interpreter, []

    def get_signature_runner(self, name: str):
        runner = self._interpreter.get_signature_runner(name)
        recorder = self

        class Recording:
            def __call__(self, **inputs):
                recorder.calls.append((name, {key: np.array(value) for key, value in inputs.items()}))
                return runner(**inputs)

            def __getattr__(self, attribute):
                return getattr(runner, attribute)

        return Recording()

    def __getattr__(self, attribute):
        return getattr(self._interpreter, attribute)

    def calibration(self) -> Calibration:
        keep = np.unique(np.linspace(0, len(self.calls) - 1, CALIBRATION_SAMPLES).round().astype(int))
        return [self.calls[i] for i in keep] if self.calls else []
