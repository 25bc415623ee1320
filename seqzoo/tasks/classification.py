"""Classification: one label per text (the sentiment entry and its kind)."""

from __future__ import annotations

import functools
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from seqzoo.data import LabelledTexts, read_labelled, sentiment_corpus
from seqzoo.data.batching import batches
from seqzoo.data.readers import (
    FASTTEXT_PREFIX,
    check_no_columns,
    fasttext_fields,
    is_table,
    labelled_records,
    parse_fasttext,
)
from seqzoo.data.streaming import LineSplit, RecordSplit, label_index, line_files
from seqzoo.errors import UserError
from seqzoo.tasks.base import Endpoint, Prepared, ReadOptions, Task, streamed_prepared
from seqzoo.text import Vectorizer

TEXT = [tf.TensorSpec([None], tf.string, name="text")]
HELDOUT_TEXTS = 64  # kept from a streamed validation split, for the export's parity check
TOKEN_IDS_BATCH_1 = [tf.TensorSpec([1, None], tf.int32, name="token_ids")]


class ClassificationTask(Task):
    """Texts in, `probabilities` over the labels and the `label` out."""

    name = "classification"
    web_page, web_meta_keys = "classification", ("labels",)
    read_options = ("text_column", "label_column")

    def default_data(self) -> Path:
        return sentiment_corpus()

    def prepare(self, config: dict, data: Path, options: ReadOptions) -> Prepared:
        """Streams the examples, whatever the source: fastText lines (a file or a glob) through
        tf.data, a CSV/TSV file or an aclImdb folder record by record (`RecordSplit`). One checking
        pass keeps the counts, the labels, a vocabulary sample if asked for and the first held-out
        texts; memory does not grow with the corpus."""
        settings = config["train"]
        fraction, seed = settings["validation_fraction"], settings["seed"]
        labels = [set(), set()]
        observe = lambda fields, heldout: labels[heldout].add(fields[0])  # noqa: E731
        if is_table(data) or Path(data).is_dir():
            records = functools.partial(labelled_records, data, options.text_column, options.label_column)
            split = RecordSplit(records, 2, fraction, seed)
            scan = split.scan(HELDOUT_TEXTS, settings["vocabulary_sample"], observe)
            read = lambda label, text: (label, text)  # noqa: E731
        else:
            check_no_columns(Path(data), options.text_column, options.label_column)
            split = LineSplit(line_files(data), None, fraction, seed)
            scan = split.scan(_fasttext_line, HELDOUT_TEXTS, settings["vocabulary_sample"], observe=observe)
            read = parse_fasttext
        split.check_sizes(scan, data, "labelled examples")
        names, table = label_index(labels[0], labels[1], "labels")

        def parse(*batch):
            label, text = read(*batch)
            return text, table.lookup(label)

        return streamed_prepared(split, scan, parse, settings, functools.partial(_adapted, config, names),
                                 labelled_batches, {"labels": names}, text_at=1)

    def evaluation_dataset(self, config, vectorizer, meta, data) -> tf.data.Dataset:
        examples = read_labelled(data)
        return labelled_dataset(examples, meta["labels"], vectorizer, config["train"]["batch_size"])

    def endpoints(self, model, vectorizer, meta) -> dict[str, Endpoint]:
        label_names = tf.constant(meta["labels"])

        def serve(text):
            probabilities = model(vectorizer(text), training=False)
            label = tf.gather(label_names, tf.argmax(probabilities, axis=-1))
            return {"probabilities": probabilities, "label": label}

        return {"serving_default": (serve, TEXT)}

    def tflite_endpoints(self, model, meta) -> dict[str, Endpoint]:
        serve = lambda token_ids: {"probabilities": model(token_ids, training=False)}  # noqa: E731
        return {"serving_default": (serve, TOKEN_IDS_BATCH_1)}

    def reference_outputs(self, model, vectorizer, texts, meta) -> dict[str, np.ndarray]:
        return {"probabilities": keras.ops.convert_to_numpy(model(vectorizer(texts), training=False))}

    def tflite_outputs(self, interpreter, vectorizer, texts, meta) -> dict[str, np.ndarray]:
        runner = interpreter.get_signature_runner("serving_default")
        rows = [runner(token_ids=vectorizer([text]).numpy())["probabilities"] for text in texts]
        return {"probabilities": np.concatenate(rows)}

    def tflite_agreement(self, reference, outputs, meta) -> dict[str, float]:
        expected, got = reference["probabilities"], outputs["probabilities"]
        return {"label_agreement": round(float((expected.argmax(-1) == got.argmax(-1)).mean()), 4),
                "max_probability_difference": round(float(np.abs(expected - got).max()), 4)}

    def card(self, meta) -> dict:
        return {
            "saved_model": {"serving_default": {
                "inputs": {"text": "tf.string [batch]: raw text, tokenized inside the graph"},
                "outputs": {
                    "probabilities": "float32 [batch, classes], classes in `labels` order",
                    "label": "tf.string [batch]: the most probable label",
                },
            }},
            "tflite": {
                "inputs": {"token_ids": "int32 [1, time]: one text, no padding, time >= 1"},
                "outputs": {"probabilities": "float32 [1, classes]"},
            },
        }


def labelled_dataset(examples: LabelledTexts, labels: list[str], vectorizer: Vectorizer,
                     batch_size: int) -> tf.data.Dataset:
    """(token ids padded per batch, label ids) of texts in memory, in order (a held-out file)."""
    dataset = tf.data.Dataset.from_tensor_slices(
        (tf.constant(examples.texts, tf.string), tf.constant(examples.label_ids(labels), tf.int32))
    )
    return labelled_batches(dataset, vectorizer, batch_size)


def labelled_batches(
    examples: tf.data.Dataset, vectorizer: Vectorizer, batch_size: int, shuffle_seed: int | None = None,
    epochs: range | None = None, buffer: int | None = None,
) -> tf.data.Dataset:
    """(text, label id) examples -> (token ids padded per batch, label ids), tokenized by the
    vectorizer in tf.data; the order as `seqzoo.data.batching.batches` gives it."""
    return batches(examples, lambda d: d.batch(batch_size).map(lambda text, label: (vectorizer(text), label)),
                   shuffle_seed, epochs, buffer)


def _fasttext_line(line: str, path: Path, number: int) -> tuple[str, str] | None:
    fields = fasttext_fields(line, path, number)
    if fields is not None and FASTTEXT_PREFIX in fields[1]:
        raise UserError(f"{path}:{number}: '{FASTTEXT_PREFIX}' inside a text: lines must end in \\n "
                        "(an old Mac file ends them in \\r alone)")
    return fields


def _adapted(config: dict, labels: list[str], texts) -> Vectorizer:
    """The vectorizer adapted on the training texts; sets the sizes the model takes from the data."""
    vectorizer = Vectorizer(**config["text"]).adapt(texts)
    config["text"]["max_tokens"] = vectorizer.vocabulary_size()  # the embedding fits it
    config["model"]["num_classes"] = len(labels)
    return vectorizer
