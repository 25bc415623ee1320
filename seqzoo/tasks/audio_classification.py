"""Audio classification: a clip in, its label out (audio_classifier): a keyword, an emotion, a speaker.

The reported figures, on each held-out part: the loss and the accuracy; `confusion_matrix` counts which
label is taken for which (`seqzoo.plots.plot_confusion` draws it). The default data's validation and test
voices are never heard in training (`seqzoo.data.speech`).

SavedModel signatures:
  serving_default  audio (WAV file bytes [batch]) -> probabilities [batch, labels], label, problem ('' or
                   why the clip was not heard: no WAV, another rate, too long, silent; never fails the batch)
  classify         waveform float32 [batch, samples], length int32 [batch] -> probabilities, label
The `.tflite` file: serving_default, waveform float32 [1, samples] -> probabilities [1, labels].
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from seqzoo.data.speech import (
    TRANSCRIPTS,
    Recordings,
    decode_wavs,
    load_recordings,
    read_labelled,
    read_transcribed,
    spoken_corpus,
)
from seqzoo.data.streaming import label_index
from seqzoo.errors import UserError
from seqzoo.tasks.base import Endpoint, Prepared, ReadOptions
from seqzoo.tasks.speech import (
    RecordingsTask,
    parts_summary,
    split_recordings,
)

KEYWORD_CLIPS = 2000  # the default data: single spoken keywords


class AudioClassificationTask(RecordingsTask):
    """Labelled clips (a folder a label, RAVDESS or CREMA-D names, or a transcripts.tsv whose text is the
    label; default: synthetic spoken keywords) -> one label each."""

    name = "audio_classification"

    def default_data(self) -> Path:
        return spoken_corpus(KEYWORD_CLIPS, words=True)

    def prepare(self, config: dict, data: Path, options: ReadOptions) -> Prepared:
        settings, rate = config["train"], config["model"]["features"]["sample_rate"]
        recordings = labelled_recordings(data, rate, config["speech"]["max_seconds"])
        parts = split_recordings(recordings, settings)
        heldout_labels = {label for name in ("val", "test") if name in parts for label in parts[name].texts}
        labels, _ = label_index(set(parts["train"].texts), heldout_labels, "labels")
        config["model"]["num_classes"] = len(labels)
        ids = {label: i for i, label in enumerate(labels)}
        return self.prepared(parts, lambda part: [ids[label] for label in part.texts],
                             classification_meta(config, labels, parts), settings, rate)

    def evaluation_dataset(self, config, vectorizer, meta, data) -> tf.data.Dataset:
        recordings = labelled_recordings(data, meta["sample_rate"], meta["max_seconds"])
        unknown = sorted(set(recordings.texts) - set(meta["labels"]))
        if unknown:
            raise UserError(f"'{data}' holds labels the model does not know: {', '.join(unknown[:5])}")
        ids = [meta["labels"].index(label) for label in recordings.texts]
        return self.batched(recordings, ids, config["train"]["batch_size"])

    def metrics(self, model, dataset, meta) -> dict[str, float]:
        """Loss and accuracy on each held-out part (`val`, `test`); `confusion_matrix` counts the mistakes."""
        parts = dataset if isinstance(dataset, dict) else {"val": dataset}
        return {f"{name}_{key}": float(value) for name, part in parts.items()
                for key, value in model.evaluate(part, return_dict=True, verbose=0).items()}

    def endpoints(self, model, vectorizer, meta) -> dict[str, Endpoint]:
        names = tf.constant(meta["labels"])

        def classify(waveform, length):
            probabilities = self.listened(model, waveform, length)
            return {"probabilities": probabilities, "label": tf.gather(names, tf.argmax(probabilities, -1))}

        def serve(audio):
            waveform, length, problem = decode_wavs(audio, meta["sample_rate"], meta["max_samples"])
            outputs = classify(waveform, length)
            return {**outputs, "label": tf.where(problem == "", outputs["label"], ""), "problem": problem}

        samples = [tf.TensorSpec([None, None], tf.float32, name="waveform"),
                   tf.TensorSpec([None], tf.int32, name="length")]
        return {"serving_default": (serve, [tf.TensorSpec([None], tf.string, name="audio")]),
                "classify": (classify, samples)}

    def tflite_endpoints(self, model, meta) -> dict[str, Endpoint]:
        def serve(waveform):
            length = tf.shape(waveform)[1:2]
            return {"probabilities": model({"waveform": waveform, "length": length}, training=False)}

        return {"serving_default": (serve, [tf.TensorSpec([1, None], tf.float32, name="waveform")])}

    def reference_outputs(self, model, vectorizer, texts, meta) -> dict[str, np.ndarray]:
        return {"probabilities": keras.ops.convert_to_numpy(self.decoded(model, texts, meta)[0])}

    def tflite_outputs(self, interpreter, vectorizer, texts, meta) -> dict[str, np.ndarray]:
        return {"probabilities": np.stack(self.tflite_clips(interpreter, texts, meta, "probabilities"))}

    def tflite_agreement(self, reference, outputs, meta) -> dict[str, float]:
        expected, got = reference["probabilities"], outputs["probabilities"]
        return {"label_agreement": round(float((expected.argmax(-1) == got.argmax(-1)).mean()), 4),
                "max_probability_difference": round(float(np.abs(expected - got).max()), 4)}

    def card(self, meta) -> dict:
        rate, count = meta["sample_rate"], len(meta["labels"])
        samples = {"waveform": f"float32 [batch, samples] in [-1, 1] at {rate} Hz, zeros after each clip",
                   "length": "int32 [batch]: each clip's samples"}
        probabilities = f"float32 [batch, {count}], in `labels` order"
        return {
            "saved_model": {
                "serving_default": {
                    "inputs": {"audio": f"tf.string [batch]: WAV files (16-bit PCM, {rate} Hz, any channels, "
                                        f"at most {meta['max_seconds']:g} s)"},
                    "outputs": {"probabilities": probabilities,
                                "label": "tf.string [batch]: the most probable label ('' where problem is "
                                         "set)",
                                "problem": "tf.string [batch]: '' or why the clip was not heard"},
                },
                "classify": {"inputs": samples, "outputs": {"probabilities": probabilities,
                                                            "label": "tf.string [batch]"}},
            },
            "tflite": {
                "inputs": {"waveform": f"float32 [1, samples] in [-1, 1] at {rate} Hz, samples >= 1"},
                "outputs": {"probabilities": f"float32 [1, {count}], in `labels` order"},
            },
        }


def labelled_recordings(data, rate: int, max_seconds: float) -> Recordings:
    """A folder's clips and labels: its transcripts.tsv (the text is the label), else `read_labelled`'s."""
    found = read_transcribed(data) if (Path(data) / TRANSCRIPTS).is_file() else read_labelled(data)
    return load_recordings(found, rate, max_seconds)


def classification_meta(config: dict, labels: list[str], parts: dict[str, Recordings]) -> dict:
    features, rate = config["model"]["features"], config["model"]["features"]["sample_rate"]
    return {
        "labels": labels,
        "sample_rate": rate,
        "frame_ms": features["frame_ms"],
        "hop_ms": features["hop_ms"],
        "max_seconds": config["speech"]["max_seconds"],
        "max_samples": int(config["speech"]["max_seconds"] * rate),
        **parts_summary(parts, rate, "clips"),
    }


def confusion_matrix(model: keras.Model, batches: tf.data.Dataset, classes: int) -> np.ndarray:
    """counts[i, j]: clips of label i that `model` takes for label j, over `batches` ((inputs, label ids))."""
    counts = np.zeros((classes, classes), np.int64)
    for inputs, labels in batches:
        predicted = np.argmax(keras.ops.convert_to_numpy(model(inputs, training=False)), axis=-1)
        np.add.at(counts, (labels.numpy(), predicted), 1)
    return counts
