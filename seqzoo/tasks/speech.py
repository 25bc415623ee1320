"""Speech recognition: recordings in, their transcripts out, spelled by a CTC recognizer (ctc_recognizer).

The reported figures, on each held-out part: the CTC loss, and the character and word error rates
(edit distance over the reference's characters, or words) of greedy decoding and of beam search. The
default data's validation and test voices are never heard in training (`seqzoo.data.speech`).

SavedModel signatures (features, decoding and the text all in the graph):
  serving_default  audio (WAV file bytes [batch]: 16-bit PCM at the model's rate, any channels) -> text,
                   problem ('' or why a clip was not transcribed: no WAV, another rate, too long, silent;
                   never fails the batch), log_probabilities [batch, frames, classes], frames [batch]
  transcribe       waveform float32 [batch, samples], length int32 [batch] -> text, log_probabilities, frames
                   (greedy)
  beam_search      waveform, length -> text, score (TensorFlow's CTC beam search at the card's width)
The `.tflite` file: serving_default, waveform float32 [1, samples] -> ids (greedy, in the graph: builtin
ops) and log_probabilities.
"""

from __future__ import annotations

import base64
import functools
import warnings
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from seqzoo.data.audio import WAV_MAX_BYTES
from seqzoo.data.batching import split_whole
from seqzoo.data.speech import (
    Recordings,
    check_alphabet,
    decode_wavs,
    encode_texts,
    heldout_wavs,
    load_recordings,
    read_transcribed,
    recording_batches,
    recording_examples,
    spoken_corpus,
    wav_bytes,
)
from seqzoo.decoding.ctc import beam_ids, greedy_ids, greedy_ids_of_one, ids_text
from seqzoo.errors import SeqzooNote, UserError
from seqzoo.files import regular_file
from seqzoo.layers.ctc import PADDING_LOG_PROBABILITY
from seqzoo.layers.log_mel import LogMel
from seqzoo.models.speech import output_frames
from seqzoo.tasks.base import Endpoint, Prepared, ReadOptions, Serving, Task

PARITY_UTTERANCES, PARITY_SECONDS = 4, 2.0  # held-out clips run.json keeps for the export's parity check
OTHER_RATE = 11_025  # an edge case's sample rate: no model's


class RecordingsTask(Task):
    """What the tasks that listen share: WAV files in (the SavedModel decodes their bytes, `decode_wavs`; the
    `.tflite` file takes float samples at batch 1), recordings read into memory and split, and the parity
    inputs (held-out clips kept as base64 WAV files, and the clips every export must survive)."""

    serving = Serving(input="audio", reads_text=False, binary_inputs=("audio",))
    # The spectrum is TFLite's RFFT in the `.tflite` file and TensorFlow's FFT in Keras: their last bits
    # differ, and the per-utterance normalisation divides them by each band's deviation. The tiny keyword
    # classifier's probabilities differed by 1.1e-5.
    parity_tolerance = 5e-5

    def request_values(self, name: str, items: list[str], meta: dict) -> list[bytes]:
        """WAV files, read as the bytes a client sends."""
        return [regular_file(item, "WAV file", WAV_MAX_BYTES).read_bytes() for item in items]

    def parity_inputs(self, heldout: list) -> list[bytes]:
        """The held-out clips (base64 WAV files, as run.json keeps them), and what every export must answer
        without failing its batch: nothing, no WAV, a clip at another rate, the first clip silenced."""
        clips = [base64.b64decode(clip) for clip in heldout]
        edge = [b"", b"not a WAV file at all", wav_bytes(np.sin(np.arange(2000) / 5) * 0.5, OTHER_RATE)]
        if clips:  # its 44-byte header kept, its samples zero
            edge.append(clips[0][:44] + bytes(len(clips[0]) - 44))
        return clips + edge

    @staticmethod
    def prepared(parts: dict[str, Recordings], targets, meta: dict, settings: dict, rate: int) -> Prepared:
        """Split recordings ready for `fit`: each part's (samples, `targets(part)`) batched by
        `recording_batches`, the held-out parts as `heldout` (`val`, `test`), the first validation clips
        kept for the parity check."""
        batch = settings["batch_size"]
        examples = {name: recording_examples(part, targets(part)) for name, part in parts.items()}
        heldout = {name: recording_batches(examples[name], batch) for name in ("val", "test")
                   if name in parts}
        return Prepared(
            vectorizer=None,
            train_batches=functools.partial(recording_batches, examples["train"], batch, settings["seed"]),
            examples=len(parts["train"].texts),
            validation=heldout["val"],
            meta=meta,
            heldout_texts=heldout_wavs(parts["val"], PARITY_UTTERANCES, PARITY_SECONDS, rate),
            heldout=heldout,
        )

    @staticmethod
    def batched(recordings: Recordings, targets: list, batch_size: int) -> tf.data.Dataset:
        """A user's held-out recordings and their targets as `model.evaluate` takes them, in order."""
        return recording_batches(recording_examples(recordings, targets), batch_size)

    @staticmethod
    def listened(model: keras.Model, waveform, length) -> tf.Tensor:
        """The model's output for samples [batch, samples] and lengths [batch], in a served graph that
        refuses samples that are not finite and lengths outside 0..samples."""
        checks = [tf.debugging.assert_all_finite(waveform, message="waveform is not finite"),
                  tf.debugging.assert_non_negative(length, message="length < 0"),
                  tf.debugging.assert_less_equal(length, tf.shape(waveform)[1],
                                                 message="length > the waveform's samples")]
        with tf.control_dependencies(checks):
            return model({"waveform": waveform, "length": length}, training=False)

    @staticmethod
    def decoded(model: keras.Model, clips: list[bytes], meta: dict) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """(the model's output, each clip's length, its problem) for WAV files, decoded as serving_default
        decodes them."""
        waveform, length, problem = decode_wavs(tf.constant(list(clips), tf.string), meta["sample_rate"],
                                                meta["max_samples"])
        return model({"waveform": waveform, "length": length}, training=False), length, problem

    @staticmethod
    def tflite_clips(interpreter, clips: list[bytes], meta: dict, output: str) -> list[np.ndarray]:
        """`output` of the `.tflite` file's serving_default for each clip, decoded as serving_default decodes
        it and run on its own at batch 1 (a clip that was not read: zeros one frame long, as a batch
        holds it)."""
        runner = interpreter.get_signature_runner("serving_default")
        waveform, length, _ = decode_wavs(tf.constant(list(clips), tf.string), meta["sample_rate"],
                                          meta["max_samples"])
        frame = LogMel(meta["sample_rate"], meta["frame_ms"], meta["hop_ms"]).frame_length
        return [runner(waveform=(row[:size] if size else np.zeros(frame, np.float32))[None])[output][0]
                for row, size in zip(waveform.numpy(), length.numpy(), strict=True)]


class SpeechTask(RecordingsTask):
    """Transcribed recordings (a folder with `transcripts.tsv` or LibriSpeech `*.trans.txt`; default:
    synthetic speech) -> character ids, trained with CTC."""

    name = "speech"

    def default_data(self) -> Path:
        return spoken_corpus()

    def prepare(self, config: dict, data: Path, options: ReadOptions) -> Prepared:
        settings, speech = config["train"], config["speech"]
        rate, alphabet = config["model"]["features"]["sample_rate"], speech["alphabet"]
        recordings = transcribed_recordings(data, alphabet, rate, speech["max_seconds"])
        parts = split_recordings(recordings, settings)
        log_mel = LogMel(**config["model"]["features"])
        parts = {name: _fitting(part, log_mel, name) for name, part in parts.items()}
        config["model"]["alphabet_size"] = len(alphabet) + 1
        return self.prepared(parts, lambda part: encode_texts(part.texts, alphabet),
                             speech_meta(config, parts), settings, rate)

    def evaluation_dataset(self, config, vectorizer, meta, data) -> tf.data.Dataset:
        recordings = transcribed_recordings(data, meta["alphabet"], meta["sample_rate"], meta["max_seconds"])
        return self.batched(recordings, encode_texts(recordings.texts, meta["alphabet"]),
                            config["train"]["batch_size"])

    def metrics(self, model, dataset, meta) -> dict[str, float]:
        """The CTC loss and the error rates, greedy and beam, on each held-out part (`val`, `test`)."""
        parts = dataset if isinstance(dataset, dict) else {"val": dataset}
        figures = {}
        for name, batches in parts.items():
            figures[f"{name}_loss"] = float(model.evaluate(batches, verbose=0))
            figures.update({f"{name}_{key}": value for key, value in
                            error_rates(model, batches, meta["alphabet"], meta["beam_width"]).items()})
        return figures

    def endpoints(self, model, vectorizer, meta) -> dict[str, Endpoint]:
        alphabet, rate, width = meta["alphabet"], meta["sample_rate"], meta["beam_width"]
        log_mel = model.get_layer("log_mel")

        def recognised(waveform, length):
            return self.listened(model, waveform, length), output_frames(log_mel, length)

        def transcribe(waveform, length):
            log_probabilities, frames = recognised(waveform, length)
            return {"text": ids_text(greedy_ids(log_probabilities), alphabet),
                    "log_probabilities": log_probabilities, "frames": frames}

        def beam_search(waveform, length):
            ids, score = beam_ids(*recognised(waveform, length), width)
            return {"text": ids_text(ids, alphabet), "score": score}

        def serve(audio):
            waveform, length, problem = decode_wavs(audio, rate, meta["max_samples"])
            outputs = transcribe(waveform, length)
            return {**outputs, "text": tf.where(problem == "", outputs["text"], ""), "problem": problem}

        samples = [tf.TensorSpec([None, None], tf.float32, name="waveform"),
                   tf.TensorSpec([None], tf.int32, name="length")]
        return {"serving_default": (serve, [tf.TensorSpec([None], tf.string, name="audio")]),
                "transcribe": (transcribe, samples), "beam_search": (beam_search, samples)}

    def tflite_endpoints(self, model, meta) -> dict[str, Endpoint]:
        def serve(waveform):
            length = tf.shape(waveform)[1:2]
            log_probabilities = model({"waveform": waveform, "length": length}, training=False)
            return {"ids": greedy_ids_of_one(log_probabilities), "log_probabilities": log_probabilities}

        return {"serving_default": (serve, [tf.TensorSpec([1, None], tf.float32, name="waveform")])}

    def reference_outputs(self, model, vectorizer, texts, meta) -> dict[str, np.ndarray]:
        log_probabilities, length, _ = self.decoded(model, texts, meta)
        return {"log_probabilities": keras.ops.convert_to_numpy(log_probabilities),
                "frames": output_frames(model.get_layer("log_mel"), length).numpy()}

    def tflite_outputs(self, interpreter, vectorizer, texts, meta) -> dict[str, np.ndarray]:
        """The log-probabilities of each clip at batch 1 (`tflite_clips`), padded as a batch pads them."""
        rows = self.tflite_clips(interpreter, texts, meta, "log_probabilities")
        frames = np.array([len(row) for row in rows], np.int32)
        classes = len(meta["alphabet"]) + 1
        padded = np.full((len(rows), max(frames, default=1), classes), _padding(classes), np.float32)
        for i, row in enumerate(rows):
            padded[i, : len(row)] = row
        return {"log_probabilities": padded, "frames": frames}

    def tflite_agreement(self, reference, outputs, meta) -> dict[str, float]:
        expected, got = reference["log_probabilities"], outputs["log_probabilities"]
        pairs = zip(expected, got, reference["frames"], strict=True)
        same = [np.array_equal(np.argmax(a[:n], -1), np.argmax(b[:n], -1)) for a, b, n in pairs]
        return {"greedy_path_agreement": round(float(np.mean(same)), 4),
                "max_log_probability_difference": round(float(np.abs(expected - got).max()), 4)}

    def card(self, meta) -> dict:
        rate, classes = meta["sample_rate"], len(meta["alphabet"]) + 1
        lp = f"float32 [batch, frames, {classes}]: log p of the blank (0) and each character per 20 ms frame"
        samples = {"waveform": f"float32 [batch, samples] in [-1, 1] at {rate} Hz, zeros after each clip",
                   "length": "int32 [batch]: each clip's samples"}
        return {
            "alphabet": meta["alphabet"],
            "saved_model": {
                "serving_default": {
                    "inputs": {"audio": f"tf.string [batch]: WAV files (16-bit PCM, {rate} Hz, any channels, "
                                        f"at most {meta['max_seconds']:g} s)"},
                    "outputs": {"text": "tf.string [batch]: the greedy transcript ('' where problem is set)",
                                "problem": "tf.string [batch]: '' or why the clip was not transcribed",
                                "log_probabilities": lp, "frames": "int32 [batch]: each clip's frames"},
                },
                "transcribe": {"inputs": samples,
                               "outputs": {"text": "tf.string [batch]: greedy", "log_probabilities": lp,
                                           "frames": "int32 [batch]"}},
                "beam_search": {"inputs": samples,
                                "outputs": {"text": f"tf.string [batch]: beam search, width "
                                                    f"{meta['beam_width']}",
                                            "score": "float32 [batch]: its log-probability"}},
            },
            "tflite": {
                "inputs": {"waveform": f"float32 [1, samples] in [-1, 1] at {rate} Hz, samples >= 1"},
                "outputs": {"ids": "int32 [n]: the greedy transcript's characters, id i is alphabet[i - 1]",
                            "log_probabilities": lp.replace("batch", "1")},
            },
        }


def speech_meta(config: dict, parts: dict[str, Recordings]) -> dict:
    """What serving and the card need: the alphabet, the rate and limits, the frames, the split."""
    features, speech = config["model"]["features"], config["speech"]
    rate = features["sample_rate"]
    return {
        "alphabet": speech["alphabet"],
        "sample_rate": rate,
        "frame_ms": features["frame_ms"],
        "hop_ms": features["hop_ms"],
        "max_seconds": speech["max_seconds"],
        "max_samples": int(speech["max_seconds"] * rate),
        "beam_width": config["decoding"]["beam_width"],
        **parts_summary(parts, rate, "utterances"),
    }


def parts_summary(parts: dict[str, Recordings], rate: int, counted: str) -> dict:
    """Per part (train, val, test): how many clips (under the name `counted`), seconds of audio, speakers."""
    return {counted: {name: len(part.texts) for name, part in parts.items()},
            "audio_seconds": {name: round(sum(map(len, part.waveforms)) / rate, 1)
                              for name, part in parts.items()},
            "speakers": {name: len(set(part.speakers) - {""}) for name, part in parts.items()}}


def error_rates(model: keras.Model, batches: tf.data.Dataset, alphabet: str, beam_width: int
                ) -> dict[str, float]:
    """Character and word error rates of greedy decoding and of beam search over `batches`: edit distance
    summed over the utterances, over the reference's characters (or words)."""
    log_mel = model.get_layer("log_mel")
    found = {"greedy": [], "beam": []}
    references = []
    for inputs, labels in batches:
        log_probabilities = model(inputs, training=False)
        found["greedy"].append(ids_text(greedy_ids(log_probabilities), alphabet))
        found["beam"].append(ids_text(beam_ids(log_probabilities, output_frames(log_mel, inputs["length"]),
                                               beam_width)[0], alphabet))
        references.append(ids_text(tf.RaggedTensor.from_tensor(labels, padding=0), alphabet))
    truth = tf.concat(references, 0)
    figures = {}
    for search, texts in found.items():
        suffix = "" if search == "greedy" else "_beam"
        figures.update({f"{unit}{suffix}": round(rate, 4)
                        for unit, rate in text_error_rates(tf.concat(texts, 0), truth).items()})
    return figures


def text_error_rates(hypotheses, references) -> dict[str, float]:
    """{cer, wer}: the edit distance of the hypotheses (texts) from the references, summed, over the
    references' characters (or words)."""
    rates = {}
    for unit, split in (("cer", functools.partial(tf.strings.unicode_split, input_encoding="UTF-8")),
                        ("wer", tf.strings.split)):
        reference = split(tf.constant(references) if isinstance(references, list) else references)
        hypothesis = split(tf.constant(hypotheses) if isinstance(hypotheses, list) else hypotheses)
        distance = tf.edit_distance(hypothesis.to_sparse(), reference.to_sparse(), normalize=False)
        rates[unit] = float(tf.reduce_sum(distance)) / max(int(tf.size(reference.flat_values)), 1)
    return rates


def transcribed_recordings(data, alphabet: str, rate: int, max_seconds: float) -> Recordings:
    """A transcribed folder's recordings, their transcripts lowercased and checked against `alphabet`."""
    found = read_transcribed(data)
    found.texts = [" ".join(text.lower().split()) for text in found.texts]
    check_alphabet(found.texts, alphabet, f"transcripts in '{data}'")
    return load_recordings(found, rate, max_seconds)


def split_recordings(recordings: Recordings, settings: dict) -> dict[str, Recordings]:
    """train / val / test: as the data's split column says, else by speaker where the data names them
    (a speaker in one part only), else by utterance."""
    if recordings.splits:
        named = {"train": "train", "validation": "val", "val": "val", "test": "test"}
        unknown = sorted(set(recordings.splits) - set(named))
        if unknown:
            raise UserError(f"unknown split {unknown[0]!r} in the transcripts (train, validation, test)")
        parts = {part: [i for i, split in enumerate(recordings.splits) if named[split] == part]
                 for part in ("train", "val", "test")}
        missing = [part for part in ("train", "val") if not parts[part]]
        if missing:
            raise UserError(f"the transcripts' split column names no {missing[0]} utterance")
        return {name: recordings.subset(indices) for name, indices in parts.items() if indices}
    speakers = sorted(set(recordings.speakers) - {""})
    by_speaker = len(speakers) >= 3 and "" not in recordings.speakers
    whole = speakers if by_speaker else list(range(len(recordings.texts)))
    train, val, test = split_whole(len(whole), settings["validation_fraction"], settings["test_fraction"],
                                   settings["seed"], "speakers" if whole is speakers else "utterances")
    if whole is speakers:
        part_of = {speakers[i]: part for part, indices in (("train", train), ("val", val), ("test", test))
                   for i in indices}
        return {part: recordings.subset([i for i, s in enumerate(recordings.speakers) if part_of[s] == part])
                for part in ("train", "val", "test")}
    return {"train": recordings.subset(train), "val": recordings.subset(val), "test": recordings.subset(test)}


def _fitting(part: Recordings, log_mel: LogMel, name: str) -> Recordings:
    """The utterances CTC can align: at least one output frame per character, and one more per repeated
    letter (the blank between them). The others are dropped with a note (too fast, or cut)."""
    frames = output_frames(log_mel, [len(w) for w in part.waveforms]).numpy()
    needed = [len(text) + sum(a == b for a, b in zip(text, text[1:], strict=False)) for text in part.texts]
    fits = [i for i, (have, need) in enumerate(zip(frames, needed, strict=True)) if have >= need]
    if len(fits) < len(part.texts):
        first = next(i for i in range(len(part.texts)) if i not in set(fits))
        warnings.warn(f"{name}: dropped {len(part.texts) - len(fits)} utterances too short for their "
                      f"transcript (first: {part.texts[first][:40]!r}, {frames[first]} frames for "
                      f"{needed[first]} characters)", SeqzooNote, stacklevel=2)
    if not fits:
        raise UserError(f"no {name} utterance is long enough for its transcript")
    return part.subset(fits)


def _padding(classes: int) -> np.ndarray:
    """A padded frame's log-probabilities, as `CTCOutput` writes them."""
    row = np.full(classes, PADDING_LOG_PROBABILITY, np.float32)
    row[0] = 0.0
    return row
