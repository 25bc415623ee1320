"""The contract every zoo entry meets, as helpers the parametrised tests call.

An entry is tested the moment it registers: tiny preset, forward on two lengths,
fit lowers the loss, `.keras` round trip, SavedModel in a clean process, TFLite.
What differs by task (the data, the targets, the serving metadata) is here.
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

import seqzoo
from seqzoo.data.audio import mu_law_encode
from seqzoo.data.captions import CaptionedImages
from seqzoo.data.music import PITCHES, chord_frames
from seqzoo.data.translation import ParallelTexts
from seqzoo.registry import get_entry
from seqzoo.tasks import get_task
from seqzoo.tasks.audio import audio_meta
from seqzoo.tasks.captioning import caption_dataset, captioning_meta
from seqzoo.tasks.language_model import lm_meta, lm_vectorizer, token_stream
from seqzoo.tasks.music import music_meta
from seqzoo.tasks.translation import START_ID, pair_dataset, target_vectorizer, translation_meta
from seqzoo.text import Vectorizer

TEXTS = ["a gorgeous film", "dull and tedious", "wonderful cast", "a tedious mess",
         "moving and gorgeous", "boring and dull", "", "unseen words entirely"]
LABELS = np.array([1, 0, 1, 0, 1, 0, 0, 1])


@dataclass
class Trained:
    name: str
    model: keras.Model
    vectorizer: Vectorizer
    meta: dict
    texts: list  # what serving_default takes: texts, or encoded images
    losses: list[float]
    inputs: object = None  # what the Keras model takes for `texts`
    heldout: list | None = None  # what export's parity check takes, when not `texts` (music: chords)


def task_data(name: str, config: dict):
    """(vectorizer, inputs, targets, meta) of a tiny task for entry `name`."""
    task = get_entry(name).task
    if task == "classification":
        vectorizer = Vectorizer(**config["text"]).adapt(TEXTS)
        return vectorizer, vectorizer(TEXTS), LABELS, {"labels": ["neg", "pos"]}
    if task == "language_model":
        vectorizer = lm_vectorizer(config["text"], [t for t in TEXTS if t])
        stream = token_stream(vectorizer, [t for t in TEXTS if t])
        count = (len(stream) - 1) // 4  # windows of 4 next-token pairs
        windows = stream[: count * 4].reshape(count, 4), stream[1 : count * 4 + 1].reshape(count, 4)
        config["text"]["max_tokens"] = vectorizer.vocabulary_size()
        return vectorizer, *windows, lm_meta(config, vectorizer)
    if task == "tagging":  # tag each word by its length: learnable from the embedding alone
        vectorizer = Vectorizer(**config["text"]).adapt(TEXTS)
        ids = vectorizer(TEXTS).numpy()
        tags = np.zeros_like(ids)
        for row, tokens in enumerate(vectorizer.tokenize(TEXTS).to_list()):
            tags[row, : len(tokens)] = [len(token) > 4 for token in tokens]
        spare = [f"unused{i}" for i in range(config["model"]["num_tags"] - 2)]
        return vectorizer, ids, tags, {"tags": ["short", "long", *spare]}
    if task == "translation":  # each text's words reversed: a task an encoder-decoder can start on
        source = Vectorizer(**config["text"]).adapt(TEXTS)
        targets = [" ".join(reversed(t.split())) or "nothing" for t in TEXTS]
        target = target_vectorizer(config["target"], targets)
        pairs = ParallelTexts(TEXTS, targets, list(range(1, len(TEXTS) + 1)))
        (source_ids, decoder_in), decoder_out = next(iter(pair_dataset(pairs, source, target, len(TEXTS))))
        return source, [source_ids.numpy(), decoder_in.numpy()], decoder_out.numpy(), \
            translation_meta(config, target)
    if task == "captioning":  # an image of coloured blocks per text, captioned by the text
        config["text"]["max_tokens"] = 40
        vectorizer = target_vectorizer(config["text"], [t for t in TEXTS if t])
        config["text"]["max_tokens"] = vectorizer.vocabulary_size()
        meta = captioning_meta(config, vectorizer)
        paths = _block_images(len(TEXTS))
        images = CaptionedImages(paths, [[t or "nothing"] for t in TEXTS])
        (pixels, caption_in), caption_out = next(iter(caption_dataset(images, vectorizer, meta["image_size"],
                                                                        len(TEXTS))))
        return vectorizer, [pixels.numpy(), caption_in.numpy()], caption_out.numpy(), meta
    if task == "music":  # a cadence, I-IV-V-I in C, repeated: the next chord follows from this one
        rolls = np.stack([chord_frames(CADENCE * 3)] * 4)
        return None, rolls[:, :-1], rolls[:, 1:], music_meta(config, {})
    if task == "audio":  # a 440 Hz tone at 8 kHz, four phases of it: the next sample follows the last two
        codes = np.stack([tone_codes(40, start=9 * i) for i in range(4)])
        return None, codes[:, :-1], codes[:, 1:], audio_meta(config, {})
    raise NotImplementedError(f"no contract data for task {task!r}")


CADENCE = [[48, 60, 64, 67], [53, 60, 65, 69], [55, 59, 62, 67], [48, 60, 64, 72]]


def tone_codes(samples: int, start: int = 0) -> np.ndarray:
    """Mu-law codes of a 440 Hz tone at 8 kHz, amplitude 0.5, from sample `start` on."""
    t = np.arange(start, start + samples) / 8000
    return mu_law_encode(0.5 * np.sin(2 * np.pi * 440 * t)).numpy()


def audio_waveforms(texts: list) -> np.ndarray:
    """Arbitrary texts as waveforms [n, time]: each byte a sample (byte - 128) / 128, an empty text
    one silent sample, padded with silence to the longest."""
    rows = [t.encode("utf-8", "surrogatepass") if isinstance(t, str) else t for t in texts]
    waveforms = np.zeros((len(rows), max(1, *map(len, rows))), np.float32)
    for i, row in enumerate(rows):
        waveforms[i, : len(row)] = (np.frombuffer(row, np.uint8).astype(np.float32) - 128) / 128
    return waveforms


def music_frames(texts: list) -> np.ndarray:
    """Arbitrary texts as piano-roll frames [n, time, 88]: each byte a frame holding note byte % 88,
    an empty text one silent frame, padded with silence to the longest."""
    rows = [t.encode("utf-8", "surrogatepass") if isinstance(t, str) else t for t in texts]
    frames = np.zeros((len(rows), max(1, *map(len, rows)), PITCHES), np.float32)
    for i, row in enumerate(rows):
        frames[i, np.arange(len(row)), np.frombuffer(row, np.uint8) % PITCHES] = 1
    return frames


def _block_images(count: int) -> list[str]:
    """PNG files of a few coloured rectangles each, in a temporary folder (seeded)."""
    import tempfile

    from PIL import Image

    folder = Path(tempfile.mkdtemp(prefix="seqzoo-contract-images-"))
    rng = np.random.default_rng(0)
    paths = []
    for i in range(count):
        pixels = np.zeros((24, 24, 3), np.uint8)
        for _ in range(i % 3 + 1):
            top, left = rng.integers(0, 16, size=2)
            pixels[top : top + 8, left : left + 8] = rng.integers(64, 256, size=3)
        path = folder / f"{i}.png"
        Image.fromarray(pixels).save(path)
        paths.append(str(path))
    return paths


def image_bytes(paths: list[str]) -> list[bytes]:
    return [Path(p).read_bytes() for p in paths]


def forward_inputs(name: str, ids: np.ndarray, model: keras.Model | None = None):
    """What the entry's model takes for token ids: an encoder-decoder also takes target ids; a
    captioner takes images (random) and the ids as its caption."""
    task = get_entry(name).task
    if task == "translation":
        return [ids, np.full((len(ids), 5), START_ID, np.int32)]
    if task == "captioning":
        shape = (len(ids), *model.inputs[0].shape[1:])
        return [np.random.default_rng(0).uniform(0, 255, shape).astype("float32"), ids]
    if task == "music":  # frames: the ids' parity picks each note
        return (np.random.default_rng(ids.sum()).integers(0, 2, (*ids.shape, PITCHES)) * (ids[..., None] % 2)
                ).astype("float32")
    return ids  # audio: the ids are mu-law codes as they are


def expected_output_shape(name: str, batch: int, length: int, model: keras.Model) -> tuple:
    if get_entry(name).task in ("language_model", "tagging", "captioning", "music", "audio"):  # per step
        return (batch, length, model.output_shape[-1])
    if get_entry(name).task == "translation":  # an output per target step
        return (batch, 5, model.output_shape[-1])
    return (batch, model.output_shape[-1])


def train_tiny(name: str, steps: int = 15) -> Trained:
    """Builds the tiny preset for a tiny task and fits a few full-batch steps."""
    config = seqzoo.get_config(name, preset="tiny")
    vectorizer, inputs, targets, meta = task_data(name, config)
    keras.utils.set_random_seed(0)
    model = seqzoo.build(name, preset="tiny", vectorizer=vectorizer)
    history = model.fit(inputs, targets, batch_size=len(targets), epochs=steps, verbose=0)
    if get_entry(name).task == "captioning":  # served: the images' bytes
        return Trained(name, model, vectorizer, meta, image_bytes(_block_images(len(TEXTS))),
                       history.history["loss"], inputs)
    if get_entry(name).task == "music":  # served: frames; parity takes chords, as run.json keeps them
        chords = [(CADENCE * 2)[i:i + 3] for i in range(4)]
        return Trained(name, model, vectorizer, meta, get_task("music").parity_inputs(chords),
                       history.history["loss"], inputs, heldout=chords)
    if get_entry(name).task == "audio":  # served: waveforms; parity takes codes, as run.json keeps them
        excerpts = [tone_codes(24, start=5 * i).tolist() for i in range(4)]
        return Trained(name, model, vectorizer, meta, get_task("audio").parity_inputs(excerpts),
                       history.history["loss"], inputs, heldout=excerpts)
    return Trained(name, model, vectorizer, meta, TEXTS, history.history["loss"],
                   forward_inputs(name, vectorizer(TEXTS).numpy()))


def reference(trained: Trained) -> dict[str, np.ndarray]:
    """What Keras gives for the outputs serving_default returns."""
    task = get_task(get_entry(trained.name).task)
    return task.reference_outputs(trained.model, trained.vectorizer, trained.texts, trained.meta)


def saved_model_outputs_in_clean_process(requests: dict[str, tuple[Path, list]]) -> dict[str, dict]:
    """serving_default of each SavedModel, run by one Python that imports tensorflow only.

    `requests` maps a name to (SavedModel path, texts, encoded images, frames or waveforms: the input
    is `image` when they are bytes, `frames` for a 3-D array, `waveform` for a 2-D one, else `text`).
    Each reply holds `outputs` (the non-string outputs as lists) or the `error` the load or call
    raised, and `loaded`: the seqzoo / tensorflow_text modules imported by then. One process for
    all: importing TensorFlow alone takes about 7 s on 2 cores.
    """
    script = (
        "import json, sys, tensorflow as tf\n"
        "replies = {}\n"
        "import base64\n"
        "for name, (path, key, values) in json.loads(sys.stdin.read()).items():\n"
        "    if key == 'image':\n"
        "        values = [base64.b64decode(v) for v in values]\n"
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
        input=json.dumps({name: _request(path, values) for name, (path, values) in requests.items()}),
        capture_output=True, text=True, check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def _request(path: Path, values: list) -> list:
    if isinstance(values, np.ndarray):
        return [str(path), "frames" if values.ndim == 3 else "waveform", values.tolist()]
    if values and isinstance(values[0], bytes):
        return [str(path), "image", [base64.b64encode(v).decode() for v in values]]
    return [str(path), "text", values]


def tflite_outputs(trained: Trained, path: Path) -> dict[str, np.ndarray]:
    """The .tflite file run by LiteRT at batch 1, driven as an app drives it."""
    from ai_edge_litert.interpreter import Interpreter

    task = get_task(get_entry(trained.name).task)
    return task.tflite_outputs(Interpreter(model_path=str(path)), trained.vectorizer, trained.texts,
                               trained.meta)


def request_values(name: str, input_name: str, folder: Path) -> list[str]:
    """What a user of `seqzoo request` names for an entry's input: texts (one not ASCII), block-image
    files, chords, or a WAV file of a tone."""
    task = get_entry(name).task
    if task == "captioning":
        return _block_images(2)
    if task == "music":
        return ["C4 E4 G4", "F4 A4 C5", "G3 B3 D4 G4"]
    if task == "audio":
        from seqzoo.data.audio import mu_law_decode, write_wav

        path = folder / "tone.wav"
        write_wav(path, mu_law_decode(tone_codes(64)).numpy(), 8000)
        return [str(path)]
    return ["a gorgeous film", "naïve café, dull"]


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
