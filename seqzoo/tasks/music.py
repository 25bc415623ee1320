"""Polyphonic music: read piano-roll frames, predict the next frame's notes; compose by sampling
frame by frame, each sampled frame fed back (one to many), in the graph.

The reported figure is the paper's: negative log-likelihood per frame (nats), the sum of the 88
notes' binary cross-entropies, averaged over every predicted frame of every held-out score.

SavedModel signatures:
  serving_default  frames float32 [batch, time, 88] -> probabilities [batch, 88] of the next frame
  generate         start int32 [t, k] (each start frame's MIDI numbers, 0 = none), frames,
                   temperature, seed -> piano_roll float32 [t + frames, 88]
  step             frame [batch, 88] + the generator's states -> probabilities + new states
The `.tflite` file has `step`, at batch 1.
"""

from __future__ import annotations

import functools
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from seqzoo.data.music import (
    HIGHEST,
    LOWEST,
    PITCHES,
    SCORE_SUFFIXES,
    Rolls,
    bach_chorales,
    chord_frames,
    frame_batches,
    next_frame_examples,
    parse_notes,
    read_rolls,
    read_start,
    roll_chords,
    split_rolls,
)
from seqzoo.decoding import generator_for, sample_notes
from seqzoo.losses import frame_nll
from seqzoo.metrics import mean_over_valid
from seqzoo.tasks.base import Endpoint, Prepared, ReadOptions, Serving
from seqzoo.tasks.stepped import SteppedTask, step_card, step_endpoint

PARITY_FRAMES = 16  # held-out excerpts for the export-time parity check: this many frames each
PARITY_EXCERPTS = 16
REQUEST_FRAMES = 8  # `seqzoo request`: the frames of a score file sent, as `seqzoo compose` starts from
STATES = ("RNNs: state_<layer>_<k> float32 [batch, units] (h, and c for an LSTM); TCN: cache_<i> "
          "float32 [batch, (k - 1) * d, channels] (each convolution's last inputs); zeros to start")


class MusicTask(SteppedTask):
    """Scores (MIDI / MusicXML files; default: music21's Bach chorales) as quarter-note piano rolls."""

    name = "music"
    web_page, web_meta_keys = "music", ("pitches", "lowest_midi", "frames", "frames_limit")
    serving = Serving(input="frames", reads_text=False, request_inputs={"generate": "start"})
    step_input, step_unit, bernoulli = "frame", "frame", True

    def request_values(self, name: str, items: list[str], meta: dict) -> np.ndarray:
        """Chords (note names or MIDI numbers), or a score file's first REQUEST_FRAMES frames, as one
        excerpt: `frames` [1, chords, 88], or `start` [chords, notes] (MIDI numbers, 0-padded)."""
        if len(items) == 1 and Path(items[0]).suffix.lower() in SCORE_SUFFIXES:
            chords = read_start(items[0], REQUEST_FRAMES)
        else:
            chords = [parse_notes(item) for item in items]
        if name == "frames":
            return chord_frames(chords)[None]
        start = np.zeros((len(chords), max(map(len, chords), default=0)), np.int32)
        for row, chord in enumerate(chords):
            start[row, : len(chord)] = chord
        return start

    def default_data(self) -> Path:
        return bach_chorales()

    def prepare(self, config: dict, data: Path, options: ReadOptions) -> Prepared:
        settings = config["train"]
        rolls = read_rolls(data, config["music"]["transpose"])
        train, validation, test = split_rolls(rolls, settings["validation_fraction"],
                                              settings["test_fraction"], settings["seed"])
        batch = settings["batch_size"]
        heldout = {name: frame_batches(next_frame_examples(part), batch)
                   for name, part in (("val", validation), ("test", test))}
        return Prepared(
            vectorizer=None,
            train_batches=functools.partial(frame_batches, next_frame_examples(train), batch,
                                            settings["seed"]),
            examples=len(train.rolls),
            validation=heldout["val"],
            meta=music_meta(config, {"train": train, "validation": validation, "test": test}),
            heldout_texts=[roll_chords(excerpt(roll)) for roll in validation.rolls[:PARITY_EXCERPTS]],
            heldout=heldout,
        )

    def evaluation_dataset(self, config, vectorizer, meta, data) -> tf.data.Dataset:
        rolls = read_rolls(data, config["music"]["transpose"])
        return frame_batches(next_frame_examples(rolls), config["train"]["batch_size"])

    def metrics(self, model, dataset, meta) -> dict[str, float]:
        """NLL per frame on each held-out part (`val`, `test`; one dataset is `val`)."""
        parts = dataset if isinstance(dataset, dict) else {"val": dataset}
        return {f"{name}_nll_per_frame": nll_per_frame(model, batches) for name, batches in parts.items()}

    def endpoints(self, model, vectorizer, meta) -> dict[str, Endpoint]:
        generator = generator_for(model)
        limit = meta["frames_limit"]

        def serve(frames):
            checks = [tf.debugging.assert_positive(tf.shape(frames)[1], message="frames holds no frame"),
                      tf.debugging.assert_all_finite(frames, message="frames are not finite")]
            with tf.control_dependencies(checks):
                return {"probabilities": model(frames, training=False)[:, -1]}

        def generate(start, frames, temperature, seed):
            checks = [
                tf.debugging.assert_positive(tf.shape(start)[0], message="start holds no frame"),
                tf.debugging.assert_equal(
                    tf.reduce_all((start == 0) | ((start >= LOWEST) & (start <= HIGHEST))), True,
                    message=f"start notes must be MIDI {LOWEST} to {HIGHEST} (0: none)"),
                tf.debugging.assert_positive(frames, message="frames < 1"),
                tf.debugging.assert_less_equal(frames, limit, message=f"frames > {limit}"),
                tf.debugging.assert_all_finite(temperature, message="temperature is not finite"),
            ]
            with tf.control_dependencies(checks):
                prompt = start_frames(start)
                probabilities, states = generator.prefill(prompt[None])
                chosen = generator.unroll(probabilities, states, frames, seed,
                                          lambda p, step_seed: sample_notes(p, temperature, step_seed))
            return {"piano_roll": tf.concat([prompt, chosen[0]], axis=0)}

        scalar = lambda dtype, name: tf.TensorSpec([], dtype, name=name)  # noqa: E731
        return {
            "serving_default": (serve, [tf.TensorSpec([None, None, PITCHES], tf.float32, name="frames")]),
            "generate": (generate, [tf.TensorSpec([None, None], tf.int32, name="start"),
                                    scalar(tf.int32, "frames"), scalar(tf.float32, "temperature"),
                                    scalar(tf.int32, "seed")]),
            "step": step_endpoint(generator, batch_size=None),
        }

    def tflite_endpoints(self, model, meta) -> dict[str, Endpoint]:
        return {"step": step_endpoint(generator_for(model), batch_size=1)}

    def parity_inputs(self, heldout: list) -> np.ndarray:
        """Held-out excerpts, a silent one and one with every note on, as frames [n, 16, 88]."""
        excerpts = [excerpt(chord_frames(chords)) for chords in heldout]
        silent, every_note = (np.full((PARITY_FRAMES, PITCHES), v, np.float32) for v in (0, 1))
        return np.stack([*excerpts, silent, every_note])

    def reference_outputs(self, model, vectorizer, texts, meta) -> dict[str, np.ndarray]:
        return {"probabilities": keras.ops.convert_to_numpy(model(texts, training=False))[:, -1]}

    def step_sequences(self, vectorizer, frames) -> list[np.ndarray]:
        return [excerpt[:, None] for excerpt in frames]

    def card(self, meta) -> dict:
        return {
            "saved_model": {
                "serving_default": {
                    "inputs": {"frames": "float32 [batch, time >= 1, 88]: piano-roll frames, 1 = note on "
                                         "(column i is MIDI 21 + i), one per quarter note"},
                    "outputs": {"probabilities": "float32 [batch, 88]: each note on in the next frame"},
                },
                "generate": {
                    "inputs": {
                        "start": f"int32 [t >= 1, k]: the start frames' MIDI numbers ({LOWEST}-{HIGHEST}), "
                                 "0 where a frame has fewer than k notes; a chord is [1, k]",
                        "frames": f"int32, 1 to {meta['frames_limit']}: frames to generate after the start",
                        "temperature": "float32, finite; <= 0 is greedy (a note is on above 0.5)",
                        "seed": "int32: the same seed, the same music",
                    },
                    "outputs": {"piano_roll": "float32 [t + frames, 88]: the start, then the generated"},
                },
                "step": step_card("frame", "float32 [{batch}, 88]", "float32 [{batch}, 88]", STATES),
            },
            "tflite": {
                "signature": "step",
                **step_card("frame", "float32 [{batch}, 88]", "float32 [{batch}, 88]", STATES, batch="1"),
                "usage": "feed the start frames one at a time, then each sampled frame (note i on with "
                         "probability p_i) to compose",
            },
        }


def music_meta(config: dict, parts: dict[str, Rolls]) -> dict:
    """What serving and the card need: the frame layout, the generation limits, the split."""
    return {
        "pitches": PITCHES,
        "lowest_midi": LOWEST,
        "frame": "quarter note",
        "transpose": config["music"]["transpose"],
        "frames": config["generation"]["frames"],
        "frames_limit": config["generation"]["frames_limit"],
        "scores": {name: len(part.rolls) for name, part in parts.items()},
        "score_frames": {name: part.frames for name, part in parts.items()},
    }


def excerpt(roll: np.ndarray) -> np.ndarray:
    """A score's first PARITY_FRAMES frames, silence after a shorter one."""
    out = np.zeros((PARITY_FRAMES, PITCHES), np.float32)
    out[: min(len(roll), PARITY_FRAMES)] = roll[:PARITY_FRAMES]
    return out


def start_frames(start: tf.Tensor) -> tf.Tensor:
    """MIDI numbers [t, k] (0: none) -> a binary roll [t, 88]."""
    hot = tf.one_hot(start - LOWEST, PITCHES)  # 0 - 21 is out of range: an all-zero row
    return tf.minimum(tf.reduce_sum(hot, axis=1), 1.0)


def nll_per_frame(model: keras.Model, batches: tf.data.Dataset) -> float:
    """The summed frame NLL of every predicted (unpadded) frame / their number."""
    return mean_over_valid(model, batches, frame_nll)
