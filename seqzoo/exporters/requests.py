"""TF Serving requests for any signature of an exported version: the gRPC `PredictRequest`
(tensorflow-serving-api's proto) and the REST `:predict` body, in the row (`instances`) or the
columnar (`inputs`) format, strings that are not UTF-8 (and image bytes) as `{"b64": ...}`.

The same inputs make the warmup file (`seqzoo.exporters.warmup`) and `seqzoo request`.
"""

from __future__ import annotations

import base64
import json

import numpy as np
import tensorflow as tf

from seqzoo.errors import UserError

# Scalars a signature takes, at values every served graph accepts (its asserts included).
SCALARS = {"beam_width": 1, "max_new_tokens": 1, "frames": 1, "samples": 1, "temperature": 1.0,
           "top_k": 0, "top_p": 1.0, "seed": 0, "bias": 0.0, "points": 1, "max_points": 1}


def signature_specs(loaded, signature: str) -> dict[str, tf.TensorSpec]:
    """The named inputs of one signature of a loaded SavedModel; UserError naming the ones it has."""
    if signature not in loaded.signatures:
        raise UserError(f"the export has no signature {signature!r}; it has "
                        f"{', '.join(sorted(loaded.signatures))}")
    return dict(loaded.signatures[signature].structured_input_signature[1])


def card_scalars(meta: dict) -> dict:
    """SCALARS with an export's own defaults (its card's beam width, new tokens, frames, seconds), from
    the task's metadata in the card."""
    defaults = {key: meta[key] for key in ("beam_width", "max_new_tokens", "frames")
                if isinstance(meta.get(key), int)}
    if isinstance(meta.get("seconds"), int | float) and isinstance(meta.get("sample_rate"), int):
        defaults["samples"] = round(meta["seconds"] * meta["sample_rate"])
    return {**SCALARS, **defaults}


def fill_inputs(specs: dict[str, tf.TensorSpec], given: dict[str, object], strings: list | None = None,
                scalars: dict = SCALARS) -> tuple[dict[str, np.ndarray], list[str]]:
    """Every input of a signature as an array of its dtype: `given` ones converted and checked, a
    scalar at its usual value (`scalars`), a string input as `strings` (default: none, shape [0]),
    the rest zeros, size 1 where a dimension is free (states, caches, memories: a template).

    Returns (inputs, the names filled with zeros). UserError naming an unknown input, a value of
    the wrong shape or type, or a float that is not finite.
    """
    unknown = sorted(set(given) - set(specs))
    if unknown:
        raise UserError(f"no input {unknown[0]!r} in this signature; its inputs are "
                        f"{', '.join(sorted(specs))}")
    inputs, zeros = {}, []
    for name, spec in specs.items():
        if name in given:
            inputs[name] = _checked(name, spec, given[name])
        elif name in scalars and spec.shape.rank == 0:
            inputs[name] = np.array(scalars[name], spec.dtype.as_numpy_dtype)
        elif spec.dtype == tf.string:
            inputs[name] = np.array(strings or [], object)
        else:
            shape = [d if d is not None else 1 for d in spec.shape]
            inputs[name] = np.zeros(shape, spec.dtype.as_numpy_dtype)
            zeros.append(name)
    return inputs, zeros


def request_inputs(exported, signature: str, values: list[str], given: dict) -> tuple[dict, list[str]]:
    """The inputs of a request to `signature` of an ExportedModel, as `seqzoo request` builds them:
    `values` (what a user names on the command line: texts, image files, chords, WAV files) fill the
    task's input for the signature (`Task.request_input`), `given` any input by name, and the rest
    are filled by `fill_inputs` with the card's defaults. Returns (inputs, the names sent as zeros)."""
    from seqzoo.tasks import get_task

    task = get_task(exported.card["task"])
    specs = signature_specs(exported.saved_model, signature)
    main = task.request_input(signature, specs)
    given = dict(given)
    if main is None and values:
        raise UserError(f"signature {signature!r} has no {task.serving.input} input to fill with INPUT; "
                        f"set its inputs with --input NAME=VALUE ({', '.join(sorted(specs))})")
    if main is not None and main in given and values:
        raise UserError(f"input {main!r} is given twice: as INPUT and as --input")
    if main is not None and main not in given:
        if not values and main not in task.serving.optional_request_inputs:
            raise UserError(f"give the {main} to send (INPUT ...), or --input {main}=VALUE")
        given[main] = task.request_values(main, values, exported.meta)
    return fill_inputs(specs, given, scalars=card_scalars(exported.meta))


def _checked(name: str, spec: tf.TensorSpec, value) -> np.ndarray:
    kind = f"{spec.dtype.name} {_shape(spec.shape)}"
    try:
        if spec.dtype == tf.string:
            array = np.array(value, object)
            array = np.vectorize(_bytes, otypes=[object])(array) if array.size else array
        else:
            array = np.array(value)
            if array.dtype == object or array.dtype.kind not in "biuf" or (
                    array.dtype.kind == "f" and not spec.dtype.is_floating):
                raise ValueError
    except (ValueError, TypeError, OverflowError):
        raise UserError(f"input {name!r} takes {kind}, got {_short(value)}") from None
    if spec.dtype.is_integer and array.dtype != object and array.size:  # never wrapped around
        limits = np.iinfo(spec.dtype.as_numpy_dtype)
        if array.min() < limits.min or array.max() > limits.max:
            raise UserError(f"input {name!r} takes {kind}: {_short(value)} is out of its range "
                            f"({limits.min} to {limits.max})")
    array = array.astype(spec.dtype.as_numpy_dtype) if array.dtype != object else array
    if not spec.shape.is_compatible_with(array.shape):
        raise UserError(f"input {name!r} takes {kind}, got shape {_shape(array.shape)}")
    if spec.dtype.is_floating and not np.isfinite(array).all():
        raise UserError(f"input {name!r} holds a value that is not finite (NaN or infinity)")
    return array


def _bytes(value) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    raise TypeError


def _shape(shape) -> str:
    return "[" + ", ".join("None" if d is None else str(d) for d in tf.TensorShape(shape)) + "]"


def _short(value) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, np.ndarray) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def predict_request(inputs: dict[str, np.ndarray], model: str, signature: str, version: int | None = None):
    """The gRPC PredictRequest (tensorflow_serving.apis.predict_pb2) of these inputs."""
    from tensorflow_serving.apis import model_pb2, predict_pb2

    spec = model_pb2.ModelSpec(name=model, signature_name=signature)
    if version is not None:
        spec.version.value = version
    return predict_pb2.PredictRequest(
        model_spec=spec, inputs={name: tf.make_tensor_proto(value) for name, value in inputs.items()})


def row_format_problem(inputs: dict[str, np.ndarray]) -> str | None:
    """Why the REST row format cannot carry these inputs (None if it can): every input must be a
    batch of the same size."""
    scalars = [name for name, value in inputs.items() if value.ndim == 0]
    if scalars:
        return f"the row format cannot carry scalar inputs ({', '.join(sorted(scalars))})"
    sizes = {name: len(value) for name, value in inputs.items()}
    if len(set(sizes.values())) > 1:
        return ("the row format needs one batch size, and the inputs' first dimensions differ ("
                + ", ".join(f"{name} {size}" for name, size in sorted(sizes.items())) + ")")
    return None


def rest_body(inputs: dict[str, np.ndarray], signature: str, *, columnar: bool = False,
              binary: tuple[str, ...] = ()) -> dict:
    """The JSON body of `POST /v1/models/NAME[/versions/N]:predict`.

    Row format (`instances`: a list of per-example values, or of objects when there are several
    inputs), or columnar (`inputs`: each input whole). A string is sent as `{"b64": ...}` when it is
    not UTF-8 or its input is one of `binary` (image bytes). UserError when the row format cannot
    carry the inputs (`row_format_problem`).
    """
    values = {name: _json(inputs[name], name in binary) for name in sorted(inputs)}
    body = {"signature_name": signature}
    if columnar:
        return {**body, "inputs": values}
    problem = row_format_problem(inputs)
    if problem:
        raise UserError(f"signature {signature!r}: {problem}; use the columnar format")
    if len(values) == 1:
        return {**body, "instances": next(iter(values.values()))}
    names = sorted(values)
    return {**body, "instances": [dict(zip(names, row, strict=True))
                                  for row in zip(*(values[n] for n in names), strict=True)]}


def _json(value: np.ndarray, binary: bool):
    if value.dtype != object:
        return value.tolist()
    return np.vectorize(lambda s: _string(s, binary), otypes=[object])(value).tolist() if value.size else []


def _string(value: bytes, binary: bool):
    if not binary:
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return {"b64": base64.b64encode(value).decode("ascii")}


def rest_url(model: str, version: int, host: str = "localhost:8501") -> str:
    """Where a version's REST predict API listens on a model server with the default REST port."""
    return f"http://{host}/v1/models/{model}/versions/{version}:predict"
