"""Classification: one label per text (the sentiment entry and its kind)."""

from __future__ import annotations

import functools
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from seqzoo.data import LabelledTexts, read_labelled, sentiment_corpus
from seqzoo.data.batching import batches
from seqzoo.errors import UserError
from seqzoo.tasks.base import Endpoint, Prepared, Task
from seqzoo.text import Vectorizer

TEXT = [tf.TensorSpec([None], tf.string, name="text")]
TOKEN_IDS_BATCH_1 = [tf.TensorSpec([1, None], tf.int32, name="token_ids")]


class ClassificationTask(Task):
    """Texts in, `probabilities` over the labels and the `label` out."""

    name = "classification"

    def default_data(self) -> Path:
        return sentiment_corpus()

    def prepare(self, config: dict, data: Path, text_column: str = "text",
                label_column: str = "label") -> Prepared:
        settings = config["train"]
        examples = read_labelled(data, text_column, label_column)
        train_set, heldout = examples.split(settings["validation_fraction"], settings["seed"])
        labels = train_set.label_names
        if len(labels) < 2:
            raise UserError(f"training data needs at least 2 distinct labels, got {labels}")
        vectorizer = Vectorizer(**config["text"]).adapt(train_set.texts)
        config["text"]["max_tokens"] = vectorizer.vocabulary_size()  # the embedding fits it
        config["model"]["num_classes"] = len(labels)
        batch = settings["batch_size"]
        return Prepared(
            vectorizer=vectorizer,
            train_batches=functools.partial(labelled_dataset, train_set, labels, vectorizer, batch,
                                            settings["seed"]),
            examples=len(train_set),
            validation=labelled_dataset(heldout, labels, vectorizer, batch),
            meta={"labels": labels},
            heldout_texts=heldout.texts,
            train_texts=train_set.texts,
        )

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


def labelled_dataset(
    examples: LabelledTexts, labels: list[str], vectorizer: Vectorizer, batch_size: int,
    shuffle_seed: int | None = None, epochs: range | None = None,
) -> tf.data.Dataset:
    """(token ids padded per batch, label ids), tokenized by the vectorizer in tf.data; the
    order as `seqzoo.data.batching.batches` gives it."""
    dataset = tf.data.Dataset.from_tensor_slices(
        (tf.constant(examples.texts, tf.string), tf.constant(examples.label_ids(labels), tf.int32))
    )
    return batches(dataset, lambda d: d.batch(batch_size).map(lambda text, label: (vectorizer(text), label)),
                   shuffle_seed, epochs)
