"""Export-time parity: Keras vs the SavedModel vs the TFLite file, on the same texts."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter

from seqzoo.errors import ExportError
from seqzoo.text import Vectorizer

TOLERANCE = 1e-5
# Edge cases every export must agree on, whatever the data: empty, unknown words, bad UTF-8.
EDGE_CASES = ["", "zzqx unseen wordforms", b"\xff\xfe not utf-8 \xc3".decode("latin-1")]


def check_parity(
    model: keras.Model,
    vectorizer: Vectorizer,
    saved_model_dir: Path,
    tflite_model: bytes,
    texts: list[str],
    output: str,
    tolerance: float = TOLERANCE,
) -> dict:
    """Max abs difference of `output` from the SavedModel and TFLite vs Keras.

    Keras and the SavedModel see the texts as one padded batch; TFLite sees each
    text alone at batch 1, as an app would call it. Raises ExportError with the
    numbers when either difference exceeds `tolerance`.
    """
    texts = list(texts) + EDGE_CASES
    expected = keras.ops.convert_to_numpy(model(vectorizer(texts), training=False))
    served = tf.saved_model.load(str(saved_model_dir)).signatures["serving_default"]
    from_saved_model = served(text=tf.constant(texts))[output].numpy()
    runner = Interpreter(model_content=tflite_model).get_signature_runner("serving_default")
    from_tflite = np.concatenate(
        [runner(token_ids=vectorizer([text]).numpy())[output] for text in texts]
    )
    report = {
        "texts": len(texts),
        "output": output,
        "saved_model_max_abs_diff": float(np.max(np.abs(from_saved_model - expected))),
        "tflite_max_abs_diff": float(np.max(np.abs(from_tflite - expected))),
        "tolerance": tolerance,
    }
    for target in ("saved_model", "tflite"):
        diff = report[f"{target}_max_abs_diff"]
        if not diff <= tolerance:  # also catches NaN
            raise ExportError(
                f"parity check failed: {target} {output} differ from Keras by {diff:.3g} "
                f"(limit {tolerance:g}) on {len(texts)} texts"
            )
    return report
