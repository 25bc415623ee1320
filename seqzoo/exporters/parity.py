"""Export-time parity: Keras vs the SavedModel vs the TFLite file, on the same texts."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter

from seqzoo.errors import ExportError
from seqzoo.tasks import Task
from seqzoo.text import Vectorizer


def check_parity(
    task: Task,
    model: keras.Model,
    vectorizer: Vectorizer,
    saved_model,  # the SavedModel, loaded
    tflite_model: bytes,
    heldout: list,
    meta: dict,
    tolerance: float | None = None,
) -> dict:
    """Max abs difference of the task's outputs from the SavedModel and TFLite vs Keras.

    The SavedModel gets the held-out inputs and the task's edge cases (`Task.parity_inputs`)
    as one batch through `serving_default`; the TFLite file is driven one input at a time,
    as an app would. Raises ExportError with the numbers when either difference exceeds
    `tolerance` (default: the task's `parity_tolerance`), or when the outputs' shapes differ.
    """
    tolerance = task.parity_tolerance if tolerance is None else tolerance
    texts = task.parity_inputs(heldout)
    expected = task.reference_outputs(model, vectorizer, texts, meta)
    served = saved_model.signatures["serving_default"]
    from_saved_model = {k: v.numpy() for k, v in served(**{task.serving.input: tf.constant(texts)}).items()}
    from_tflite = task.tflite_outputs(Interpreter(model_content=tflite_model), vectorizer, texts, meta)
    report = {"texts": len(texts), "outputs": sorted(expected), "tolerance": tolerance}
    for target, outputs in (("saved_model", from_saved_model), ("tflite", from_tflite)):
        diff = max(float(np.max(np.abs(outputs[k] - v))) if np.shape(outputs[k]) == np.shape(v) else np.inf
                   for k, v in expected.items() if k in outputs)
        report[f"{target}_max_abs_diff"] = diff
        if not diff <= tolerance:  # also catches NaN
            raise ExportError(
                f"parity check failed: {target} {', '.join(sorted(expected))} differ from Keras "
                f"by {diff:.3g} (limit {tolerance:g}) on {len(texts)} texts"
            )
    return report
