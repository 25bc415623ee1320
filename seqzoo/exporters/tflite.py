"""Keras model -> a `.tflite` flatbuffer with builtin ops only, run by LiteRT."""

from __future__ import annotations

import tempfile
from pathlib import Path

import keras
import tensorflow as tf

from seqzoo.errors import ExportError, first_line
from seqzoo.exporters.saved_model import write_saved_model
from seqzoo.tasks import Endpoint


def to_tflite(model: keras.Model, endpoints: dict[str, Endpoint]) -> bytes:
    """Converts through a SavedModel of the endpoints (batch 1), with builtin ops only.

    Builtins only, because Flex (SELECT_TF_OPS) models do not run in the Python
    LiteRT interpreter (LiteRT#6458); converting from a concrete function instead
    leaves READ_VARIABLE ops inside the RNN's WHILE loop that fail at run time.
    """
    with tempfile.TemporaryDirectory(prefix="seqzoo-tflite-") as tmp:
        write_saved_model(Path(tmp), endpoints, model)
        converter = tf.lite.TFLiteConverter.from_saved_model(tmp, signature_keys=list(endpoints))
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        try:
            return converter.convert()
        except Exception as err:  # the converter raises several types, all with the op list
            raise ExportError(
                f"model {model.name!r} does not convert to TFLite with builtin ops only: {first_line(err)}"
            ) from err
