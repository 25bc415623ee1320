"""Keras model -> `.tflite` flatbuffers with builtin ops only, run by LiteRT: float32, and the
quantised variants (float16 weights, dynamic-range int8 weights, full int8 calibrated on held-out
inputs)."""

from __future__ import annotations

import contextlib
import functools
import pickle
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import keras
import tensorflow as tf

from seqzoo.errors import ExportError, first_line
from seqzoo.exporters.saved_model import write_saved_model
from seqzoo.tasks import Endpoint

# What each quantisation does, as the model card says it.
QUANTIZATIONS = {
    "float16": "float16 weights, float32 compute (weights dequantised at load)",
    "dynamic": "int8 weights, float32 activations (dynamic-range quantisation)",
    "int8": "int8 weights and activations, ranges calibrated on held-out inputs (full integer)",
}
Calibration = list[tuple[str, dict]]  # (signature, inputs) samples for full int8


def to_tflite(model: keras.Model, endpoints: dict[str, Endpoint]) -> bytes:
    """The float32 `.tflite` file of the endpoints (batch 1), with builtin ops only."""
    with tflite_converter(model, endpoints) as convert:
        return convert()


@contextlib.contextmanager
def tflite_converter(model: keras.Model, endpoints: dict[str, Endpoint]) -> Iterator[Callable[..., bytes]]:
    """`convert(quantization=None, calibration=None) -> bytes` for the endpoints, written once as a
    SavedModel in a temporary folder for all the files converted from it.

    Builtins only, because Flex (SELECT_TF_OPS) models do not run in the Python LiteRT interpreter
    (LiteRT#6458); converting from a concrete function instead leaves READ_VARIABLE ops inside the
    RNN's WHILE loop that fail at run time.
    """
    with tempfile.TemporaryDirectory(prefix="seqzoo-tflite-") as tmp:
        write_saved_model(Path(tmp), endpoints, model)
        yield functools.partial(_convert, tmp, list(endpoints), model.name)


def _convert(source: str, signatures: list[str], name: str, quantization: str | None = None,
             calibration: Calibration | None = None) -> bytes:
    if quantization == "int8":
        return _convert_in_child(source, signatures, name, calibration)
    return _converted(source, signatures, name, quantization, calibration)


def _convert_in_child(source: str, signatures: list[str], name: str,
                      calibration: Calibration | None) -> bytes:
    """Full int8 in a child process: the converter's calibration crashes the process (SIGSEGV, TF 2.21)
    on a model with a WHILE loop, the recurrent ones, and an export must survive that."""
    with tempfile.TemporaryDirectory(prefix="seqzoo-int8-") as tmp:
        job, out = Path(tmp) / "job.pickle", Path(tmp) / "model.tflite"
        job.write_bytes(pickle.dumps((source, signatures, name, "int8", calibration, str(out))))
        child = subprocess.run(python_child(f"from {__name__} import _child; _child()", str(job)),
                               capture_output=True, text=True)
        if child.returncode < 0:
            raise ExportError(f"model {name!r} does not convert to int8 TFLite: the converter crashed while "
                              f"calibrating it ({signal.Signals(-child.returncode).name})")
        if child.returncode != 0:
            lines = child.stderr.strip().splitlines()
            raise ExportError(lines[-1] if lines else f"the int8 conversion exited {child.returncode}")
        return out.read_bytes()


def python_child(code: str, *arguments: str) -> list[str]:
    """The command that runs `code` in a child Python that imports nothing from the working folder:
    `python -c` puts it first on sys.path, so a stray `./numpy.py` or `./seqzoo/` where the user
    runs `seqzoo export` would be imported and run (`-P` does this from Python 3.11 on)."""
    safe_path = "import sys; sys.path = [p for p in sys.path if p != '']"
    return [sys.executable, "-c", f"{safe_path}; {code}", *arguments]


def _child() -> None:
    """The child process of `_convert_in_child`: one conversion; an error as the last stderr line."""
    source, signatures, name, quantization, calibration, out = pickle.loads(Path(sys.argv[1]).read_bytes())
    try:
        Path(out).write_bytes(_converted(source, signatures, name, quantization, calibration))
    except ExportError as err:
        print(err, file=sys.stderr)
        sys.exit(1)


def _converted(source: str, signatures: list[str], name: str, quantization: str | None,
               calibration: Calibration | None) -> bytes:
    converter = tf.lite.TFLiteConverter.from_saved_model(source, signature_keys=signatures)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantization is not None:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantization == "float16":
        converter.target_spec.supported_types = [tf.float16]
    elif quantization == "int8":
        if not calibration:
            raise ExportError("full int8 needs calibration inputs, and there were none")
        converter.representative_dataset = lambda: iter(calibration)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    try:
        return converter.convert()
    except Exception as err:  # the converter raises several types, all with the op list
        what = f"to {quantization} TFLite" if quantization else "to TFLite"
        raise ExportError(f"model {name!r} does not convert {what} with builtin ops only: "
                          f"{first_line(err)}") from err
