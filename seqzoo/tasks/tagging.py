"""Tagging: one label per token (bilstm_tagger, deep_rnn_tagger).

SavedModel `serving_default`: text [batch] -> tags, tokens [batch, time] (strings, "" past each
text's end), lengths [batch], truncated [batch] (the text had more than max_length tokens; the
rest are untagged), probabilities [batch, time, tags] (zeros past each text's end).
The `.tflite` file: token_ids [1, time] -> probabilities [1, time, tags].
"""

from __future__ import annotations

import functools
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from seqzoo.data.batching import batches
from seqzoo.data.streaming import RecordSplit, label_index
from seqzoo.data.tagging import OUTSIDE, TaggedSentences, conll_sentences, read_conll, restoration_corpus
from seqzoo.errors import UserError
from seqzoo.metrics import tag_report
from seqzoo.tasks.base import Endpoint, Prepared, ReadOptions, Task, streamed_prepared
from seqzoo.text import Vectorizer

TEXT = [tf.TensorSpec([None], tf.string, name="text")]
TOKEN_IDS_BATCH_1 = [tf.TensorSpec([1, None], tf.int32, name="token_ids")]
WORD_TOKENIZERS = ("word", "whitespace")  # one token per whitespace-separated word
TAG_SEPARATOR = "\x1f"  # between a streamed sentence's tags (a tag may hold a space, never this)
HELDOUT_TEXTS = 64  # held-out sentences kept for the export's parity check


class TaggingTask(Task):
    """Texts in, one tag per token out; data in CoNLL-style column files."""

    name = "tagging"
    web_page, web_meta_keys = "tagging", ("tags",)

    def default_data(self) -> Path:
        return restoration_corpus()

    def prepare(self, config: dict, data: Path, options: ReadOptions) -> Prepared:
        settings, text = config["train"], config["text"]
        if text["tokenizer"] not in WORD_TOKENIZERS or text["strip_punctuation"]:
            raise UserError("taggers read one token per word: set text.tokenizer to word or "
                            "whitespace and text.strip_punctuation to false")
        # Sentences streamed one at a time (`RecordSplit`), cut to max_length, as (text, tags) records.
        records = functools.partial(_records, data, text["max_length"])
        split = RecordSplit(records, 2, settings["validation_fraction"], settings["seed"])
        seen = [set(), set()]
        scan = split.scan(HELDOUT_TEXTS, settings["vocabulary_sample"],
                          lambda record, heldout: seen[heldout].update(record[1].split(TAG_SEPARATOR)))
        split.check_sizes(scan, data, "tagged sentences")
        tags, table = label_index(seen[0], seen[1], "tags", key=lambda tag: (tag != OUTSIDE, tag))

        def parse(texts, joined_tags):
            return texts, table.lookup(tf.strings.split(joined_tags, TAG_SEPARATOR))

        def adapt(texts) -> Vectorizer:  # and size the model to the vocabulary and the tags
            vectorizer = Vectorizer(**text).adapt(texts)
            text["max_tokens"] = vectorizer.vocabulary_size()
            config["model"]["num_tags"] = len(tags)
            return vectorizer

        return streamed_prepared(split, scan, parse, settings, adapt, tagged_batches, {"tags": tags},
                                 text_at=0)

    def evaluation_dataset(self, config, vectorizer, meta, data) -> tf.data.Dataset:
        sentences = read_conll(data).chunked(vectorizer.max_length)
        known = set(meta["tags"])
        unseen = {}  # tag -> first line
        for tags, line in zip(sentences.tags, sentences.lines, strict=True):
            for offset, tag in enumerate(tags):
                if tag not in known:
                    unseen.setdefault(tag, line + offset)
        if unseen:
            listed = ", ".join(f"{tag!r} (line {line})" for tag, line in sorted(unseen.items()))
            raise UserError(f"'{data}' has tags the model never saw in training: {listed}; "
                            f"it knows {', '.join(meta['tags'])}")
        return tagged_dataset(sentences, meta["tags"], vectorizer, config["train"]["batch_size"])

    def metrics(self, model, dataset, meta) -> dict[str, float]:
        """Loss, token accuracy, and the token-level F1 report: micro averages over the tags
        other than `O`, and each tag's F1."""
        metrics = super().metrics(model, dataset, meta)
        true, predicted = [], []
        names = np.array(meta["tags"])
        for ids, tag_ids in dataset:
            chosen = keras.ops.convert_to_numpy(model(ids, training=False)).argmax(-1)
            for row_ids, row_true, row_predicted in zip(ids.numpy(), tag_ids.numpy(), chosen, strict=True):
                real = row_ids != 0
                true.append(names[row_true[real]].tolist())
                predicted.append(names[row_predicted[real]].tolist())
        report = tag_report(true, predicted)
        micro = report["micro avg"]
        metrics.update(val_precision=micro["precision"], val_recall=micro["recall"],
                       val_f1=micro["f1-score"])
        metrics.update({f"val_f1[{tag}]": report[tag]["f1-score"] for tag in meta["tags"] if tag in report})
        return metrics

    def endpoints(self, model, vectorizer, meta) -> dict[str, Endpoint]:
        tag_names = tf.constant(meta["tags"])

        def serve(text):
            ids = vectorizer(text)
            mask, lengths, truncated = token_mask(vectorizer, text, ids)
            probabilities = model(ids, training=False) * tf.cast(mask, tf.float32)[..., None]
            tags = tf.where(mask, tf.gather(tag_names, tf.argmax(probabilities, axis=-1)), "")
            tokens = vectorizer.tokenize(text)[:, : vectorizer.max_length]
            return {
                "tags": tags, "tokens": tokens.to_tensor(default_value="", shape=tf.shape(ids)),
                "lengths": lengths, "truncated": truncated, "probabilities": probabilities,
            }

        return {"serving_default": (serve, TEXT)}

    def tflite_endpoints(self, model, meta) -> dict[str, Endpoint]:
        serve = lambda token_ids: {"probabilities": model(token_ids, training=False)}  # noqa: E731
        return {"serving_default": (serve, TOKEN_IDS_BATCH_1)}

    def reference_outputs(self, model, vectorizer, texts, meta) -> dict[str, np.ndarray]:
        ids = vectorizer(texts)
        mask, _, _ = token_mask(vectorizer, texts, ids)
        probabilities = keras.ops.convert_to_numpy(model(ids, training=False))
        return {"probabilities": probabilities * mask.numpy()[..., None]}

    def tflite_outputs(self, interpreter, vectorizer, texts, meta) -> dict[str, np.ndarray]:
        runner = interpreter.get_signature_runner("serving_default")
        rows = [runner(token_ids=vectorizer([text]).numpy())["probabilities"][0] for text in texts]
        lengths = [min(len(row), vectorizer.max_length) for row in vectorizer.lookup(texts).to_list()]
        out = np.zeros((len(texts), max(len(row) for row in rows), rows[0].shape[-1]), np.float32)
        for i, (row, length) in enumerate(zip(rows, lengths, strict=True)):
            out[i, :length] = row[:length]  # an empty text's one OOV step is not a token
        return {"probabilities": out}

    def tflite_agreement(self, reference, outputs, meta) -> dict[str, float]:
        expected, got = reference["probabilities"], outputs["probabilities"]
        tokens = expected.sum(-1) > 0  # past a text's end the rows are zeros
        return {"tag_agreement": round(float((expected.argmax(-1) == got.argmax(-1))[tokens].mean()), 4),
                "max_probability_difference": round(float(np.abs(expected - got).max()), 4)}

    def card(self, meta) -> dict:
        return {
            "saved_model": {"serving_default": {
                "inputs": {"text": "tf.string [batch]: raw text, split into words inside the graph"},
                "outputs": {
                    "tags": "tf.string [batch, time]: a tag per token, '' past the text's end",
                    "tokens": "tf.string [batch, time]: the tokens tagged (standardised)",
                    "lengths": "int64 [batch]: tokens tagged per text",
                    "truncated": "bool [batch]: the text had more than text.max_length tokens; "
                                 "the rest were not tagged",
                    "probabilities": "float32 [batch, time, tags], tags in `tags` order",
                },
            }},
            "tflite": {
                "inputs": {"token_ids": "int32 [1, time]: one text, no padding, time >= 1"},
                "outputs": {"probabilities": "float32 [1, time, tags]; an empty text is one "
                            "unknown token, which has no tag"},
            },
        }


def token_mask(vectorizer: Vectorizer, texts, ids) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """(mask of the tagged tokens in `ids`, tokens tagged per text, truncated per text).

    Unlike `ids != 0`, the mask is empty for an empty text (its one OOV step is not a token).
    """
    lengths = vectorizer.lookup(texts).row_lengths()
    tagged = tf.minimum(lengths, vectorizer.max_length)
    mask = tf.sequence_mask(tagged, tf.shape(ids)[1])
    return mask, tagged, lengths > vectorizer.max_length


def tagged_dataset(sentences: TaggedSentences, tags: list[str], vectorizer: Vectorizer, batch_size: int,
                   shuffle_seed: int | None = None) -> tf.data.Dataset:
    """(token ids, tag ids) of sentences in memory (a held-out file; examples/train_tagger.py), in
    order or reshuffled each pass; see `tagged_batches`. Sentences must already fit `max_length`
    (see `chunked`)."""
    index = {tag: i for i, tag in enumerate(tags)}
    tag_ids = tf.ragged.constant([[index[t] for t in row] for row in sentences.tags], tf.int32)
    return tagged_batches(tf.data.Dataset.from_tensor_slices((tf.constant(sentences.texts()), tag_ids)),
                          vectorizer, batch_size, shuffle_seed)


def tagged_batches(examples: tf.data.Dataset, vectorizer: Vectorizer, batch_size: int,
                   shuffle_seed: int | None = None, epochs: range | None = None,
                   buffer: int | None = None) -> tf.data.Dataset:
    """(text, tag ids) examples -> (token ids, tag ids), padded per batch with 0; the model's mask
    keeps padding out of the loss and the metrics. The order as `seqzoo.data.batching.batches`
    gives it."""
    def vectorize(text, tag_ids):
        ids = vectorizer(text)
        return ids, tag_ids.to_tensor(shape=tf.shape(ids))

    return batches(examples, lambda d: d.ragged_batch(batch_size).map(vectorize), shuffle_seed, epochs,
                   buffer)


def _records(data: Path, length: int):
    """(text, tags joined by TAG_SEPARATOR) of each sentence piece of a column file."""
    for _, tokens, tags in conll_sentences(data, length):
        yield " ".join(tokens), TAG_SEPARATOR.join(tags)


