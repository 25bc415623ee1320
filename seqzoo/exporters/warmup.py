"""TF Serving's warmup file: `assets.extra/tf_serving_warmup_requests`, a TFRecord of `PredictionLog`s
(tensorflow-serving-api's protos), one request per signature, which the model server replays when
it loads a version, so the first user request does not pay for graph warm-up."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

from seqzoo.errors import ExportError, first_line

WARMUP_FILE = "assets.extra/tf_serving_warmup_requests"
# Scalars a signature takes, at values every served graph accepts (its asserts included).
SCALARS = {"beam_width": 1, "max_new_tokens": 1, "frames": 1, "samples": 1, "temperature": 1.0,
           "top_k": 0, "top_p": 1.0, "seed": 0}


def warmup_inputs(signature, serving_input: str, example) -> dict[str, np.ndarray]:
    """One request's inputs for a loaded signature: `example` (a held-out input) for the served
    input and for every string, the usual value of a sampling scalar, zeros (size 1 where a
    dimension is free) for the rest: states, caches, memories."""
    _, specs = signature.structured_input_signature
    inputs = {}
    for name, spec in specs.items():
        if name in SCALARS and spec.shape.rank == 0:
            inputs[name] = np.array(SCALARS[name], spec.dtype.as_numpy_dtype)
        elif name == serving_input or spec.dtype == tf.string:  # a batch of one
            dtype = object if spec.dtype == tf.string else spec.dtype.as_numpy_dtype
            inputs[name] = np.asarray([example], dtype)
        else:
            shape = [d if d is not None else 1 for d in spec.shape]
            inputs[name] = np.zeros(shape, spec.dtype.as_numpy_dtype)
    return inputs


def write_warmup(version: Path, loaded, name: str, serving_input: str, example) -> int:
    """Writes the warmup file into a version folder: one PredictionLog per signature of `loaded` (its
    SavedModel, loaded). Returns the number of requests. `replay_warmup` runs them."""
    from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2

    path = version / WARMUP_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(path)) as writer:
        for signature_name in sorted(loaded.signatures):
            inputs = warmup_inputs(loaded.signatures[signature_name], serving_input, example)
            request = predict_pb2.PredictRequest(
                model_spec=model_pb2.ModelSpec(name=name, signature_name=signature_name),
                inputs={key: tf.make_tensor_proto(value) for key, value in inputs.items()})
            log = prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=request))
            writer.write(log.SerializeToString())
    return len(loaded.signatures)


def replay_warmup(version: Path, loaded=None) -> list[str]:
    """Runs a version's warmup requests through its SavedModel as the model server does at load:
    each PredictRequest's tensors, converted back from their protos, into its signature. Returns
    the signatures replayed; ExportError naming one that fails (the server would not load it)."""
    from tensorflow_serving.apis import prediction_log_pb2

    loaded = loaded or tf.saved_model.load(str(version))
    replayed = []
    for record in tf.data.TFRecordDataset(str(version / WARMUP_FILE)):
        request = prediction_log_pb2.PredictionLog.FromString(record.numpy()).predict_log.request
        name = request.model_spec.signature_name
        if request.model_spec.name != version.parent.name:
            raise ExportError(f"the warmup request for signature {name!r} names model "
                              f"{request.model_spec.name!r}, not {version.parent.name!r}")
        try:
            loaded.signatures[name](**{key: tf.make_ndarray(proto) for key, proto in request.inputs.items()})
        except (tf.errors.OpError, ValueError, TypeError, KeyError) as err:
            raise ExportError(f"the warmup request for signature {name!r} fails: {first_line(err)}") from None
        replayed.append(name)
    return replayed
