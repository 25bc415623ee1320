"""A task: what entries of one kind share in data, metrics, serving and parity.

Every zoo entry names its task when it registers. Training and export are
written once, against this interface; each task fills it in.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from seqzoo.data.corpora import NamedCorpus
from seqzoo.text import Vectorizer

Endpoint = tuple[Callable, list[tf.TensorSpec]]  # a function and its input signature


@dataclass
class Prepared:
    """A task's data, ready for `fit`."""

    vectorizer: Vectorizer | None  # None for a task that reads no text (music)
    # Training batches: `train_batches(None)` is one pass reshuffled at every iteration (a plain
    # Keras fit); `train_batches(range(k, n))` epochs k..n-1, each in an order of its own
    # (`seqzoo.data.batching.batches`), which is how a resumed run repeats none and skips none.
    train_batches: Callable[[range | None], tf.data.Dataset]
    examples: int  # training examples in one epoch (windows for language models)
    validation: tf.data.Dataset
    meta: dict  # what serving needs besides the vectorizer (label names, ...)
    heldout_texts: list[str]  # kept for the export-time parity check
    # For the pretrained embeddings' token counts: a list, or a dataset of strings when streamed.
    train_texts: list[str] | tf.data.Dataset = field(default_factory=list)
    heldout: object | None = None  # what `Task.metrics` reads when batches are not enough (captioning)
    # `train.carry_state`: the lanes the stream is cut into, the batch of the stateful twin that trains
    lanes: int | None = None

    @property
    def train(self) -> tf.data.Dataset:
        """One pass over the training data, reshuffled at every iteration."""
        return self.train_batches(None)


def streamed_prepared(split, scan, parse: Callable, settings: dict, adapt: Callable, batched: Callable,
                      meta: dict | Callable[[Vectorizer], dict], text_at: int) -> Prepared:
    """A streamed corpus ready for `fit`: `split` (a LineSplit or RecordSplit) and its checking pass
    `scan`, examples parsed to (text, target) by `parse`, a vectorizer from `adapt` (on the scan's
    sample, else a streaming pass over the training texts), batches by `batched` (`labelled_batches`,
    `tagged_batches`, `caption_batches`); `meta`, or a function of the vectorizer that makes it.
    `text_at`: where a scanned record holds its text."""
    train = split.examples(parse, heldout=False, scan=scan)
    train_texts = train.map(lambda text, _: text)
    sample = None if scan.sample is None else [fields[text_at] for fields in scan.sample]
    vectorizer = adapt(train_texts if sample is None else sample)
    batch = settings["batch_size"]
    return Prepared(
        vectorizer=vectorizer,
        train_batches=functools.partial(batched, train, vectorizer, batch, settings["seed"],
                                        buffer=min(settings["shuffle_buffer"], scan.examples[0])),
        examples=scan.examples[0],
        validation=batched(split.examples(parse, heldout=True, scan=scan), vectorizer, batch),
        meta=meta(vectorizer) if callable(meta) else meta,
        heldout_texts=[fields[text_at] for fields in scan.heldout],
        train_texts=train_texts,
    )


@dataclass(frozen=True)
class Serving:
    """How a task's exports are called, for export, parity and `seqzoo request`.

    Args:
        input: str. The name of serving_default's raw input: `text`, `image`, `frames`, `waveform`.
        reads_text: bool. Whether the task has a vectorizer (music and audio read no text).
        binary_inputs: tuple of str. String inputs holding bytes, not text: base64 in a REST body.
        request_inputs: dict. The input that `seqzoo request`'s INPUTs fill, by signature, in a
            signature without `input` (`{"generate": "prompt"}`).
        optional_request_inputs: tuple of str. Of those, the ones a request may leave empty.
    """

    input: str = "text"
    reads_text: bool = True
    binary_inputs: tuple[str, ...] = ()
    request_inputs: dict[str, str] = field(default_factory=dict)
    optional_request_inputs: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReadOptions:
    """How a user's data is read, besides its path: `seqzoo train`'s reading options. A task names
    the ones it reads (`Task.read_options`); the others keep these defaults."""

    text_column: str = "text"  # a CSV/TSV table's columns (classification)
    label_column: str = "label"
    images: str | None = None  # the folder a caption file's image paths are relative to (captioning)


class DataRole:
    """What training, evaluation and `seqzoo compare` ask of a task."""

    name: str
    read_options: tuple[str, ...] = ()  # the `ReadOptions` fields `prepare` reads

    def default_data(self) -> Path:
        """The offline corpus the task trains on when no data is given."""
        raise NotImplementedError

    def named_corpus(self, config: dict, data: str | Path | None) -> NamedCorpus | None:
        """The named offline corpus `data` is (`seqzoo.data.corpora`), None for a path. UserError
        when the corpus does not fit the entry (character text for a word model)."""
        return None

    def prepare(self, config: dict, data: Path, options: ReadOptions) -> Prepared:
        """Reads `data`, adapts a vectorizer, and makes the training datasets.

        May update `config` in place (vocabulary size, number of classes).
        """
        raise NotImplementedError

    def evaluation_dataset(self, config: dict, vectorizer: Vectorizer, meta: dict,
                           data: Path) -> tf.data.Dataset:
        """A user's held-out file as `model.evaluate` takes it (`seqzoo evaluate`)."""
        raise NotImplementedError

    def metrics(self, model: keras.Model, dataset: tf.data.Dataset, meta: dict) -> dict[str, float]:
        """Held-out figures for run.json and the model card: `model.evaluate`'s, `val_` first."""
        evaluated = model.evaluate(dataset, return_dict=True, verbose=0)
        return {f"val_{k}": float(v) for k, v in evaluated.items()}


class ServingRole:
    """What export and `seqzoo request` ask of a task: signatures, the card, request inputs."""

    serving = Serving()

    def endpoints(self, model: keras.Model, vectorizer: Vectorizer, meta: dict) -> dict[str, Endpoint]:
        """The SavedModel signatures: `serving_default` takes the raw input ([batch])."""
        raise NotImplementedError

    def tflite_endpoints(self, model: keras.Model, meta: dict) -> dict[str, Endpoint]:
        """The `.tflite` file's signatures: batch 1, builtin ops."""
        raise NotImplementedError

    def card(self, meta: dict) -> dict:
        """How to call the SavedModel and the `.tflite` file, for the model card."""
        raise NotImplementedError

    def request_input(self, signature: str, specs: dict[str, tf.TensorSpec]) -> str | None:
        """The input of `signature` (its input specs) that a user's INPUTs fill in `seqzoo request`:
        the serving input where the signature takes a batch of it, else the task's `request_inputs`."""
        spec = specs.get(self.serving.input)
        if spec is not None and spec.shape.rank:
            return self.serving.input
        return self.serving.request_inputs.get(signature)

    def request_values(self, name: str, items: list[str], meta: dict):
        """What a user names on the command line (`seqzoo request`) as input `name`'s value: texts."""
        return list(items)


class ParityRole:
    """What the export's parity check and the quantised files' measurements ask of a task."""

    # The largest difference from Keras the export accepts, in the outputs' units.
    parity_tolerance = 1e-5

    def parity_inputs(self, heldout: list) -> list:
        """What the export-time parity check feeds: held-out inputs and the edge cases every
        export must agree on (empty, unknown words, bad UTF-8)."""
        return list(heldout) + ["", "zzqx unseen wordforms", b"\xff\xfe not utf-8 \xc3".decode("latin-1")]

    def heldout_inputs(self, heldout: list) -> list:
        """`parity_inputs` without its edge cases: the held-out data as serving_default takes it (what
        quantised files are measured on)."""
        inputs = self.parity_inputs(heldout)
        return inputs[: len(inputs) - len(self.parity_inputs([]))]

    def reference_outputs(self, model: keras.Model, vectorizer: Vectorizer, texts: list[str],
                          meta: dict) -> dict[str, np.ndarray]:
        """What Keras gives for what serving_default returns, per compared output, and for what only
        the `.tflite` file's signatures give (handwriting's `write`, from the app's random numbers)."""
        raise NotImplementedError

    def tflite_outputs(self, interpreter, vectorizer: Vectorizer, texts: list[str],
                       meta: dict) -> dict[str, np.ndarray]:
        """The same outputs from the `.tflite` file (a LiteRT Interpreter), driven as an app
        would drive it."""
        raise NotImplementedError

    def quantization_outputs(self, interpreter, vectorizer: Vectorizer, inputs: list, meta: dict) -> dict:
        """What a quantised `.tflite` file is compared with the float32 one on, over held-out inputs:
        `tflite_outputs` unless the task measures itself otherwise (bits per step)."""
        return self.tflite_outputs(interpreter, vectorizer, inputs, meta)

    def tflite_agreement(self, reference: dict, outputs: dict, meta: dict) -> dict[str, float]:
        """How a quantised file's `quantization_outputs` agree with the float32 file's (`reference`), in
        the task's own terms: label agreement, exact match, bits per step, ..."""
        raise NotImplementedError


class WebRole:
    """What `seqzoo export --web` asks of a task: the page that runs its exports in a browser and the
    `.tflite` signatures that page calls (`seqzoo.exporters.web`). LiteRT.js takes fixed shapes and int32 /
    float32 / uint8 tensors only: `seqzoo.exporters.web.browser_ready` fixes each variable length at
    `web_length` and passes bools as int32."""

    web_page: str | None = None  # the page script, seqzoo/exporters/web/page/<web_page>.js; None: no page yet
    web_meta_keys: tuple[str, ...] = ()  # what the page reads of the task's metadata (label names, ...)

    def web_endpoints(self, model: keras.Model, meta: dict) -> dict[str, Endpoint]:
        """The signatures the page calls, at batch 1 (default: the `.tflite` file's)."""
        return self.tflite_endpoints(model, meta)

    def web_length(self, meta: dict, vectorizer: Vectorizer | None) -> int | None:
        """The length every variable input length is fixed at: the text's `max_length` (ids are
        padded with 0 up to it, as a batch pads them)."""
        return None if vectorizer is None else vectorizer.max_length

    def web_meta(self, meta: dict) -> dict:
        """What the page needs from the task's metadata besides the vocabulary: `web_meta_keys`."""
        return {key: meta[key] for key in self.web_meta_keys if key in meta}


class Task(DataRole, ServingRole, ParityRole, WebRole):
    """Every role of one kind of entry: its data (`DataRole`), how it is served (`ServingRole`), how
    its exports are checked (`ParityRole`) and shown in a browser (`WebRole`). Each caller uses one
    role; a new kind of entry fills the first three (see `ClassificationTask`, the shortest)."""

    name: str
