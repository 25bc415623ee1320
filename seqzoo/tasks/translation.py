"""Translation: source text -> target text with an encoder-decoder (seq2seq, seq2seq_attn).

The target vocabulary starts with [START] (id 2) and [END] (id 3). Training is teacher
forcing: ((source ids, [START] y_1 ... y_n), y_1 ... y_n [END]), padding masked.

SavedModel signatures (tokenization, search and detokenization all in the graph; see
`seqzoo.tasks.encoder_decoder`):
  serving_default           text [batch] -> translation [batch] (beam search at the
                            config's width) + token_ids, score, truncated, unknown_tokens
  translate                 text, beam_width (1: greedy) -> the same outputs
  translate_with_attention  + attention [batch, steps, source], source_tokens, target_tokens
                            (seq2seq_attn only)
  encode / decode_step      for a client that drives the loop itself
The `.tflite` file: `translate` (source token_ids [1, source], beam_width), `encode` and
`decode_step`; the card lists them.
"""

from __future__ import annotations

import functools
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from seqzoo.data.batching import batches
from seqzoo.data.streaming import LineSplit, line_files
from seqzoo.data.translation import ParallelTexts, dates_corpus, pair_fields, parse_pair, read_pairs
from seqzoo.decoding.translator import Translator
from seqzoo.errors import UserError
from seqzoo.metrics import translation_report
from seqzoo.schema import MAX_BEAM_WIDTH
from seqzoo.tasks.base import Prepared, ReadOptions
from seqzoo.tasks.encoder_decoder import (
    END_ID,
    START_ID,
    EncoderDecoderTask,
    checked_beam_width,
    detokenize,
    loop_card,
    target_vectorizer,
    teacher_forced,
)
from seqzoo.text import Vectorizer, string_tensor

HELDOUT_FOR_PARITY = 32


class TranslationTask(EncoderDecoderTask):
    """Pairs of texts in (a TSV file, or a folder with train.tsv and validation.tsv)."""

    name = "translation"
    verb = "translate"
    web_page = "translation"
    attention_outputs = ("attention", "source_tokens", "target_tokens")

    def default_data(self) -> Path:
        return dates_corpus()

    def prepare(self, config: dict, data: Path, options: ReadOptions) -> Prepared:
        """Streams the pairs (a folder's train.tsv and validation.tsv, or a file or glob split by a
        hash of each line): one checking pass, then tf.data passes."""
        settings = config["train"]
        split = line_split(data, settings["validation_fraction"], settings["seed"])
        scan = split.scan(pair_fields, HELDOUT_FOR_PARITY, settings["vocabulary_sample"])
        split.check_sizes(scan, data, "source<TAB>target lines")
        train_pairs = split.examples(parse_pair, heldout=False, scan=scan)
        if scan.sample is None:  # every training pair, streamed
            sources, targets = train_pairs.map(lambda s, _: s), train_pairs.map(lambda _, t: t)
        else:
            sources, targets = [s for s, _ in scan.sample], [t for _, t in scan.sample]
        source = Vectorizer(**config["text"]).adapt(sources)
        target = target_vectorizer(config["target"], targets)
        config["text"]["max_tokens"] = source.vocabulary_size()
        config["target"]["max_tokens"] = config["model"]["target_vocab_size"] = target.vocabulary_size()
        meta = translation_meta(config, target)
        batch = settings["batch_size"]
        return Prepared(
            vectorizer=source,
            train_batches=functools.partial(
                pair_batches, train_pairs, source, target, batch, settings["seed"],
                buffer=min(settings["shuffle_buffer"], scan.examples[0])),
            examples=scan.examples[0],
            validation=pair_batches(split.examples(parse_pair, heldout=True, scan=scan), source, target,
                                    batch),
            meta=meta,
            heldout_texts=[s for s, _ in scan.heldout],
            train_texts=train_pairs.map(lambda s, _: s),
        )

    def evaluation_dataset(self, config, vectorizer, meta, data) -> tf.data.Dataset:
        return pair_dataset(read_pairs(data), vectorizer, target_of(meta), config["train"]["batch_size"])

    def metrics(self, model, dataset, meta) -> dict[str, float]:
        """Loss and token accuracy (teacher forcing), then BLEU, chrF and exact match of greedy
        translations, overall and by source length band."""
        metrics = super().metrics(model, dataset, meta)
        translator = Translator(model, START_ID, END_ID)
        search = tf.function(lambda ids: translator.search(ids, 1, meta["max_steps"]).token_ids,
                             input_signature=[tf.TensorSpec([None, None], tf.int32)], autograph=False)
        vocabulary = tf.constant(target_of(meta).get_vocabulary())
        references, hypotheses, lengths = [], [], []
        for (source_ids, _), expected in dataset:
            produced = search(source_ids)
            expected = tf.where(expected == END_ID, 0, expected)
            references += _texts(detokenize(vocabulary, expected, meta["separator"]))
            hypotheses += _texts(detokenize(vocabulary, produced, meta["separator"]))
            lengths += np.count_nonzero(source_ids.numpy(), axis=1).tolist()
        report = translation_report(references, hypotheses, lengths, characters=meta["separator"] == "")
        metrics.update({f"val_{k}": v for k, v in report.items()})
        return metrics

    def search_function(self, model, vectorizer, meta):
        return translate_function(model, vectorizer, meta)

    def source(self, vectorizer, meta):
        return vectorizer

    def tflite_input(self, meta) -> tf.TensorSpec:
        return tf.TensorSpec([1, None], tf.int32, name="token_ids")

    def web_meta(self, meta) -> dict:
        return super().web_meta(meta) | {"target_vocabulary": target_of(meta).get_vocabulary()}

    def tflite_sources(self, vectorizer, texts, meta) -> list:
        """Each text's ids as the card tells an app to make them; None (translated as '') for a text
        with no tokens."""
        return [None if vectorizer.lookup([text]).row_lengths()[0] == 0 else vectorizer([text]).numpy()
                for text in texts]

    def card(self, meta) -> dict:
        translation = {
            "translation": "tf.string [batch]: '' for a text with no tokens",
            "token_ids": f"int32 [batch, {meta['max_steps']}]: target ids, 0 from [END] on",
            "score": "float32 [batch]: log p(translation, [END] | text)",
            "truncated": "bool [batch]: the text had more than text.max_length tokens; the rest "
                         "was not read",
            "unknown_tokens": "int32 [batch]: tokens of the text the source vocabulary lacks",
        }
        states = ("decoder states state_<k> float32 [batch, units] (h, and c for an LSTM; then h~ for "
                  "Luong / multi-head attention)")
        signatures = {
            "serving_default": {"inputs": {"text": "tf.string [batch]"},
                                "outputs": {**translation, "search": f"beam width {meta['beam_width']}"}},
            "translate": {"inputs": {"text": "tf.string [batch]", "beam_width": f"int32, 1 (greedy) "
                                     f"to {MAX_BEAM_WIDTH}"}, "outputs": translation},
            **loop_card({"text": "tf.string [batch]"}, "source", states, "token", "target vocab"),
        }
        if meta["attention"] is not None:
            signatures["translate_with_attention"] = {
                "inputs": signatures["translate"]["inputs"],
                "outputs": {**translation, "attention": "float32 [batch, steps, source]: the weights "
                            "each target token gave each source token",
                            "source_tokens": "tf.string [batch, source]",
                            "target_tokens": "tf.string [batch, steps]"}}
        return {
            "saved_model": signatures,
            "tflite": {
                "signatures": "translate, encode, decode_step",
                "inputs": {"token_ids": "int32 [1, source]: one text's ids (vocabulary.json), no "
                           "padding; a text with no tokens translates to '' without calling the model",
                           "beam_width": "int32 (translate)"},
                "outputs": {"token_ids": f"int32 [1, {meta['max_steps']}]: indexes target_vocabulary; "
                            "0 from [END] on", "score": "float32 [1]"},
                "target_vocabulary": target_of(meta).get_vocabulary(),
            },
        }


def target_of(meta: dict) -> Vectorizer:
    return Vectorizer.from_config(meta["target"])


def translation_meta(config: dict, target: Vectorizer) -> dict:
    """What serving needs: the target vectorizer, how tokens join, the search settings."""
    return {
        "target": target.get_config(),
        "separator": "" if target.tokenizer == "char" else " ",
        "max_steps": target.max_length + 1,  # the tokens and [END]
        "beam_width": config["decoding"]["beam_width"],
        "length_penalty": config["decoding"]["length_penalty"],
        "attention": config["model"].get("attention"),
    }


def translate(run, texts: list[str], beam_width: int = 1) -> list[dict]:
    """Translations by a trained run (`seqzoo.load_run`), with their attention maps.

    Rows as `translation_rows` makes them; `seqzoo.plots.plot_attention` draws one.

    Example:
    ```python
    run = seqzoo.load_run("runs/seq2seq_attn")
    row = translate(run, ["3rd of March, 2021"], beam_width=4)[0]  # row["translation"]: '2021-03-03'
    ```
    """
    function = translate_function(run.model, run.vectorizer, run.meta)
    out = function(string_tensor(list(texts)), tf.constant(checked_beam_width(beam_width)))
    return translation_rows(texts, {k: v.numpy() for k, v in out.items()})


def translation_rows(texts: list[str], outputs: dict[str, np.ndarray]) -> list[dict]:
    """Per text: translation, score, truncated, unknown_tokens, and, where the outputs have
    them, source_tokens, target_tokens and attention [target tokens][source tokens]."""
    rows = []
    for i, text in enumerate(texts):
        row = {"text": text, "translation": outputs["translation"][i].decode("utf-8", errors="replace"),
               "score": float(outputs["score"][i]), "truncated": bool(outputs["truncated"][i]),
               "unknown_tokens": int(outputs["unknown_tokens"][i])}
        if "attention" in outputs and "source_tokens" in outputs:
            source = [t.decode("utf-8", errors="replace") for t in outputs["source_tokens"][i] if t]
            target = [t.decode("utf-8", errors="replace") for t in outputs["target_tokens"][i] if t]
            row.update(source_tokens=source, target_tokens=target,
                       attention=outputs["attention"][i, : len(target), : len(source)].tolist())
        rows.append(row)
    return rows


def translate_function(model: keras.Model, vectorizer: Vectorizer, meta: dict):
    """texts [batch], beam_width -> the translation outputs, as translate_with_attention gives them
    (serving_default leaves out the attention and the tokens)."""
    translator = Translator(model, START_ID, END_ID)
    vocabulary = tf.constant(target_of(meta).get_vocabulary())
    source_vocabulary = tf.constant(vectorizer.get_vocabulary())

    def translate(text, beam_width):
        tokens = vectorizer.lookup(text)
        empty = tf.equal(tokens.row_lengths(), 0)
        result = translator.search(vectorizer(text), beam_width, meta["max_steps"], meta["length_penalty"])
        token_ids = tf.where(empty[:, None], 0, result.token_ids)
        out = {
            "translation": detokenize(vocabulary, token_ids, meta["separator"]),
            "token_ids": token_ids,
            "score": tf.where(empty, 0.0, result.scores),
            "truncated": tokens.row_lengths() > vectorizer.max_length,
            "unknown_tokens": tf.reduce_sum(tf.cast(tf.equal(tokens, 1), tf.int32), axis=1),
            "attention": result.attention * tf.cast(~empty, tf.float32)[:, None, None],
            # An empty text has no tokens.
            "source_tokens": tf.gather(source_vocabulary, tf.where(empty[:, None], 0, vectorizer(text))),
            "target_tokens": tf.gather(vocabulary, token_ids),
        }
        return out

    return translate


def pair_dataset(pairs: ParallelTexts, source: Vectorizer, target: Vectorizer, batch_size: int,
                 shuffle_seed: int | None = None, epochs: range | None = None) -> tf.data.Dataset:
    """Pairs in memory as `pair_batches` makes them."""
    dataset = tf.data.Dataset.from_tensor_slices((tf.constant(pairs.sources), tf.constant(pairs.targets)))
    return pair_batches(dataset, source, target, batch_size, shuffle_seed, epochs)


def pair_batches(pairs: tf.data.Dataset, source: Vectorizer, target: Vectorizer, batch_size: int,
                 shuffle_seed: int | None = None, epochs: range | None = None,
                 buffer: int | None = None) -> tf.data.Dataset:
    """(source text, target text) -> ((source ids, [START] + target ids), target ids + [END]),
    padded per batch with 0; the order as `seqzoo.data.batching.batches` gives it."""

    def vectorize(sources, targets):
        decoder_in, decoder_out = teacher_forced(target.lookup(targets), target.max_length)
        return (source(sources), decoder_in), decoder_out

    return batches(pairs, lambda d: d.batch(batch_size).map(vectorize), shuffle_seed, epochs, buffer)


def line_split(data: Path, validation_fraction: float, seed: int) -> LineSplit:
    """A folder's train.tsv and validation.tsv, or one file or glob split by a hash of each line."""
    if Path(data).is_dir():
        missing = [name for name in ("train.tsv", "validation.tsv") if not (data / name).is_file()]
        if missing:
            raise UserError(f"data folder '{data}' needs {' and '.join(missing)} (source<TAB>target lines)")
        return LineSplit([data / "train.tsv"], [data / "validation.tsv"], validation_fraction, seed)
    return LineSplit(line_files(data), None, validation_fraction, seed)


def _texts(strings: tf.Tensor) -> list[str]:
    return [s.decode("utf-8", errors="replace") for s in strings.numpy()]
