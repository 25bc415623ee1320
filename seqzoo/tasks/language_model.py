"""Language modelling: predict the next token; generate by sampling, in the graph.

Every document (a line of text) starts with the [BOS] token (id 2), so an empty
prompt generates from the start of a document.

SavedModel signatures:
  serving_default  text [batch] -> probabilities [batch, vocab] of the next token
  generate         prompt [batch], max_new_tokens, temperature, top_k, top_p, seed,
                   stop [n] -> text (prompt + continuation), generated [batch]
  step             token_ids [batch] + the generator's states -> probabilities + new states
The `.tflite` file has `step`, at batch 1.
"""

from __future__ import annotations

import functools
import math
import warnings
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from seqzoo.data import news_corpus, read_text
from seqzoo.data.batching import batches
from seqzoo.data.corpora import NamedCorpus, named_corpus
from seqzoo.data.language_modeling import (
    carried_rows,
    read_documents,
    stream_length,
    stream_windows,
    window_arrays,
    windows,
)
from seqzoo.data.streaming import LineSplit, RecordSplit, Scan, line_files
from seqzoo.decoding import generator_for
from seqzoo.errors import SeqzooNote, UserError
from seqzoo.tasks.base import Endpoint, Prepared, ReadOptions, Serving
from seqzoo.tasks.stepped import SteppedTask, step_card, step_endpoint
from seqzoo.text import Vectorizer
from seqzoo.zoo import recurrent_layers, stateful_twin

BOS = "[BOS]"
BOS_ID = 2
# The `step` states, named in the signature: zeros to start.
STATES = ("RNN LMs: state_<layer>_<k> float32 [batch, units] (h, and c for an LSTM); "
          "transformer_lm: context int32 [batch, window] (the last tokens), length int32 [batch] and each "
          "block's keys_<i> and values_<i> float32 [batch, heads, window, model_dim / heads]; "
          "zeros to start")
PARITY_PROMPT_CHARS = 120  # held-out prompts for the parity check are cut to this length
PARITY_PROMPTS = 16


class LanguageModelTask(SteppedTask):
    name = "language_model"
    web_page, web_meta_keys = "language_model", ("bos_id", "separator", "unit", "max_new_tokens",
                                                  "max_new_tokens_limit")
    step_input, step_unit = "token_ids", "token"
    serving = Serving(request_inputs={"generate": "prompt"})

    def default_data(self) -> Path:
        return news_corpus()

    def named_corpus(self, config: dict, data) -> NamedCorpus | None:
        corpus = named_corpus(data)
        if corpus is not None and corpus.unit != lm_unit(config["text"]["tokenizer"]):
            other = {"ptb_char": "ptb_word", "ptb_word": "ptb_char"}.get(corpus.name)
            raise UserError(f"--data {corpus.name} is {corpus.unit}-level text and this entry reads "
                            f"{config['text']['tokenizer']} tokens" + (f": use {other}" if other else ""))
        return corpus

    def prepare(self, config: dict, data: Path, options: ReadOptions) -> Prepared:
        """Streams the documents: the lines of a file, a glob, or a folder's *.txt files (its
        train.txt / valid.txt as the split when it has them); with `train.documents: file`, each
        file whole (a folder's *.py and *.txt files: code keeps its newlines and indentation), the
        split decided by file. One checking pass, a pass that adapts the vocabulary and one that
        measures the token stream, then windows read as they come."""
        settings = config["train"]
        train_docs, heldout_docs, scan = lm_documents(Path(data), settings)
        vectorizer = lm_vectorizer(config["text"], train_docs if scan.sample is None else scan.sample)
        config["text"]["max_tokens"] = vectorizer.vocabulary_size()
        seq_len, batch = settings["seq_len"], settings["batch_size"]
        train_total = stream_length(train_docs, vectorizer.lookup)
        train_windows = stream_windows(train_docs, vectorizer.lookup, BOS_ID, seq_len, train_total)
        heldout_windows = stream_windows(heldout_docs, vectorizer.lookup, BOS_ID, seq_len,
                                         stream_length(heldout_docs, vectorizer.lookup))
        carried = None
        if settings.get("carry_state"):  # truncated backpropagation: the lanes in order, every epoch
            counts = {"training": int(train_windows.cardinality()),
                      "held-out": int(heldout_windows.cardinality())}
            carried = min(batch, *counts.values())
            if carried < batch:
                split = min(counts, key=counts.get)
                warnings.warn(f"train.carry_state: the {split} text makes {counts[split]} window(s) of "
                              f"{seq_len} tokens, fewer than train.batch_size ({batch}): {carried} lane(s) "
                              "carry the states", SeqzooNote, stacklevel=2)
            train = lanes(train_windows, carried)
            count = int(train.cardinality()) * carried
            train_batches = lambda epochs: train.repeat(len(epochs) if epochs else 1)  # noqa: E731
        else:
            count = int(train_windows.cardinality())
            train_batches = functools.partial(batches, train_windows, lambda d: d.batch(batch),
                                              settings["seed"], buffer=min(settings["shuffle_buffer"], count))
        heldout = lanes(heldout_windows, carried or batch)
        return Prepared(
            vectorizer=vectorizer,
            train_batches=train_batches,
            examples=count,
            validation=heldout,
            lanes=carried,
            meta=lm_meta(config, vectorizer),
            heldout_texts=[d[:PARITY_PROMPT_CHARS] for d in scan.heldout],
            train_texts=train_docs,
        )

    def evaluation_dataset(self, config: dict, vectorizer: Vectorizer, meta: dict,
                           data: Path) -> tf.data.Dataset:
        inputs, targets = windows(token_stream(vectorizer, read_documents(data)), config["train"]["seq_len"])
        return lane_dataset(inputs, targets, config["train"]["batch_size"])

    def metrics(self, model, dataset, meta) -> dict[str, float]:
        """Loss and accuracy, plus bits per character (char) or perplexity (words): each window read
        from zero states; for a recurrent LM also `_carried`: the states carried from window to
        window along the dataset's lanes, as generation carries them."""
        metrics = super().metrics(model, dataset, meta)
        if recurrent_layers(model):
            twin = stateful_twin(model, dataset.element_spec[0].shape[0])
            twin.compile(loss=model.loss)
            metrics["val_loss_carried"] = float(twin.evaluate(dataset, verbose=0, return_dict=True)["loss"])
        for suffix in ["", "_carried"] if "val_loss_carried" in metrics else [""]:
            loss = metrics["val_loss" + suffix]
            if meta["unit"] == "character":
                metrics["val_bits_per_character" + suffix] = loss / math.log(2)
            else:
                metrics["val_perplexity" + suffix] = math.exp(loss)
        return metrics

    def endpoints(self, model, vectorizer, meta) -> dict[str, Endpoint]:
        generator = generator_for(model, meta["context"])
        vocabulary = tf.constant(vectorizer.get_vocabulary())
        banned = tf.constant([i in (0, BOS_ID) for i in range(vectorizer.vocabulary_size())])
        limit, separator = meta["max_new_tokens_limit"], meta["separator"]

        def prompt_ids(text):
            return left_padded_prompts(vectorizer, text)

        def serve(text):
            probabilities, _ = generator.prefill(prompt_ids(text))
            return {"probabilities": probabilities}

        def generate(prompt, max_new_tokens, temperature, top_k, top_p, seed, stop):
            checks = [
                tf.debugging.assert_non_negative(max_new_tokens, message="max_new_tokens < 0"),
                tf.debugging.assert_less_equal(max_new_tokens, limit,
                                               message=f"max_new_tokens > {limit}"),
                # A NaN would otherwise fail every comparison and quietly mean greedy.
                tf.debugging.assert_all_finite(temperature, message="temperature is not finite"),
                tf.debugging.assert_all_finite(top_p, message="top_p is not finite"),
                tf.debugging.assert_positive(top_p, message="top_p <= 0"),
            ]
            with tf.control_dependencies(checks):
                ids = generator.generate(prompt_ids(prompt), max_new_tokens, temperature, top_k,
                                         top_p, seed, banned)
            generated = tf.strings.reduce_join(tf.gather(vocabulary, ids), axis=1, separator=separator)
            generated = truncate_at_stops(generated, stop)
            joint = tf.where((tf.strings.length(prompt) > 0) & (tf.strings.length(generated) > 0),
                             separator, "")
            return {"text": tf.strings.join([prompt, joint, generated]), "generated": generated}

        scalar = lambda dtype, name: tf.TensorSpec([], dtype, name=name)  # noqa: E731
        return {
            "serving_default": (serve, [tf.TensorSpec([None], tf.string, name="text")]),
            "generate": (generate, [
                tf.TensorSpec([None], tf.string, name="prompt"),
                scalar(tf.int32, "max_new_tokens"), scalar(tf.float32, "temperature"),
                scalar(tf.int32, "top_k"), scalar(tf.float32, "top_p"), scalar(tf.int32, "seed"),
                tf.TensorSpec([None], tf.string, name="stop"),
            ]),
            "step": step_endpoint(generator, batch_size=None),
        }

    def tflite_endpoints(self, model, meta) -> dict[str, Endpoint]:
        return {"step": step_endpoint(generator_for(model, meta["context"]), batch_size=1)}

    def reference_outputs(self, model, vectorizer, texts, meta) -> dict[str, np.ndarray]:
        rows = [keras.ops.convert_to_numpy(model(prompt_row(vectorizer, t)[None], training=False))[0, -1]
                for t in texts]
        return {"probabilities": np.stack(rows)}

    def step_sequences(self, vectorizer, texts) -> list[np.ndarray]:
        return [np.array(prompt_row(vectorizer, text), np.int32)[:, None] for text in texts]

    def card(self, meta) -> dict:
        return {
            "saved_model": {
                "serving_default": {
                    "inputs": {"text": "tf.string [batch]: prompts"},
                    "outputs": {"probabilities": "float32 [batch, vocab]: the next token"},
                },
                "generate": {
                    "inputs": {
                        "prompt": "tf.string [batch]", "max_new_tokens": "int32, 0 to "
                        f"{meta['max_new_tokens_limit']}", "temperature": "float32, finite; <= 0 is greedy",
                        "top_k": "int32; <= 0 keeps all", "top_p": "float32 > 0; >= 1 keeps all",
                        "seed": "int32: the same seed, the same text",
                        "stop": "tf.string [n]: cut the generated text at the first of these",
                    },
                    "outputs": {"text": "prompt + continuation", "generated": "the continuation"},
                },
                "step": step_card("token_ids", "int32 [{batch}]", "float32 [{batch}, vocab]", STATES),
            },
            "tflite": {
                "signature": "step",
                **step_card("token_ids", "int32 [{batch}]", "float32 [{batch}, vocab]", STATES, batch="1"),
                "usage": f"feed [BOS] (id {BOS_ID}), then the prompt's ids one at a time, then "
                         "each sampled id; never sample id 0 or [BOS]",
            },
        }


def lm_documents(data: Path, settings: dict) -> tuple[tf.data.Dataset, tf.data.Dataset, Scan]:
    """(training documents, held-out documents, the checking pass) of `data`, as `prepare` reads it
    (`seqzoo cells` and the benchmark read a run's held-out split again through it)."""
    fraction, seed, sample = settings["validation_fraction"], settings["seed"], settings["vocabulary_sample"]
    if settings["documents"] == "file":
        files = (sorted(f for f in data.rglob("*") if f.suffix in (".py", ".txt") and f.is_file())
                 if data.is_dir() else line_files(data))
        if not files:
            raise UserError(f"folder '{data}' has no .py or .txt files")
        root = data if data.is_dir() else None
        split = RecordSplit(functools.partial(_file_records, files, root), 2, fraction, seed, key=0)
        scan = split.scan(PARITY_PROMPTS, sample)
        split.check_sizes(scan, data, "non-empty files")
        scan.heldout = [text for _, text in scan.heldout]
        scan.sample = None if scan.sample is None else [text for _, text in scan.sample]
        parse = lambda names, texts: texts  # noqa: E731
        return split.examples(parse, False, scan), split.examples(parse, True, scan), scan
    if data.is_dir():
        train, valid = data / "train.txt", data / "valid.txt"
        files = [train] if train.is_file() and valid.is_file() else sorted(data.rglob("*.txt"))
        heldout_files = [valid] if files == [train] else None
        if not files:
            raise UserError(f"folder '{data}' has no .txt files")
    else:
        files, heldout_files = line_files(data), None
    split = LineSplit(files, heldout_files, fraction, seed)
    scan = split.scan(_document, PARITY_PROMPTS, sample)
    split.check_sizes(scan, data, "non-empty lines")
    return split.examples(_strip, False, scan), split.examples(_strip, True, scan), scan


def _file_records(files: list[Path], root: Path | None):
    """(name, text) of every file that has text: the name (relative to the folder) decides its split."""
    for file in files:
        text = read_text(file)
        if text.strip():
            yield (str(file.relative_to(root)) if root is not None else str(file)), text


def _document(line: str, path, number: int) -> str | None:
    return line.strip() or None


def _strip(lines: tf.Tensor) -> tf.Tensor:
    return tf.strings.strip(lines)


def lanes(windows_: tf.data.Dataset, batch: int) -> tf.data.Dataset:
    """A split's windows (`stream_windows`, in order) as `carried_rows` batches: the stream in
    `batch` contiguous lanes, read into memory."""
    return lane_dataset(*window_arrays(windows_), batch)


def lane_dataset(inputs: np.ndarray, targets: np.ndarray, batch: int) -> tf.data.Dataset:
    return tf.data.Dataset.from_tensor_slices(carried_rows(inputs, targets, batch)).prefetch(tf.data.AUTOTUNE)


def lm_vectorizer(text_config: dict, documents: list[str] | tf.data.Dataset) -> Vectorizer:
    """A vectorizer adapted to the documents, with [BOS] at id 2."""
    vectorizer = Vectorizer(**text_config).adapt(documents)
    vectorizer.set_vocabulary([BOS, *vectorizer.vocabulary][: vectorizer.max_tokens - 2])
    return vectorizer


def lm_unit(tokenizer: str) -> str:
    return "character" if tokenizer == "char" else "token"


def lm_meta(config: dict, vectorizer: Vectorizer) -> dict:
    """What serving needs to know: [BOS], how tokens join, the generation limits."""
    return {
        "bos_id": BOS_ID,
        "separator": "" if vectorizer.tokenizer == "char" else " ",
        "unit": lm_unit(vectorizer.tokenizer),
        "context": vectorizer.max_length,  # prompts keep their last `context` tokens, [BOS] included
        "max_new_tokens": config["generation"]["max_new_tokens"],
        "max_new_tokens_limit": config["generation"]["max_new_tokens_limit"],
    }


def token_stream(vectorizer: Vectorizer, documents: list[str]) -> np.ndarray:
    """All documents' ids, each preceded by [BOS], as one int32 array."""
    rows = vectorizer.lookup(documents).to_list()
    return np.fromiter((i for row in rows for i in (BOS_ID, *row)), np.int32)


def prompt_row(vectorizer: Vectorizer, text: str) -> np.ndarray:
    """[BOS] + the prompt's last max_length - 1 ids: what the graph feeds the model."""
    ids = vectorizer.lookup([text]).to_list()[0][-(vectorizer.max_length - 1):]
    return np.array([BOS_ID, *ids], np.int32)


def left_padded_prompts(vectorizer: Vectorizer, text) -> tf.Tensor:
    """Prompts -> [BOS] + their last max_length - 1 ids, left-padded with 0 into [batch, time]."""
    ids = vectorizer.lookup(text)
    ids = tf.RaggedTensor.from_row_lengths(
        _last_values(ids, vectorizer.max_length - 1), tf.minimum(ids.row_lengths(), vectorizer.max_length - 1)
    )
    bos = tf.fill([ids.nrows(), 1], tf.constant(BOS_ID, tf.int32))
    ids = tf.concat([tf.RaggedTensor.from_tensor(bos), ids], axis=1)
    lengths = ids.row_lengths()
    reversed_rows = tf.reverse_sequence(ids.to_tensor(), lengths, seq_axis=1, batch_axis=0)
    return tf.reverse(reversed_rows, axis=[1])


def _last_values(ids: tf.RaggedTensor, n: int) -> tf.Tensor:
    """The flat values of each row's last n ids."""
    starts = ids.row_starts() + tf.maximum(ids.row_lengths() - n, 0)
    keep = tf.ragged.range(starts, ids.row_limits())
    return tf.gather(ids.flat_values, keep.flat_values)


def truncate_at_stops(texts: tf.Tensor, stops: tf.Tensor) -> tf.Tensor:
    """Each text cut before the first occurrence of each non-empty stop string."""
    def body(i, texts):
        stop = stops[i]
        head = tf.strings.split(texts, sep=stop, maxsplit=1).to_tensor(default_value="")[:, 0]
        return i + 1, tf.where(tf.strings.length(stop) > 0, head, texts)

    return tf.while_loop(lambda i, _: i < tf.size(stops), body, (tf.constant(0), texts))[1]
