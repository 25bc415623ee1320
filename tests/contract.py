"""The contract every zoo entry meets, as helpers the parametrised tests call.

An entry is tested the moment it registers: tiny preset, forward on two lengths,
fit lowers the loss, `.keras` round trip, SavedModel in a clean process, TFLite.
What differs by task (the data, the targets, the serving metadata) each task supplies in
`tests/tiny/<task>.py`; nothing here asks which task an entry has.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from tiny import Tiny, TinyTask, tiny_task

import seqzoo
from seqzoo.registry import get_entry
from seqzoo.tasks import Task, get_task


def task_of(name: str) -> Task:
    return get_task(get_entry(name).task)


def tiny_of(name: str) -> TinyTask:
    return tiny_task(get_entry(name).task)


@dataclass
class Trained:
    name: str
    model: keras.Model
    data: Tiny
    losses: list[float]


def train_tiny(name: str, steps: int = 15) -> Trained:
    """Builds the tiny preset for its task's tiny data and fits a few full-batch steps."""
    config = seqzoo.get_config(name, preset="tiny")
    data = tiny_of(name).data(config)
    keras.utils.set_random_seed(0)
    model = seqzoo.build(name, preset="tiny", vectorizer=data.vectorizer)
    history = model.fit(data.inputs, data.targets, batch_size=len(data.targets), epochs=steps, verbose=0)
    return Trained(name, model, data, history.history["loss"])


def reference(trained: Trained) -> dict[str, np.ndarray]:
    """What Keras gives for the outputs serving_default returns (and any only the `.tflite` file gives)."""
    data = trained.data
    return task_of(trained.name).reference_outputs(trained.model, data.vectorizer, data.served, data.meta)


def saved_model_outputs_in_clean_process(requests: dict[str, tuple[Path, list]]) -> dict[str, dict]:
    """serving_default of each SavedModel, run by one Python that imports tensorflow only.

    `requests` maps a name to (SavedModel path, serving_default's input name, its values: texts,
    encoded images, frames or waveforms).
    Each reply holds `outputs` (the non-string outputs as lists) or the `error` the load or call
    raised, and `loaded`: the seqzoo / tensorflow_text modules imported by then. One process for
    all: importing TensorFlow alone takes about 7 s on 2 cores.
    """
    script = (
        "import json, sys, tensorflow as tf\n"
        "replies = {}\n"
        "import base64\n"
        "for name, (path, key, values) in json.loads(sys.stdin.read()).items():\n"
        "    if values and isinstance(values[0], dict):\n"
        "        values = [base64.b64decode(v['b64']) for v in values]\n"
        "    try:\n"
        "        serve = tf.saved_model.load(path).signatures['serving_default']\n"
        "        out = serve(**{key: tf.constant(values)})\n"
        "        replies[name] = {'outputs': {k: v.numpy().tolist() for k, v in out.items()\n"
        "                                     if v.dtype != tf.string}}\n"
        "    except Exception as error:\n"
        "        replies[name] = {'error': f'{type(error).__name__}: {error}'}\n"
        "    replies[name]['loaded'] = [m for m in sys.modules\n"
        "                               if m.startswith(('seqzoo', 'tensorflow_text'))]\n"
        "print(json.dumps(replies))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps({name: _request(*request) for name, request in requests.items()}),
        capture_output=True, text=True, check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def _request(path: Path, key: str, values) -> list:
    """JSON for the clean process: arrays as lists, bytes as {"b64": ...}."""
    if isinstance(values, np.ndarray):
        return [str(path), key, values.tolist()]
    return [str(path), key, [{"b64": base64.b64encode(v).decode()} if isinstance(v, bytes) else v
                             for v in values]]


def tflite_outputs(trained: Trained, path: Path) -> dict[str, np.ndarray]:
    """The .tflite file run by LiteRT at batch 1, driven as an app drives it."""
    from ai_edge_litert.interpreter import Interpreter

    data = trained.data
    interpreter = Interpreter(model_path=str(path))
    return task_of(trained.name).tflite_outputs(interpreter, data.vectorizer, data.served, data.meta)


def requests_in_clean_process(requests: dict[str, tuple[Path, str, Path]]) -> dict[str, dict]:
    """Request files (`seqzoo request --out`) run through their SavedModel by one Python that imports
    tensorflow and tensorflow-serving-api only, converting them as TF Serving does: a REST body's
    JSON by the documented mapping (row `instances` stacked per input, columnar `inputs` whole,
    `{"b64": ...}` as bytes, numbers at the signature's dtype), a gRPC PredictRequest's tensors by
    `tf.make_ndarray`. `requests` maps a name to (version folder, signature, request file); each
    reply holds the `outputs` (strings decoded) or the `error`, and the `model_spec` of a gRPC one."""
    script = r'''
import base64, json, sys
import numpy as np, tensorflow as tf
from tensorflow_serving.apis import predict_pb2

def from_json(value, dtype):
    if isinstance(value, list):
        return [from_json(v, dtype) for v in value]
    if isinstance(value, dict):
        return base64.b64decode(value["b64"])
    return value.encode("utf-8") if dtype == tf.string else value

def rest_inputs(body, specs):
    if "instances" in body:
        rows = body["instances"]
        named = rows and isinstance(rows[0], dict) and set(rows[0]) != {"b64"}  # a b64 object is a value
        columns = ({name: [row[name] for row in rows] for name in specs} if named
                   else {next(iter(specs)): rows})
    else:
        columns = body["inputs"] if isinstance(body["inputs"], dict) else {next(iter(specs)): body["inputs"]}
    return {name: tf.constant(from_json(columns[name], s.dtype), s.dtype) for name, s in specs.items()}

def plain(value):
    value = value.numpy()
    if value.dtype == object:
        return np.vectorize(lambda b: b.decode("utf-8", "replace"), otypes=[object])(value).tolist()
    return value.tolist()

replies, loaded = {}, {}
for name, (path, signature, request) in json.loads(sys.stdin.read()).items():
    try:
        model = loaded.setdefault(path, tf.saved_model.load(path))
        function = model.signatures[signature]
        specs = function.structured_input_signature[1]
        reply = {}
        if request.endswith(".pb"):
            proto = predict_pb2.PredictRequest.FromString(open(request, "rb").read())
            reply["model_spec"] = [proto.model_spec.name, proto.model_spec.version.value,
                                   proto.model_spec.signature_name]
            inputs = {key: tf.make_ndarray(tensor) for key, tensor in proto.inputs.items()}
        else:
            body = json.load(open(request, encoding="utf-8"))
            assert body["signature_name"] == signature, body["signature_name"]
            inputs = rest_inputs(body, specs)
        reply["outputs"] = {key: plain(value) for key, value in function(**inputs).items()}
    except Exception as error:
        reply = {"error": f"{type(error).__name__}: {error}"}
    replies[name] = reply
print(json.dumps(replies))
'''
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True,
        input=json.dumps({name: [str(path), signature, str(request)]
                          for name, (path, signature, request) in requests.items()}),
    )
    return json.loads(result.stdout.strip().splitlines()[-1])
