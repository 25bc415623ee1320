"""What each task serves: the SavedModel endpoints (raw strings in) and the TFLite one (ids in).

An endpoint is (function, input_signature). Classification serves
`serving_default`: `text` (tf.string [batch]) -> `probabilities` (float32
[batch, classes]) and `label` (tf.string [batch]).
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import tensorflow as tf

from seqzoo.text import Vectorizer

Endpoint = tuple[Callable, list[tf.TensorSpec]]
TEXT = [tf.TensorSpec([None], tf.string, name="text")]
TOKEN_IDS_BATCH_1 = [tf.TensorSpec([1, None], tf.int32, name="token_ids")]


def classification_endpoints(
    model: keras.Model, vectorizer: Vectorizer, labels: list[str]
) -> dict[str, Endpoint]:
    label_names = tf.constant(labels)

    def serve(text):
        probabilities = model(vectorizer(text), training=False)
        label = tf.gather(label_names, tf.argmax(probabilities, axis=-1))
        return {"probabilities": probabilities, "label": label}

    return {"serving_default": (serve, TEXT)}


def classification_tflite_endpoint(model: keras.Model) -> Endpoint:
    return (lambda token_ids: {"probabilities": model(token_ids, training=False)}), TOKEN_IDS_BATCH_1


ENDPOINTS = {"classification": classification_endpoints}
TFLITE_ENDPOINTS = {"classification": classification_tflite_endpoint}
# The outputs parity compares: Keras vs SavedModel vs TFLite.
COMPARED_OUTPUTS = {"classification": "probabilities"}
