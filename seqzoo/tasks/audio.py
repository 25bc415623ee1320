"""Raw audio: read mu-law codes, predict the next sample's level; synthesize by sampling sample by
sample, each fed back, in the graph (WaveNet).

The reported figure is bits per sample: the mean of -log2 p(next code) over every sample of
every held-out recording (8 would be a uniform guess over the 256 levels).

SavedModel signatures:
  serving_default  waveform float32 [batch, time] in [-1, 1] -> probabilities [batch, 256] of the
                   next sample's mu-law level
  generate         samples, temperature, seed, prime float32 [time] -> waveform float32 [time +
                   samples] in [-1, 1] and pcm int16 [time + samples]: the prime, then the new samples
  step             code [batch] + one cache per convolution -> probabilities + new caches
The `.tflite` file has `step`, at batch 1.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from seqzoo.data.audio import (
    MU,
    SILENCE,
    Clips,
    bach_audio,
    mu_law_decode,
    mu_law_encode,
    pcm16,
    read_clips,
    split_clips,
    wav_input,
    window_batches,
    window_examples,
)
from seqzoo.data.corpora import NamedCorpus
from seqzoo.decoding import generator_for, sample_next
from seqzoo.errors import UserError
from seqzoo.layers.wavenet import QUANTIZATION_CHANNELS, receptive_field
from seqzoo.metrics import mean_over_valid
from seqzoo.tasks.base import Endpoint, Prepared, ReadOptions, Serving
from seqzoo.tasks.stepped import SteppedTask, run_step, step_card, step_endpoint

PARITY_SAMPLES = 256  # held-out excerpts for the export-time parity check: this many samples each
PARITY_EXCERPTS = 8
STATES = "cache_<i> float32 [batch, (k - 1) * d, channels]: each convolution's last inputs; zeros to start"


class AudioTask(SteppedTask):
    """Recordings (WAV files; default: Bach chorales rendered to 8 kHz audio) as mu-law codes."""

    name = "audio"
    web_page, web_meta_keys = "audio", ("sample_rate", "mu", "receptive_field", "seconds", "samples_limit")
    # A request may leave out the prime: generation starts from silence.
    serving = Serving(input="waveform", reads_text=False, request_inputs={"generate": "prime"},
                      optional_request_inputs=("prime",))
    step_input, step_unit = "code", "sample"

    def request_values(self, name: str, items: list[str], meta: dict) -> np.ndarray:
        """WAV files at the model's sample rate: `waveform` [files, samples] (of one length), or the
        `prime` [samples] of one file (none: no samples, generate from silence)."""
        waveforms = [wav_input(item, meta["sample_rate"], "WAV file") for item in items]
        if name == "prime":
            if len(waveforms) > 1:
                raise UserError(f"the prime is one WAV file, got {len(waveforms)}")
            return waveforms[0] if waveforms else np.zeros(0, np.float32)
        lengths = sorted({len(w) for w in waveforms})
        if len(lengths) > 1:
            raise UserError("the WAV files hold different numbers of samples "
                            f"({', '.join(map(str, lengths))}) "
                            "at this model's sample rate; a batch needs one length: send them one by one")
        return np.stack(waveforms)

    def default_data(self) -> Path:
        return bach_audio()

    def named_corpus(self, config: dict, data) -> NamedCorpus | None:
        """`voices` (a speaker-conditioned WaveNet's default when no data is given): four eSpeak NG voices
        saying digit strings and commands (`seqzoo.data.speech.voices_corpus`)."""
        speakers = config["audio"]["conditioning"] == "speaker"
        if (data is None and speakers) or (str(data) == "voices" and not Path("voices").exists()):
            from seqzoo.data.speech import voices_corpus

            return NamedCorpus("voices", voices_corpus(), "file", "sample")
        return None

    def prepare(self, config: dict, data: Path, options: ReadOptions) -> Prepared:
        settings = config["train"]
        clips = read_clips(data, config["audio"]["sample_rate"])
        speakers = _speakers(config, clips, data)
        train, validation, test = split_clips(clips, settings["validation_fraction"],
                                              settings["test_fraction"], settings["seed"])
        unheard = sorted(set(speakers) - set(train.speakers))
        if unheard:
            raise UserError(f"speaker {unheard[0]!r} has no recording in the training split: give each "
                            "speaker more recordings")
        field, window, batch = receptive_field(**config["model"]["wavenet"]), settings["window"], \
            settings["batch_size"]
        windows = functools.partial(_windows, field=field, window=window, speakers=speakers)
        examples = windows(train)
        heldout = {name: window_batches(windows(part), batch) for name, part in (("val", validation),
                                                                                  ("test", test))}
        return Prepared(
            vectorizer=None,
            train_batches=functools.partial(window_batches, examples, batch, settings["seed"]),
            examples=int(examples.cardinality()),
            validation=heldout["val"],
            meta=audio_meta(config, {"train": train, "validation": validation, "test": test}, speakers),
            heldout_texts=[codes[:PARITY_SAMPLES].tolist() for codes in validation.codes[:PARITY_EXCERPTS]],
            heldout=heldout,
        )

    def evaluation_dataset(self, config, vectorizer, meta, data) -> tf.data.Dataset:
        clips = read_clips(data, config["audio"]["sample_rate"])
        unknown = sorted(set(clips.speakers) - set(meta.get("speakers") or clips.speakers))
        if unknown:
            raise UserError(f"'{data}' holds speakers the model was not trained on: {', '.join(unknown[:5])}")
        return window_batches(_windows(clips, meta["receptive_field"], config["train"]["window"],
                                       meta.get("speakers") or None), config["train"]["batch_size"])

    def metrics(self, model, dataset, meta) -> dict[str, float]:
        """Bits per sample on each held-out part (`val`, `test`; one dataset is `val`)."""
        parts = dataset if isinstance(dataset, dict) else {"val": dataset}
        return {f"{name}_bits_per_sample": bits_per_sample(model, batches) for name, batches in parts.items()}

    def endpoints(self, model, vectorizer, meta) -> dict[str, Endpoint]:
        generator = generator_for(model)
        limit, prime_limit, field = meta["samples_limit"], meta["prime_limit"], meta["receptive_field"]
        speakers = len(meta.get("speakers") or [])

        def serve(waveform):
            checks = [tf.debugging.assert_positive(tf.shape(waveform)[1], message="waveform holds no sample"),
                      tf.debugging.assert_all_finite(waveform, message="waveform is not finite")]
            with tf.control_dependencies(checks):
                return {"probabilities": next_sample(model, mu_law_encode(waveform), speakers)}

        def generate(samples, temperature, seed, prime, speaker=None):
            checks = [
                tf.debugging.assert_positive(samples, message="samples < 1"),
                tf.debugging.assert_less_equal(samples, limit, message=f"samples > {limit}"),
                tf.debugging.assert_less_equal(tf.size(prime), prime_limit,
                                               message=f"prime holds more than {prime_limit} samples"),
                tf.debugging.assert_all_finite(prime, message="prime is not finite"),
                tf.debugging.assert_all_finite(temperature, message="temperature is not finite"),
            ]
            if speakers:
                checks += [tf.debugging.assert_non_negative(speaker, message="speaker < 0"),
                           tf.debugging.assert_less(speaker, speakers, message=f"speaker >= {speakers}")]
            with tf.control_dependencies(checks):
                # A receptive field of silence before the prime, as before every training recording.
                codes = tf.concat([tf.fill([field], SILENCE), mu_law_encode(prime)], axis=0)
                speaker_ids = None if speaker is None else speaker[None]
                probabilities, states = generator.prefill(codes[None], speaker_ids)
                chosen = generator.unroll(probabilities, states, samples, seed,
                                          lambda p, step_seed: sample_next(p, temperature, 0, 1.0, step_seed))
            waveform = tf.concat([tf.clip_by_value(prime, -1.0, 1.0), mu_law_decode(chosen[0])], axis=0)
            return {"waveform": waveform, "pcm": pcm16(waveform)}

        scalar = lambda dtype, name: tf.TensorSpec([], dtype, name=name)  # noqa: E731
        generating = [scalar(tf.int32, "samples"), scalar(tf.float32, "temperature"),
                      scalar(tf.int32, "seed"), tf.TensorSpec([None], tf.float32, name="prime")]
        return {
            "serving_default": (serve, [tf.TensorSpec([None, None], tf.float32, name="waveform")]),
            "generate": (generate, generating + ([scalar(tf.int32, "speaker")] if speakers else [])),
            "step": step_endpoint(generator, batch_size=None),
        }

    def tflite_endpoints(self, model, meta) -> dict[str, Endpoint]:
        return {"step": step_endpoint(generator_for(model), batch_size=1)}

    def parity_inputs(self, heldout: list) -> np.ndarray:
        """Held-out excerpts (mu-law codes, as run.json keeps them), silence, and the loudest
        square wave, as waveforms [n, 256]."""
        excerpts = [mu_law_decode(np.resize(np.asarray(codes, np.int32), PARITY_SAMPLES)).numpy()
                    for codes in heldout]
        square = np.where(np.arange(PARITY_SAMPLES) % 16 < 8, 1.0, -1.0)
        return np.stack([*excerpts, np.zeros(PARITY_SAMPLES), square]).astype(np.float32)

    def reference_outputs(self, model, vectorizer, texts, meta) -> dict[str, np.ndarray]:
        probabilities = next_sample(model, mu_law_encode(texts), len(meta.get("speakers") or []))
        return {"probabilities": keras.ops.convert_to_numpy(probabilities)}

    def tflite_outputs(self, interpreter, vectorizer, texts, meta) -> dict[str, np.ndarray]:
        """`step` driven from zero caches over each excerpt; a conditioned network's once per speaker (its
        speaker state set to the id), [excerpts, speakers, 256]."""
        sequences = self.step_sequences(vectorizer, texts)
        speakers = len(meta.get("speakers") or [])
        if not speakers:
            return {"probabilities": run_step(interpreter, self.step_input, sequences)}
        return {"probabilities": np.stack([run_step(interpreter, self.step_input, sequences,
                                                    {"speaker": np.array([s], np.int32)})
                                           for s in range(speakers)], axis=1)}

    def step_sequences(self, vectorizer, waveforms) -> list[np.ndarray]:
        return [row[:, None] for row in mu_law_encode(waveforms).numpy()]

    def card(self, meta) -> dict:
        rate, speakers = meta["sample_rate"], meta.get("speakers") or []
        per_speaker = f"{len(speakers)}, " if speakers else ""
        speaker_input = {"speaker": f"int32, 0 to {len(speakers) - 1}: the index in `speakers`"
                         } if speakers else {}
        states = STATES + ("; speaker int32 [batch]: the index in `speakers`, fed back unchanged"
                           if speakers else "")
        return {
            "saved_model": {
                "serving_default": {
                    "inputs": {"waveform": f"float32 [batch, time >= 1]: samples in [-1, 1] at {rate} Hz "
                                           "(beyond it: clipped)"},
                    "outputs": {"probabilities": f"float32 [batch, {per_speaker}{QUANTIZATION_CHANNELS}]: "
                                                 f"the next sample's mu-law level (mu = {MU})"
                                                 + (", as each speaker" if speakers else "")},
                },
                "generate": {
                    "inputs": {
                        "samples": f"int32, 1 to {meta['samples_limit']}: samples to generate "
                                   f"({meta['samples_limit'] / rate:g} s)",
                        "temperature": "float32, finite; <= 0 is greedy (the most probable level)",
                        "seed": "int32: the same seed, the same audio",
                        "prime": f"float32 [time <= {meta['prime_limit']}] in [-1, 1] at {rate} Hz: audio to "
                                 "continue; [0] starts from silence",
                        **speaker_input,
                    },
                    "outputs": {"waveform": "float32 [time + samples] in [-1, 1]: the prime, then the "
                                            "new samples",
                                "pcm": "int16 [time + samples]: the same as 16-bit PCM"},
                },
                "step": step_card("code", "int32 [{batch}]: a mu-law level, 0-255",
                                  f"float32 [{{batch}}, {QUANTIZATION_CHANNELS}]", states),
            },
            "tflite": {
                "signature": "step",
                **step_card("code", "int32 [{batch}]: a mu-law level, 0-255",
                            f"float32 [{{batch}}, {QUANTIZATION_CHANNELS}]", states, batch="1"),
                "usage": f"feed {meta['receptive_field']} silent samples (code {SILENCE}) and any "
                         "priming audio's codes one at a time, then each sampled code; decode with mu-law "
                         f"(mu = {MU}): x = sign(y) ((1 + mu)^|y| - 1) / mu, y = 2 code / mu - 1",
            },
        }


def next_sample(model: keras.Model, codes, speakers: int) -> tf.Tensor:
    """The next sample's probabilities after each row of codes [batch, time]: [batch, 256], or for a
    network conditioned on `speakers` speakers, as each of them [batch, speakers, 256]."""
    if not speakers:
        return model(codes, training=False)[:, -1]
    batch = tf.shape(codes)[0]
    return tf.stack([model({"codes": codes, "speaker": tf.fill([batch], s)}, training=False)[:, -1]
                     for s in range(speakers)], axis=1)


def _speakers(config: dict, clips: Clips, data) -> list[str]:
    """The speakers a conditioned WaveNet learns (sorted names; their index is the id), setting the
    model's count; [] unless `audio.conditioning` is `speaker`. UserError for fewer than two."""
    if config["audio"]["conditioning"] != "speaker":
        return []
    names = sorted(set(clips.speakers) - {""})
    if len(names) < 2 or "" in clips.speakers:
        raise UserError(f"audio.conditioning=speaker needs every recording's speaker, and at least two: "
                        f"'{data}' names {len(names)} (a transcripts.tsv voice column, or a subfolder a "
                        "speaker)")
    config["model"]["wavenet"]["speakers"] = len(names)
    return names


def _windows(clips: Clips, field: int, window: int, speakers: list[str] | None) -> tf.data.Dataset:
    ids = [speakers.index(name) for name in clips.speakers] if speakers else None
    return window_examples(clips, field, window, ids)


def audio_meta(config: dict, parts: dict[str, Clips], speakers: list[str] | None = None) -> dict:
    """What serving and the card need: the sample rate, the receptive field, the limits, the split, and a
    conditioned network's speakers (their index is the id)."""
    rate = config["audio"]["sample_rate"]
    generation = config["generation"]
    return {
        "speakers": speakers or [],
        "sample_rate": rate,
        "mu": MU,
        "receptive_field": receptive_field(**config["model"]["wavenet"]),
        "seconds": generation["seconds"],
        "samples_limit": int(generation["seconds_limit"] * rate),
        "prime_limit": int(generation["prime_seconds_limit"] * rate),
        "recordings": {name: len(part.codes) for name, part in parts.items()},
        "recording_samples": {name: part.samples for name, part in parts.items()},
    }


def bits_per_sample(model: keras.Model, batches: tf.data.Dataset) -> float:
    """-log2 p(next code), averaged over every predicted sample (the receptive field's fill left out)."""
    loss = keras.losses.SparseCategoricalCrossentropy(reduction=None)
    return mean_over_valid(model, batches, loss) / math.log(2)
