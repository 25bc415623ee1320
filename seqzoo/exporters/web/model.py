"""The browser-ready `.tflite` file of an export: what LiteRT.js runs, and its parity.

LiteRT.js 2.5.3 (measured): refuses a whole file if any signature has a bool tensor; refuses an
input whose length is variable; and for an output whose length is variable returns zeros without an
error (only its console says "Custom allocation is too small"). So a page's file is converted from
the task's web signatures (`Task.web_endpoints`) with every variable length fixed at the task's
`web_length` (ids padded with 0, as a batch pads them) and bools passed as int32; a signature that
still has a variable length or another dtype is named, and the page is not written.

Its parity: every call the task's own `.tflite` driver makes on the parity inputs
(`Task.tflite_outputs`, the export's check against Keras) is replayed on the browser-ready file with
its inputs padded, and the outputs compared where both files have them (`replay_parity`).
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter

from seqzoo.errors import ExportError
from seqzoo.exporters.tflite import to_tflite
from seqzoo.tasks import Endpoint, Task
from seqzoo.tasks.base import WebRole
from seqzoo.text import Vectorizer

BROWSER_DTYPES = (tf.int32, tf.float32, tf.uint8)
AS_INT32 = (tf.bool, tf.int64)  # passed as int32 at the file's boundary


class NotBrowserReady(ExportError):
    """A signature LiteRT.js cannot run, and why: the rest of the export is still written."""


def browser_ready(endpoints: dict[str, Endpoint], length: int | None) -> dict[str, Endpoint]:
    """The endpoints at batch 1 with every other variable dimension fixed at `length`, and bool / int64
    inputs and outputs as int32."""
    ready = {}
    for name, (function, specs) in endpoints.items():
        fixed = [_fixed_spec(name, spec, length) for spec in specs]
        ready[name] = (_cast_at_boundary(function, specs), fixed)
    return ready


def _fixed_spec(signature: str, spec: tf.TensorSpec, length: int | None) -> tf.TensorSpec:
    dims = spec.shape.as_list()
    if None in dims[1:] and length is None:
        raise NotBrowserReady(f"signature {signature!r}: input {spec.name!r} {dims} has a variable length, "
                              "and the task fixes none")
    shape = [1 if i == 0 and dim is None else length if dim is None else dim for i, dim in enumerate(dims)]
    dtype = tf.int32 if spec.dtype in AS_INT32 else spec.dtype
    if dtype not in BROWSER_DTYPES:
        raise NotBrowserReady(f"signature {signature!r}: input {spec.name!r} is {spec.dtype.name}, which "
                              "LiteRT.js does not take")
    return tf.TensorSpec(shape, dtype, name=spec.name)


def _cast_at_boundary(function: Callable, specs: list[tf.TensorSpec]) -> Callable:
    def cast(*inputs):
        inputs = [tf.cast(x, spec.dtype) if spec.dtype in AS_INT32 else x
                  for x, spec in zip(inputs, specs, strict=True)]
        outputs = function(*inputs)
        return {k: tf.cast(v, tf.int32) if v.dtype in AS_INT32 else v for k, v in outputs.items()}

    return cast


def web_tflite(task: Task, model: keras.Model, meta: dict, vectorizer: Vectorizer | None,
               tflite_model: bytes | None = None) -> bytes:
    """The browser-ready file of the task's web signatures; NotBrowserReady naming what is not. Where
    the page calls the `.tflite` file's own signatures and they are browser-ready already (the step
    signatures), that file (`tflite_model`) is the page's, not converted again."""
    if task.web_page is None:
        raise NotBrowserReady(f"task {task.name!r} has no browser page yet")
    if vectorizer is not None and vectorizer.tokenizer not in ("word", "char"):
        raise NotBrowserReady(f"the page tokenizes 'word' and 'char' text, not {vectorizer.tokenizer!r}")
    own = type(task).web_endpoints is WebRole.web_endpoints  # the page calls the .tflite file's signatures
    if own and tflite_model is not None and _problem(tflite_model) is None:
        return tflite_model
    endpoints = browser_ready(task.web_endpoints(model, meta), task.web_length(meta, vectorizer))
    content = to_tflite(model, endpoints)
    problem = _problem(content)
    if problem is not None:
        raise NotBrowserReady(problem)
    return content


def _problem(content: bytes) -> str | None:
    """What in a `.tflite` file LiteRT.js cannot run (a variable shape, another dtype), or None."""
    for name, runner in _runners(Interpreter(model_content=content)).items():
        for kind, details in (("input", runner.get_input_details()), ("output", runner.get_output_details())):
            for tensor, detail in details.items():
                if -1 in detail["shape_signature"]:
                    return (f"signature {name!r}: {kind} {tensor!r} has a variable shape "
                            f"{detail['shape_signature'].tolist()}")
                if np.dtype(detail["dtype"]) not in [np.dtype(d.as_numpy_dtype) for d in BROWSER_DTYPES]:
                    return (f"signature {name!r}: {kind} {tensor!r} is {np.dtype(detail['dtype']).name}, "
                            "which LiteRT.js does not take")
    return None


def signature_table(content: bytes) -> dict:
    """{signature: {inputs|outputs: {name: {shape, dtype}}}} of a `.tflite` file, for the page."""
    return {
        name: {kind: {tensor: {"shape": detail["shape"].tolist(), "dtype": np.dtype(detail["dtype"]).name}
                      for tensor, detail in sorted(details.items())}
               for kind, details in (("inputs", runner.get_input_details()),
                                     ("outputs", runner.get_output_details()))}
        for name, runner in _runners(Interpreter(model_content=content)).items()
    }


def replay_parity(task: Task, tflite_model: bytes, web_model: bytes, vectorizer: Vectorizer | None,
                  inputs: list, meta: dict) -> dict:
    """The largest difference between the two files over every call the task's driver makes on `inputs`;
    ExportError past the task's parity tolerance.

    Padding changes the order of the sums over a text's positions (an attention's softmax, its context),
    so the two files differ in the last bits; at a near-tie a search may then take another path and end
    elsewhere. A call whose ids (integer outputs) differ is counted as `diverged`, its numbers not
    compared; the export fails if the numbers of the calls that agree differ past the tolerance, or if
    no call agrees."""
    calls = []
    task.tflite_outputs(_Recording(Interpreter(model_content=tflite_model), calls), vectorizer, inputs, meta)
    runners = _runners(Interpreter(model_content=web_model))
    diff, replayed, diverged = 0.0, 0, 0
    for name, fed, expected in calls:
        if name not in runners:
            continue
        details = runners[name].get_input_details()
        got = runners[name](**{key: _padded(value, details[key]) for key, value in fed.items()})
        shared = {key: (np.asarray(value), got[key][tuple(slice(0, n) for n in np.shape(value))])
                  for key, value in expected.items() if key in got}
        replayed += 1
        if any(a.shape != b.shape for a, b in shared.values()):
            diff = np.inf
        elif any(np.issubdtype(a.dtype, np.integer) and not np.array_equal(a, b) for a, b in shared.values()):
            diverged += 1
        else:
            diff = max([diff] + [float(np.max(np.abs(b - a.astype(np.float64)), initial=0.0))
                                 for a, b in shared.values()])
    if not replayed:
        raise NotBrowserReady("the task's driver calls none of the page's signatures")
    if not diff <= task.parity_tolerance or diverged == replayed:  # also NaN
        raise ExportError(f"parity check failed: the browser-ready file differs from the .tflite file by "
                          f"{diff:.3g} (limit {task.parity_tolerance:g}) over {replayed - diverged} calls"
                          + (f"; {diverged} took another path" if diverged else ""))
    return {"calls": replayed, "max_abs_diff_vs_tflite": diff, "tolerance": task.parity_tolerance,
            "diverged": diverged}


def _padded(value, detail: dict) -> np.ndarray:
    """A value the `.tflite` file took, as the browser-ready one takes it: zeros after it up to the fixed
    shape, in the file's dtype."""
    value = np.asarray(value)
    shape = detail["shape"]
    if value.ndim != len(shape) or any(have > want for have, want in zip(value.shape, shape, strict=True)):
        raise ExportError(f"a {list(value.shape)} input does not fit the browser-ready {shape.tolist()}")
    widths = [(0, int(want - have)) for have, want in zip(value.shape, shape, strict=True)]
    return (np.pad(value, widths) if widths else value).astype(detail["dtype"])


def _runners(interpreter: Interpreter) -> dict:
    return {name: interpreter.get_signature_runner(name) for name in interpreter.get_signature_list()}


class _Recording:
    """An Interpreter whose signature runners record each call: (signature, inputs, outputs)."""

    def __init__(self, interpreter: Interpreter, calls: list):
        self.interpreter, self.calls = interpreter, calls

    def get_signature_runner(self, name: str):
        runner = self.interpreter.get_signature_runner(name)
        calls = self.calls

        class Runner:
            def get_input_details(self):
                return runner.get_input_details()

            def get_output_details(self):
                return runner.get_output_details()

            def __call__(self, **inputs):
                outputs = runner(**inputs)
                calls.append((name, {k: np.array(v) for k, v in inputs.items()},
                              {k: np.array(v) for k, v in outputs.items()}))
                return outputs

        return Runner()
