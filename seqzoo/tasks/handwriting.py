"""Handwriting (Graves 2013): pen points in, a mixture density over the next point out; writing
by sampling point by point, each fed back, in the graph.

The reported figures: nats per point, the mean of -log p(next point) over every held-out point
(the offsets normalised by the training set's standard deviations, as the network reads them);
for synthesis also the window's alignment: the share of held-out points whose window peaks on the
character being drawn (the synthetic data knows it; IAM-OnDB does not).

SavedModel signatures (offsets in the data's units; the networks read them divided by the card's
`offset_scale`):
  handwriting_prediction
    serving_default  strokes float32 [batch, time, 3] (dx, dy, end of stroke) -> mixture [batch,
                     1 + 6M]: the next point's distribution
    write            points, bias, seed -> strokes [points, 3]
  handwriting_synthesis
    serving_default  text [batch] -> strokes [batch, points, 3], lengths [batch]: the text written
                     greedily (each point its most probable component's mean), unknown_characters
    write            text, bias, seed, max_points -> strokes [points, 3], window [points, chars]
  step (both)        point [batch, 3] (normalised) + states (+ chars [batch, chars]) -> mixture + states
The `.tflite` file has `step`, at batch 1 (synthesis: the text as `writing.max_chars` ids).
"""

from __future__ import annotations

import functools
import warnings
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from seqzoo.data.batching import batches, mean_over_valid, split_whole
from seqzoo.data.handwriting import (
    START,
    Alphabet,
    Line,
    legibility,
    line_examples,
    offset_scale,
    read_iam_line,
    read_lines,
    synthetic_corpus,
)
from seqzoo.decoding.handwriting_writer import HandwritingWriter
from seqzoo.errors import SeqzooNote, UserError
from seqzoo.layers.mixture_density import mixture_nll, split_mixture
from seqzoo.metrics import mean_over_valid as mean_loss
from seqzoo.tasks.base import Endpoint, Prepared, ReadOptions, Serving, Task

PARITY_LINES = 4  # held-out lines (prediction: their first PARITY_POINTS points) the export compares on
PARITY_POINTS = 48
PARITY_BIAS = 1.0  # the export's parity check also writes at this bias, the random numbers given
LEGIBILITY_TEXTS, LEGIBILITY_BIAS = 20, 1.0  # validation texts written for `val_legibility`, at this bias
MIXTURE_LAYOUT = (
    "end-of-stroke probability, M weights, M means x, M means y, M deviations x, M deviations y, "
    "M correlations"
)
STEP_USAGE = (
    "start from zero states and the point (0, 0, 1); sample a point from the mixture (offsets "
    "divided by offset_scale, as the network reads them) and feed it back. Synthesis: the text as "
    "character ids (the alphabet's index + 1, 0 after its end); stop once phi at the text's length "
    "exceeds phi at every character"
)


class HandwritingTask(Task):
    """Pen trajectories (IAM-OnDB stroke XML; default: synthetic Hershey handwriting)."""

    name = "handwriting_prediction"
    synthesis = False
    web_page = "handwriting"
    web_meta_keys = ("offset_scale", "bias", "max_points", "max_points_limit", "alphabet", "max_chars")
    # The mixture is compared in the data's units after 48 fed points, its means up to about 40 for
    # the long-stroke parity input (float32 spacing there: 4e-6); a trained model's TFLite file
    # differed by 1.1e-5.
    parity_tolerance = 1e-4
    serving = Serving(input="strokes", reads_text=False, request_inputs={"write": "bias"})

    def default_data(self) -> Path:
        return synthetic_corpus()

    def prepare(self, config: dict, data: Path, options: ReadOptions) -> Prepared:
        settings = config["train"]
        lines = usable_lines(read_lines(data), settings, self.synthesis)
        writers = sorted({line.writer for line in lines})
        parts = split_whole(
            len(writers),
            settings["validation_fraction"],
            settings["test_fraction"],
            settings["seed"],
            "writers",
        )
        train, validation, test = (
            [line for line in lines if line.writer in {writers[i] for i in part}] for part in parts
        )
        alphabet = Alphabet.of([line.text for line in train])
        if self.synthesis:
            config["model"]["alphabet_size"] = alphabet.size
        scale = offset_scale(train)
        examples = functools.partial(line_examples, alphabet=alphabet, scale=scale, synthesis=self.synthesis)
        batched = functools.partial(_padded, size=settings["batch_size"])
        heldout = {"val": batches(examples(validation), batched), "test": batches(examples(test), batched)}
        return Prepared(
            vectorizer=None,
            train_batches=functools.partial(batches, examples(train), batched, settings["seed"]),
            examples=len(train),
            validation=heldout["val"],
            meta=self.meta(config, alphabet, scale, {"train": train, "validation": validation, "test": test}),
            heldout_texts=self.parity_examples(validation[:PARITY_LINES]),
            heldout={**heldout, "lines": validation},
        )

    def meta(
        self, config: dict, alphabet: Alphabet, scale: list[float], parts: dict[str, list[Line]]
    ) -> dict:
        generation = config["generation"]
        return {
            "offset_scale": scale,
            "bias": generation["bias"],
            "max_points": generation["max_points"],
            "max_points_limit": generation["max_points_limit"],
            **(
                {"alphabet": alphabet.characters, "max_chars": config["writing"]["max_chars"]}
                if self.synthesis
                else {}
            ),
            "lines": {name: len(part) for name, part in parts.items()},
            "writers": {name: len({line.writer for line in part}) for name, part in parts.items()},
        }

    def parity_examples(self, lines: list[Line]) -> list:
        """What run.json keeps for the export's parity check: the first points of held-out lines."""
        return [line.points[:PARITY_POINTS].tolist() for line in lines]

    def evaluation_dataset(self, config, vectorizer, meta, data) -> tf.data.Dataset:
        lines = usable_lines(read_lines(data), config["train"], self.synthesis)
        alphabet = Alphabet(meta.get("alphabet", ""))
        if self.synthesis:
            unknown = "".join(dict.fromkeys("".join(alphabet.unknown(line.text) for line in lines)))
            if unknown:
                raise UserError(f"the lines hold characters the model was not trained on: {unknown!r}")
        examples = line_examples(lines, alphabet, meta["offset_scale"], self.synthesis)
        return batches(examples, functools.partial(_padded, size=config["train"]["batch_size"]))

    def metrics(self, model, dataset, meta) -> dict[str, float]:
        """Nats per point on each held-out part; for synthesis, the window's alignment on the
        validation lines whose points know their characters, and the legibility of the first
        LEGIBILITY_TEXTS validation texts written at bias 1 (`legibility_of_writing`) and of those
        lines themselves (the reader's ceiling)."""
        parts = (
            {k: v for k, v in dataset.items() if k != "lines"}
            if isinstance(dataset, dict)
            else {"val": dataset}
        )
        figures = {
            f"{name}_nats_per_point": mean_loss(model, batches, mixture_nll)
            for name, batches in parts.items()
        }
        if self.synthesis and isinstance(dataset, dict):
            lines, alphabet = dataset["lines"], Alphabet(meta["alphabet"])
            written = [line for line in lines if not alphabet.unknown(line.text)][:LEGIBILITY_TEXTS]
            found = {
                "val_alignment": alignment(model, lines, alphabet, meta["offset_scale"]),
                "val_legibility_of_the_data": share_read_back([(line.points, line.text) for line in written]),
                "val_legibility": legibility_of_writing(model, [line.text for line in written], alphabet,
                                                        LEGIBILITY_BIAS, meta["max_points"]),
            }
            figures.update({name: share for name, share in found.items() if share is not None})
        return figures

    # Serving: signatures, the card, parity.

    def endpoints(self, model, vectorizer, meta) -> dict[str, Endpoint]:
        writer, scale = HandwritingWriter(model), _scale(meta)
        limit = meta["max_points_limit"]

        def serve(strokes):
            with tf.control_dependencies([tf.debugging.assert_all_finite(strokes, "strokes are not finite")]):
                points = tf.concat(
                    [tf.tile(START[None, None], [tf.shape(strokes)[0], 1, 1]), strokes / scale], axis=1
                )
            return {"mixture": in_data_units(model(points, training=False)[:, -1], scale)}

        def write(points, bias, seed):
            with tf.control_dependencies(_write_checks(points, bias, limit, "points")):
                strokes, _, _ = writer.write(None, tf.identity(bias), seed, points, batch=1)
            return {"strokes": strokes[0] * scale}

        scalar = lambda dtype, name: tf.TensorSpec([], dtype, name=name)  # noqa: E731
        return {
            "serving_default": (serve, [tf.TensorSpec([None, None, 3], tf.float32, name="strokes")]),
            "write": (
                write,
                [scalar(tf.int32, "points"), scalar(tf.float32, "bias"), scalar(tf.int32, "seed")],
            ),
            "step": step_endpoint(writer, None, meta),
        }

    def tflite_endpoints(self, model, meta) -> dict[str, Endpoint]:
        return {"step": step_endpoint(HandwritingWriter(model), 1, meta)}

    def parity_inputs(self, heldout: list) -> np.ndarray:
        """Held-out lines' first points (as run.json keeps them), no movement at all, and long
        strokes, as strokes [n, PARITY_POINTS, 3] in the data's units."""
        rows = [
            np.resize(np.asarray(points, np.float32).reshape(-1, 3), (PARITY_POINTS, 3)) for points in heldout
        ]
        still = np.zeros((PARITY_POINTS, 3), np.float32)
        long = np.tile(
            np.array([[40.0, -25.0, 0.0], [-30.0, 20.0, 1.0]], np.float32), (PARITY_POINTS // 2, 1)
        )
        return np.stack([*rows, still, long])

    def reference_outputs(self, model, vectorizer, texts, meta) -> dict[str, np.ndarray]:
        scale = _scale(meta)
        strokes = tf.constant(np.asarray(texts, np.float32))
        start = tf.tile(START[None, None], [tf.shape(strokes)[0], 1, 1])
        points = tf.concat([start, strokes / scale], axis=1)
        return {"mixture": in_data_units(model(points, training=False)[:, -1], scale).numpy()}

    def tflite_outputs(self, interpreter, vectorizer, texts, meta) -> dict[str, np.ndarray]:
        """The step signature driven as an app drives it: the start point, then each point."""
        step = interpreter.get_signature_runner("step")
        scale = np.array([*meta["offset_scale"], 1.0], np.float32)
        rows = []
        for strokes in np.asarray(texts, np.float32):
            states = _zero_states(step)
            for point in np.concatenate([START[None], strokes / scale]):
                out = step(point=point[None], **states)
                states = {name: out[name] for name in states}
            rows.append(in_data_units(tf.constant(out["mixture"]), tf.constant(scale)).numpy()[0])
        return {"mixture": np.stack(rows)}

    def tflite_agreement(self, reference, outputs, meta) -> dict[str, float]:
        return {"mixture_max_abs_diff": float(np.abs(reference["mixture"] - outputs["mixture"]).max())}

    def request_values(self, name: str, items: list[str], meta: dict):
        """IAM-OnDB stroke files as `strokes` [files, points, 3] (of one length), or a number."""
        if name != "strokes":
            return items
        lines = [read_iam_line(Path(item)) for item in items]
        lengths = sorted({len(line.points) for line in lines})
        if len(lengths) > 1:
            raise UserError(
                "the stroke files hold different numbers of points "
                f"({', '.join(map(str, lengths))}); a batch needs one length: send them one by one"
            )
        return np.stack([line.points for line in lines])

    def card(self, meta) -> dict:
        m = "1 + 6M"
        return {
            "saved_model": {
                "serving_default": {
                    "inputs": {
                        "strokes": "float32 [batch, time, 3]: (dx, dy, end of stroke) offsets in the "
                        "data's units; time 0 asks for the first point"
                    },
                    "outputs": {
                        "mixture": f"float32 [batch, {m}]: the next point's distribution, in the "
                        f"data's units ({MIXTURE_LAYOUT})"
                    },
                },
                "write": {
                    "inputs": {
                        "points": f"int32, 1 to {meta['max_points_limit']}: points to write",
                        "bias": "float32 >= 0: Graves' bias (0 samples the model as trained)",
                        "seed": "int32: the same seed, the same writing",
                    },
                    "outputs": {"strokes": "float32 [points, 3]: (dx, dy, end of stroke), the data's units"},
                },
                "step": _step_card(self.synthesis, "batch", meta),
            },
            "tflite": {"signature": "step", **_step_card(self.synthesis, "1", meta), "usage": STEP_USAGE},
        }


def _padded(examples: tf.data.Dataset, size: int) -> tf.data.Dataset:
    """Lines padded to the longest of each batch; weights 0 on padding, scaled so Keras' mean over
    every position is the mean over the points."""
    return examples.padded_batch(size).map(lambda x, y, mask: (x, y, mean_over_valid(mask)))


def usable_lines(lines: list[Line], settings: dict, synthesis: bool) -> list[Line]:
    """The lines training reads: the first `train.lines` (null: all), less those over `train.max_points`
    points (a note says how many) and, for synthesis, those with no text."""
    if settings["lines"] is not None:
        lines = lines[: settings["lines"]]
    kept = [
        line
        for line in lines
        if len(line.points) <= settings["max_points"] and (line.text.strip() or not synthesis)
    ]
    if len(kept) < len(lines):
        warnings.warn(
            f"{len(lines) - len(kept)} of {len(lines)} lines have more than train.max_points="
            f"{settings['max_points']} points{' or no text' if synthesis else ''} and were left "
            "out",
            SeqzooNote,
            stacklevel=2,
        )
    if not kept:
        raise UserError("no line is usable for training")
    return kept


def alignment(model: keras.Model, lines: list[Line], alphabet: Alphabet, scale: list[float],
              batch_size: int = 32) -> float | None:
    """The share of the lines' points (those whose character is known) at which the window's weight
    peaks on the character being drawn; None when no point knows its character."""
    rnn = model.get_layer("rnn")
    window = tf.function(lambda points, chars: rnn([points, chars], return_window=True)[1],
                         reduce_retracing=True)
    lines = [line for line in lines if (line.chars >= 0).any() and not alphabet.unknown(line.text)]
    hits, count = 0, 0
    for first in range(0, len(lines), batch_size):
        group = lines[first : first + batch_size]
        points = np.zeros((len(group), max(len(line.points) for line in group), 3), np.float32)
        chars = np.zeros((len(group), max(len(line.text) for line in group)), np.int32)
        for i, line in enumerate(group):
            normalised = line.points / np.array([*scale, 1.0], np.float32)
            points[i, : len(line.points)] = np.concatenate([START[None], normalised[:-1]])
            # Ids skip nothing here (every character is known), so column u is character u of the text.
            chars[i, : len(line.text)] = alphabet.ids(line.text)
        phi = window(tf.constant(points), tf.constant(chars)).numpy()
        for i, line in enumerate(group):
            known = line.chars >= 0
            peak = np.argmax(phi[i, : len(line.points), : len(line.text)], axis=-1)
            hits += int((peak[known] == line.chars[known]).sum())
            count += int(known.sum())
    return hits / count if count else None


def share_read_back(writings: list[tuple[np.ndarray, str]]) -> float | None:
    """The share of the characters (spaces aside) of these (points, text) writings that read back
    (`seqzoo.data.handwriting.legibility`: each writing cut into its characters, each piece read
    among all the fonts' printable glyphs); None when there is none."""
    read = written = 0
    for points, text in writings:
        counts = legibility(points, text)
        read, written = read + counts[0], written + counts[1]
    return read / written if written else None


def legibility_of_writing(model: keras.Model, texts: list[str], alphabet: Alphabet, bias: float,
                          max_points: int, seed: int = 0) -> float | None:
    """The share of the texts' characters (spaces aside) read back from the synthesis network's
    writing of them at `bias` (`share_read_back`); compare with the data's own figure, the reader's
    ceiling (`val_legibility_of_the_data`)."""
    texts = [text for text in texts if text.strip() and not alphabet.unknown(text)]
    if not texts:
        return None
    chars = np.zeros((len(texts), max(map(len, texts))), np.int32)
    for i, text in enumerate(texts):
        chars[i, : len(text)] = alphabet.ids(text)
    write = tf.function(HandwritingWriter(model).write)
    points, lengths, _ = (x.numpy() for x in write(tf.constant(chars), tf.constant(bias), seed,
                                                   max_points))
    return share_read_back([(points[i, : lengths[i]], text) for i, text in enumerate(texts)])


class HandwritingSynthesisTask(HandwritingTask):
    """Pen trajectories with the text they write."""

    name = "handwriting_synthesis"
    synthesis = True
    # Greedy writing feeds each point back for hundreds of steps, and float32 differences between
    # LiteRT's kernels and TensorFlow's compound along the path: 5.7e-5 after 500 points, measured on
    # a trained model. A point is about 2.5 units of a 20-unit letter, so 1e-3 is far below a pixel.
    parity_tolerance = 1e-3
    serving = Serving(input="text", reads_text=False, request_inputs={"write": "text"})

    def parity_examples(self, lines: list[Line]) -> list:
        return [line.text for line in lines]

    def endpoints(self, model, vectorizer, meta) -> dict[str, Endpoint]:
        writer, scale, limit = HandwritingWriter(model), _scale(meta), meta["max_points_limit"]
        ids = char_ids_function(meta)
        styled_ids = char_ids_function(meta, width=2 * meta["max_chars"] + 1)  # style's text, " ", text

        def written(text, bias, seed, max_points, greedy, style=None):
            if style is None:
                (chars, unknown, truncated), prime = ids(text), None
            else:
                style_text, style_strokes = style
                chars, unknown, truncated = styled_ids(tf.strings.join([style_text, text], separator=" "))
                prime = style_strokes / scale
            strokes, lengths, window = writer.write(chars, bias, seed, max_points, greedy=greedy, prime=prime)
            return {
                "strokes": strokes * scale,
                "lengths": lengths,
                "window": window,
                "unknown_characters": unknown,
                "truncated": truncated,
            }

        def serve(text):
            out = written(text, 0.0, 0, meta["max_points"], greedy=True)
            return {key: value for key, value in out.items() if key != "window"}

        def write(text, bias, seed, max_points):
            with tf.control_dependencies(_write_checks(max_points, bias, limit, "max_points")):
                return written(text, tf.identity(bias), seed, max_points, greedy=False)

        def write_in_style(text, style_text, style_strokes, bias, seed, max_points):
            checks = _write_checks(max_points, bias, limit, "max_points") + [
                tf.debugging.assert_all_finite(style_strokes, message="style_strokes are not finite"),
                tf.debugging.assert_positive(tf.shape(style_strokes)[1], message="style_strokes: no points"),
            ]
            with tf.control_dependencies(checks):
                return written(text, tf.identity(bias), seed, max_points, greedy=False,
                               style=(style_text, tf.identity(style_strokes)))

        scalar = lambda dtype, name: tf.TensorSpec([], dtype, name=name)  # noqa: E731
        text = tf.TensorSpec([None], tf.string, name="text")
        sampling = [scalar(tf.float32, "bias"), scalar(tf.int32, "seed"), scalar(tf.int32, "max_points")]
        return {
            "serving_default": (serve, [text]),
            "write": (write, [text, *sampling]),
            "write_in_style": (write_in_style, [
                text, tf.TensorSpec([None], tf.string, name="style_text"),
                tf.TensorSpec([None, None, 3], tf.float32, name="style_strokes"), *sampling]),
            "step": step_endpoint(writer, None, meta),
        }

    def tflite_endpoints(self, model, meta) -> dict[str, Endpoint]:
        """`step`, and the whole writing loop as `write` (batch 1, `max_points` fixed): LiteRT has no
        seeded random op, so the app gives the random numbers (`uniform`); a bias below 0 or not a
        number writes nothing, as LiteRT cannot raise."""
        writer, scale, points = HandwritingWriter(model), _scale(meta), meta["max_points"]

        def write(chars, bias, uniform):
            chars = tf.where(bias >= 0.0, chars, 0)  # False for NaN too: an empty text writes nothing
            strokes, lengths, _ = writer.write(chars, tf.maximum(bias, 0.0), None, points, trim=False,
                                               uniform=uniform[:, None])
            return {"strokes": strokes * scale, "lengths": lengths}

        return {
            "write": (write, [tf.TensorSpec([1, meta["max_chars"]], tf.int32, name="chars"),
                              tf.TensorSpec([], tf.float32, name="bias"),
                              tf.TensorSpec([points, 4], tf.float32, name="uniform")]),
            "step": step_endpoint(writer, 1, meta),
        }

    def parity_inputs(self, heldout: list) -> list:
        """Held-out texts, and an empty text, unknown characters, one longer than max_chars, bad UTF-8."""
        return list(heldout) + ["", "\u00a7\u00a7 \u2603", "a" * 60, b"\xff\xfe bad \xc3".decode("latin-1")]

    def reference_outputs(self, model, vectorizer, texts, meta) -> dict[str, np.ndarray]:
        """Each text written greedily, and sampled at PARITY_BIAS from `_parity_uniform`'s numbers."""
        chars, _, _ = char_ids_function(meta)(tf.constant(list(texts), tf.string))
        writer, points = HandwritingWriter(model), meta["max_points"]
        strokes, lengths, _ = writer.write(chars, 0.0, 0, points, greedy=True)
        uniform = np.stack([_parity_uniform(i, points) for i in range(len(texts))], axis=1)
        sampled, sampled_lengths, _ = writer.write(chars, PARITY_BIAS, None, points,
                                                   uniform=tf.constant(uniform))
        return {"strokes": (strokes * _scale(meta)).numpy(), "lengths": lengths.numpy(),
                "sampled_strokes": (sampled * _scale(meta)).numpy(),
                "sampled_lengths": sampled_lengths.numpy()}

    def tflite_outputs(self, interpreter, vectorizer, texts, meta) -> dict[str, np.ndarray]:
        """`step` driven greedily, as an app writes: each point the most probable component's mean,
        the pen lifted where p(end) > 0.5, until the window passes the text's end or max_points; and
        `write` at PARITY_BIAS with `_parity_uniform`'s numbers."""
        step = interpreter.get_signature_runner("step")
        write = interpreter.get_signature_runner("write")
        scale = np.array([*meta["offset_scale"], 1.0], np.float32)
        alphabet = Alphabet(meta["alphabet"])
        rows, sampled = [], []
        for i, text in enumerate(texts):
            text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
            ids = alphabet.ids(text)[: meta["max_chars"]]
            chars = np.zeros((1, meta["max_chars"]), np.int32)
            chars[0, : len(ids)] = ids
            uniform = _parity_uniform(i, meta["max_points"])
            out = write(chars=chars, bias=np.float32(PARITY_BIAS), uniform=uniform)
            sampled.append(out["strokes"][0, : out["lengths"][0]])
            states, point, points = _zero_states(step), START, []
            for _ in range(meta["max_points"] if len(ids) else 0):
                out = step(point=point[None], chars=chars, **states)
                states = {name: out[name] for name in states}
                point = greedy_point(out["mixture"][0])
                phi = out["phi"][0]
                past = phi[len(ids)] > phi[: len(ids)].max()
                if past:
                    point[2] = 1.0
                points.append(point)
                if past:
                    break
            rows.append(np.array(points, np.float32).reshape(-1, 3) * scale)
        return {"strokes": _stacked(rows), "lengths": np.array([len(row) for row in rows], np.int32),
                "sampled_strokes": _stacked(sampled),
                "sampled_lengths": np.array([len(row) for row in sampled], np.int32)}

    def tflite_agreement(self, reference, outputs, meta) -> dict[str, float]:
        same = [int(a) == int(b) for a, b in zip(reference["lengths"], outputs["lengths"], strict=True)]
        return {"same_length": float(np.mean(same))}

    def card(self, meta) -> dict:
        limit, width = meta["max_points_limit"], meta["max_chars"]
        text = (
            f"string [batch]: texts in the alphabet {meta['alphabet']!r}; other characters are skipped "
            f"(counted), past {width} characters cut"
        )
        common = {
            "lengths": "int32 [batch]: each row's points (the rest is padding)",
            "unknown_characters": "int32 [batch]: characters skipped as not in the alphabet",
            "truncated": f"bool [batch]: the text had more than {width} characters",
        }
        strokes = "float32 [batch, points, 3]: (dx, dy, end of stroke) offsets in the data's units"
        return {
            "saved_model": {
                "serving_default": {
                    "inputs": {"text": text},
                    "outputs": {"strokes": strokes + ", written greedily", **common},
                },
                "write": {
                    "inputs": {
                        "text": text,
                        "bias": "float32 >= 0: Graves' bias (0 samples the model as trained)",
                        "seed": "int32: the same seed, the same writing",
                        "max_points": f"int32, 1 to {limit}: a guard; writing stops at the text's end",
                    },
                    "outputs": {
                        "strokes": strokes,
                        "window": "float32 [batch, points, chars]: the window's "
                        "weight on each character at each point",
                        **common,
                    },
                },
                "write_in_style": {
                    "inputs": {
                        "text": text,
                        "style_text": f"string [batch]: what `style_strokes` write, at most {width} "
                        "characters",
                        "style_strokes": "float32 [batch, points >= 1, 3]: a writer's (dx, dy, end of "
                        "stroke) offsets in the data's units, the same length in every row",
                        "bias": "float32 >= 0", "seed": "int32", "max_points": f"int32, 1 to {limit}",
                    },
                    "outputs": {
                        "strokes": strokes + ", the text written in the style's hand (Graves' priming: "
                        "the network reads the style's strokes first)",
                        "window": "float32 [batch, points, chars]: the window's weight on each character "
                        "of the style's text, a space and the text",
                        **common,
                    },
                },
                "step": _step_card(True, "batch", meta),
            },
            "tflite": {
                "signatures": "write, step",
                "write": {
                    "inputs": {
                        "chars": f"int32 [1, {width}]: the text's character ids (the alphabet's index + 1, "
                        "0 after its end)",
                        "bias": "float32 >= 0: Graves' bias; below 0 or not a number writes nothing",
                        "uniform": f"float32 [{meta['max_points']}, 4]: random numbers in [0, 1) from the "
                        "app's generator, a row a point (LiteRT has no seeded random op)",
                    },
                    "outputs": {
                        "strokes": f"float32 [1, {meta['max_points']}, 3]: (dx, dy, end of stroke) offsets "
                        "in the data's units, zeros after `lengths`",
                        "lengths": "int32 [1]: the points written (writing stops at the text's end)",
                    },
                },
                "step": {**_step_card(True, "1", meta), "usage": STEP_USAGE},
            },
        }


def char_ids_function(meta: dict, width: int | None = None):
    """texts [batch] -> (character ids [batch, <= width] (0 after the end), unknown characters
    [batch], truncated [batch]), in the graph: characters outside the alphabet are skipped. `width`:
    the card's max_chars unless given."""
    width = width or meta["max_chars"]
    codes = tf.constant(
        [ord(c) for c in meta["alphabet"]], tf.int32
    )  # no table: nothing to track in an export

    def lookup(points):
        equal = tf.equal(points[:, None], codes[None])
        return tf.where(
            tf.reduce_any(equal, axis=1),
            tf.argmax(tf.cast(equal, tf.int32), axis=1, output_type=tf.int32) + 1,
            0,
        )

    def ids(text):
        characters = tf.strings.unicode_decode(text, "UTF-8", errors="replace")
        found = tf.ragged.map_flat_values(lookup, characters)
        known = tf.ragged.boolean_mask(found, found > 0)
        unknown = tf.cast(characters.row_lengths() - known.row_lengths(), tf.int32)
        chars = known[:, :width].to_tensor(0, shape=[None, None])
        return (
            tf.concat([chars, tf.zeros([tf.shape(chars)[0], 0], tf.int32)], axis=1),
            unknown,
            known.row_lengths() > width,
        )

    return ids


def _parity_uniform(index: int, points: int) -> np.ndarray:
    """The random numbers [points, 4] the parity check writes its `index`-th text with."""
    return np.random.default_rng(index).random((points, 4), dtype=np.float32)


def _stacked(rows: list[np.ndarray]) -> np.ndarray:
    """Strokes [points_i, 3] -> [rows, most points, 3], zeros after each row's end."""
    strokes = np.zeros((len(rows), max([len(row) for row in rows] + [0]), 3), np.float32)
    for i, row in enumerate(rows):
        strokes[i, : len(row)] = row
    return strokes


def greedy_point(mixture: np.ndarray) -> np.ndarray:
    """The point `sample_mixture(greedy=True)` takes, in NumPy: the most probable component's mean,
    the pen lifted where p(end) > 0.5."""
    components = (len(mixture) - 1) // 6
    k = int(np.argmax(mixture[1 : 1 + components]))
    return np.array(
        [mixture[1 + components + k], mixture[1 + 2 * components + k], float(mixture[0] > 0.5)], np.float32
    )


def _scale(meta: dict) -> tf.Tensor:
    """[3]: the offsets' scale, and 1 for the end of stroke."""
    return tf.constant([*meta["offset_scale"], 1.0], tf.float32)


def in_data_units(mixture, scale):
    """Mixture parameters [batch, 1 + 6M] in the network's units -> in the data's: means and
    deviations times the scale of their axis."""
    end, weights, mu_x, mu_y, sigma_x, sigma_y, rho = split_mixture(mixture)
    sx, sy = scale[0], scale[1]
    return tf.concat([end[:, None], weights, mu_x * sx, mu_y * sy, sigma_x * sx, sigma_y * sy, rho], axis=-1)


def _write_checks(points, bias, limit: int, name: str) -> list:
    return [
        tf.debugging.assert_positive(points, message=f"{name} < 1"),
        tf.debugging.assert_less_equal(points, limit, message=f"{name} > {limit}"),
        tf.debugging.assert_all_finite(bias, message="bias is not finite"),
        tf.debugging.assert_non_negative(bias, message="bias < 0"),
    ]


def step_endpoint(writer: HandwritingWriter, batch_size: int | None, meta: dict) -> Endpoint:
    """`step`: a point [batch, 3] (the network's units), the states, and for synthesis the text's
    character ids -> the mixture, phi (synthesis) and the new states."""
    names = [name for name, _, _ in writer.state_specs()]
    specs = [tf.TensorSpec([batch_size, 3], tf.float32, name="point")]
    if writer.synthesis:
        specs.append(
            tf.TensorSpec([batch_size, meta["max_chars"] if batch_size else None], tf.int32, name="chars")
        )
    specs += [
        tf.TensorSpec([batch_size, *shape], dtype, name=name) for name, shape, dtype in writer.state_specs()
    ]

    def step(point, *rest):
        chars, states = (rest[0], rest[1:]) if writer.synthesis else (None, rest)
        mixture, new_states, phi = writer.step(point, list(states), chars)
        return {
            "mixture": mixture,
            **({"phi": phi} if phi is not None else {}),
            **dict(zip(names, new_states, strict=True)),
        }

    return step, specs


def _step_card(synthesis: bool, batch: str, meta: dict) -> dict:
    states = (
        "h<i>, c<i> float32 [{b}, units] per layer"
        + (", kappa [{b}, K], window [{b}, alphabet]" if synthesis else "")
        + ": zeros to start"
    )
    inputs = {"point": f"float32 [{batch}, 3]: the last point, divided by offset_scale"}
    if synthesis:
        width = meta["max_chars"] if batch == "1" else "chars"
        inputs["chars"] = f"int32 [{batch}, {width}]: the text's character ids, 0 after its end"
    outputs = {"mixture": f"float32 [{batch}, 1 + 6M]: the next point's distribution ({MIXTURE_LAYOUT})"}
    if synthesis:
        outputs["phi"] = f"float32 [{batch}, chars + 1]: the window's weight on each character and one past"
    return {
        "inputs": {**inputs, "<states>": states.format(b=batch)},
        "outputs": {**outputs, "<states>": "the states to feed back"},
    }


def _zero_states(step) -> dict[str, np.ndarray]:
    return {
        name: np.zeros(d["shape"], d["dtype"])
        for name, d in step.get_input_details().items()
        if name not in ("point", "chars")
    }
