"""TF Serving's warmup file: `assets.extra/tf_serving_warmup_requests`, a TFRecord of `PredictionLog`s
(tensorflow-serving-api's protos), one request per signature, which the model server replays when
it loads a version, so the first user request does not pay for graph warm-up."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

from seqzoo.errors import ExportError, first_line
from seqzoo.exporters.requests import fill_inputs, predict_request, signature_specs

WARMUP_FILE = "assets.extra/tf_serving_warmup_requests"


def warmup_inputs(specs: dict, serving_input: str, example) -> dict[str, np.ndarray]:
    """One request's inputs for a signature's input specs: `example` (a held-out input) for the served
    input and for every string, the rest as `fill_inputs` fills them (scalars at their usual values,
    states, caches and memories zeros)."""
    spec = specs.get(serving_input)
    given = {serving_input: [example]} if spec is not None and spec.shape.rank else {}
    return fill_inputs(specs, given, strings=[example])[0]


def write_warmup(version: Path, loaded, name: str, serving_input: str, example) -> int:
    """Writes the warmup file into a version folder: one PredictionLog per signature of `loaded` (its
    SavedModel, loaded). Returns the number of requests. `replay_warmup` runs them."""
    from tensorflow_serving.apis import prediction_log_pb2

    path = version / WARMUP_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(path)) as writer:
        for signature in sorted(loaded.signatures):
            inputs = warmup_inputs(signature_specs(loaded, signature), serving_input, example)
            request = predict_request(inputs, name, signature)
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
