"""What the encoder-decoder tasks share (translation, captioning): a target vocabulary that starts
with [START] and [END], one search (greedy / beam) behind every search signature, the loop an app
drives itself (`encode`, `decode_step`), detokenization, and how two searches' outputs agree.

SavedModel signatures, named by the task's `verb` (`translate`, `caption`):
  serving_default        the raw input [batch] -> the search's outputs at the config's beam width
  <verb>                 the raw input, beam_width (1: greedy) -> the same outputs
  <verb>_with_attention  + the attention weights and tokens (entries with attention)
  encode / decode_step   for a client that drives the loop itself
The `.tflite` file: `<verb>` (one input at batch 1, beam_width), `encode` and `decode_step`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from seqzoo.decoding.translator import Translator
from seqzoo.errors import UserError
from seqzoo.schema import MAX_BEAM_WIDTH, Rule
from seqzoo.tasks.base import Endpoint, Task
from seqzoo.text import Vectorizer, string_tensor

START, END = "[START]", "[END]"
START_ID, END_ID = 2, 3
BEAM_WIDTH = tf.TensorSpec([], tf.int32, name="beam_width")


class EncoderDecoderTask(Task):
    """A task whose entries encode an input and decode a token sequence by search.

    A subclass names its search signature (`verb`), the outputs only the attention signature
    returns, and how its raw input becomes the encoder's (`source`, `tflite_sources`); it writes
    the search function serving calls (`search_function`). Endpoints, the `.tflite` file, its
    driver and the agreement of quantised files are written once, here.
    """

    verb: str  # the search signature: "translate", "caption"
    attention_outputs: tuple[str, ...]  # outputs only `<verb>_with_attention` returns

    def search_function(self, model: keras.Model, vectorizer: Vectorizer | None, meta: dict) -> Callable:
        """(raw input [batch], beam_width) -> every output of `<verb>_with_attention`."""
        raise NotImplementedError

    def source(self, vectorizer: Vectorizer | None, meta: dict) -> Callable:
        """Raw input [batch] -> what the encoder reads (token ids, decoded images)."""
        raise NotImplementedError

    def tflite_input(self, meta: dict) -> tf.TensorSpec:
        """What the `.tflite` file's `<verb>` and `encode` read, at batch 1."""
        raise NotImplementedError

    def tflite_sources(self, vectorizer: Vectorizer | None, inputs: list, meta: dict) -> list:
        """Per raw input, what an app feeds the `.tflite` file ([1, ...]), or None where the card
        tells it to answer '' without calling the model (no tokens, not an image)."""
        raise NotImplementedError

    def endpoints(self, model, vectorizer, meta) -> dict[str, Endpoint]:
        search = self.search_function(model, vectorizer, meta)
        specs = [tf.TensorSpec([None], tf.string, name=self.serving.input)]

        def with_beam(inputs, beam_width, attention=False):
            with tf.control_dependencies(served_beam_checks(beam_width)):
                out = search(inputs, tf.identity(beam_width))
            return out if attention else {k: v for k, v in out.items() if k not in self.attention_outputs}

        endpoints = {
            "serving_default": (lambda inputs: with_beam(inputs, tf.constant(meta["beam_width"])), specs),
            self.verb: (with_beam, [*specs, BEAM_WIDTH]),
            **loop_endpoints(Translator(model, START_ID, END_ID), self.source(vectorizer, meta), specs),
        }
        if meta["attention"] is not None:
            endpoints[f"{self.verb}_with_attention"] = (functools.partial(with_beam, attention=True),
                                                        [*specs, BEAM_WIDTH])
        return endpoints

    def tflite_endpoints(self, model, meta) -> dict[str, Endpoint]:
        translator = Translator(model, START_ID, END_ID)
        return {**self._search_endpoint(translator, meta, attention=False),
                **loop_endpoints(translator, lambda inputs: inputs, [self.tflite_input(meta)], batch_size=1)}

    def web_endpoints(self, model, meta) -> dict[str, Endpoint]:
        """The page's search, with the attention weights [1, steps, positions] where the entry has them."""
        return self._search_endpoint(Translator(model, START_ID, END_ID), meta,
                                     attention=meta["attention"] is not None)

    web_meta_keys = ("separator", "beam_width", "max_steps", "attention", "image_size", "grid")

    def web_meta(self, meta) -> dict:
        return super().web_meta(meta) | {"max_beam_width": MAX_BEAM_WIDTH}

    def _search_endpoint(self, translator: Translator, meta: dict, attention: bool) -> dict[str, Endpoint]:
        """`<verb>`: the raw input at batch 1 and a beam width -> token_ids, score (and attention)."""

        def search(inputs, beam_width):
            result = translator.search(inputs, beam_width, meta["max_steps"], meta["length_penalty"])
            out = {"token_ids": result.token_ids, "score": result.scores}
            return {**out, "attention": result.attention} if attention else out

        return {self.verb: (search, [self.tflite_input(meta), BEAM_WIDTH])}

    def reference_outputs(self, model, vectorizer, inputs, meta) -> dict[str, np.ndarray]:
        search = self.search_function(model, vectorizer, meta)
        out = search(string_tensor(inputs), tf.constant(meta["beam_width"]))
        return {"token_ids": out["token_ids"].numpy(), "score": out["score"].numpy()}

    def tflite_outputs(self, interpreter, vectorizer, inputs, meta) -> dict[str, np.ndarray]:
        search = interpreter.get_signature_runner(self.verb)
        rows = {"token_ids": [], "score": []}
        for source in self.tflite_sources(vectorizer, inputs, meta):
            if source is None:
                rows["token_ids"].append(np.zeros((1, meta["max_steps"]), np.int32))
                rows["score"].append(np.zeros(1, np.float32))
                continue
            out = search(**{self.tflite_input(meta).name: source}, beam_width=np.int32(meta["beam_width"]))
            for name in rows:
                rows[name].append(out[name])
        return {name: np.concatenate(values) for name, values in rows.items()}

    def tflite_agreement(self, reference, outputs, meta) -> dict[str, float]:
        return sequence_agreement(reference["token_ids"], outputs["token_ids"])


def checked_beam_width(beam_width) -> int:
    """A beam width asked for in Python or on the command line: an int from 1 to MAX_BEAM_WIDTH."""
    beam_width = Rule(int).check("beam width", beam_width, what="")
    if not 1 <= beam_width <= MAX_BEAM_WIDTH:
        raise UserError(f"beam width must be between 1 and {MAX_BEAM_WIDTH}, got {beam_width}")
    return beam_width


def served_beam_checks(beam_width: tf.Tensor) -> list:
    """The served graph's checks of a beam width: 1 to MAX_BEAM_WIDTH."""
    return [
        tf.debugging.assert_greater_equal(beam_width, 1, message="beam_width < 1"),
        tf.debugging.assert_less_equal(beam_width, MAX_BEAM_WIDTH, message=f"beam_width > {MAX_BEAM_WIDTH}"),
    ]


def target_vectorizer(text_config: dict, targets) -> Vectorizer:
    """A vectorizer adapted to the targets, with [START] at id 2 and [END] at id 3."""
    vectorizer = Vectorizer(**text_config).adapt(targets)
    vectorizer.set_vocabulary([START, END, *vectorizer.vocabulary][: vectorizer.max_tokens - 2])
    return vectorizer


def detokenize(vocabulary: tf.Tensor, token_ids, separator: str) -> tf.Tensor:
    """Target ids [batch, steps] (0 = nothing) -> strings [batch]; WordPiece continuations
    ("##ing") join the piece before them."""
    tokens = tf.gather(vocabulary, tf.RaggedTensor.from_tensor(token_ids, padding=0))
    return tf.strings.regex_replace(tf.strings.reduce_join(tokens, axis=1, separator=separator), " ##", "")


def teacher_forced(target_ids: tf.RaggedTensor, max_length: int) -> tuple[tf.Tensor, tf.Tensor]:
    """Target token ids [batch, (tokens)] -> the decoder's input ([START] + the first `max_length`
    ids) and what it learns to predict (those ids + [END]), padded with 0."""
    ids = target_ids[:, :max_length]
    edge = lambda token: tf.RaggedTensor.from_tensor(tf.fill([ids.nrows(), 1], token))  # noqa: E731
    return (tf.concat([edge(START_ID), ids], axis=1).to_tensor(),
            tf.concat([ids, edge(END_ID)], axis=1).to_tensor())


def sequence_agreement(reference: np.ndarray, outputs: np.ndarray) -> dict[str, float]:
    """How decoded id sequences [n, steps] (0 past the end) agree with the float32 file's: the share
    identical, and corpus BLEU (sacrebleu, over ids) taking the float32 sequences as the references."""
    import sacrebleu

    words = [[" ".join(map(str, row[row > 0])) for row in ids] for ids in (reference, outputs)]
    bleu = sacrebleu.BLEU(tokenize="none", effective_order=True).corpus_score(words[1], [words[0]]).score
    return {"exact_match": round(float(np.mean([a == b for a, b in zip(*words, strict=True)])), 4),
            "bleu_vs_float32": round(float(bleu), 2)}


def loop_card(inputs: dict, positions: str, states: str, previous: str, vocabulary: str) -> dict:
    """The model card's `encode` and `decode_step` entries: `positions` names the memory's ("source"
    tokens, image "regions"), `previous` what a step reads ("token", "word")."""
    return {
        "encode": {"inputs": inputs,
                   "outputs": {"memory": f"float32 [batch, {positions}, units]",
                               "keys": f"float32 [batch, {positions}, k]",
                               "memory_mask": f"bool [batch, {positions}]", "states": states}},
        "decode_step": {
            "inputs": {"token_ids": f"int32 [batch]: the previous {previous}, [START] ({START_ID}) first",
                       "memory, keys, memory_mask, states": "from encode, then from the last step"},
            "outputs": {"probabilities": f"float32 [batch, {vocabulary}]",
                        "attention": f"float32 [batch, {positions}]", "states": "the new states"}},
    }


def loop_endpoints(translator: Translator, source: Callable, input_signature, batch_size=None) -> dict:
    """`encode` (input -> memory, keys, mask, first states) and `decode_step` (one step)."""
    states = translator.decoder.state_count + translator.decoder.input_feeding

    def encode(inputs):
        memory, keys, mask, first = translator.encode(source(inputs))
        return {"memory": memory, "keys": keys, "memory_mask": mask,
                **{f"state_{k}": s for k, s in enumerate(first)}}

    def decode_step(token_ids, memory, keys, memory_mask, *state):
        probabilities, state, weights = translator.step(token_ids, list(state), memory, keys, memory_mask)
        return {"probabilities": probabilities, "attention": weights,
                **{f"state_{k}": s for k, s in enumerate(state)}}

    decoder = translator.decoder
    key_size = decoder.attention_units if decoder.attention in ("bahdanau", "multihead") else decoder.units
    key_size *= 2 if decoder.attention == "multihead" else 1
    spec = lambda shape, name, dtype=tf.float32: tf.TensorSpec(shape, dtype, name=name)  # noqa: E731
    step_inputs = [
        spec([batch_size], "token_ids", tf.int32), spec([batch_size, None, decoder.units], "memory"),
        spec([batch_size, None, key_size], "keys"), spec([batch_size, None], "memory_mask", tf.bool),
        *[spec([batch_size, decoder.units], f"state_{k}") for k in range(states)],
    ]
    return {"encode": (encode, input_signature), "decode_step": (decode_step, step_inputs)}
