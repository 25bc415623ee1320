"""A cadence, I-IV-V-I in C, repeated: the next chord follows from this one."""

import numpy as np

from seqzoo.data.music import PITCHES, chord_frames
from seqzoo.tasks import get_task
from seqzoo.tasks.music import music_meta
from tiny import SUBMIT, Tiny, TinyTask, byte_rows, greedy_steps, per_step_shape

CADENCE = [[48, 60, 64, 67], [53, 60, 65, 69], [55, 59, 62, 67], [48, 60, 64, 72]]


class Music(TinyTask):
    independent_outputs = True  # a probability per note

    def data(self, config):
        rolls = np.stack([chord_frames(CADENCE * 3)] * 4)
        chords = [(CADENCE * 2)[i:i + 3] for i in range(4)]  # parity takes chords, as run.json keeps them
        return Tiny(None, rolls[:, :-1], rolls[:, 1:], music_meta(config, {}),
                    served=get_task("music").parity_inputs(chords), heldout=chords)

    def forward_inputs(self, ids, model):
        return (np.random.default_rng(ids.sum()).integers(0, 2, (*ids.shape, PITCHES)) * (ids[..., None] % 2)
                ).astype("float32")  # frames: the ids' parity picks each note

    output_shape = staticmethod(per_step_shape)

    def served_from(self, items):
        """Each byte a frame holding note byte % 88, an empty text one silent frame, padded with
        silence to the longest: [n, time, 88]."""
        rows = byte_rows(items)
        frames = np.zeros((len(rows), max(1, *map(len, rows)), PITCHES), np.float32)
        for i, row in enumerate(rows):
            frames[i, np.arange(len(row)), np.frombuffer(row, np.uint8) % PITCHES] = 1
        return frames

    def request_values(self, input_name, folder):
        return ["C4 E4 G4", "F4 A4 C5", "G3 B3 D4 G4"]

    def page_refusals(self):
        return [(SUBMIT, ["input[type=text]", "C4 H9"], "'H9' is not a note from MIDI 21 to 108"),
                (SUBMIT, ["input[type=text]", ""], "Give the first chord")]

    def page_checks(self, interpreter, data):
        roll = chord_frames(CADENCE[:3])
        checks = []
        for length in (1, 3):
            probabilities, _ = greedy_steps(interpreter, "frame", roll[:length], 0, None)
            checks.append(("async r => ({last: (await seqzoo.probabilities(r)).at(-1)})",
                           roll[:length].tolist(), {"last": probabilities}))
        _, frames = greedy_steps(interpreter, "frame", roll[:1], 4, lambda p: (p > 0.5).astype(np.float32))
        checks.append(("c => seqzoo.compose(c, 4, 0, 1)", CADENCE[0],
                       {"piano_roll": np.concatenate([roll[:1], frames]).astype(int)}))
        return checks


TINY = Music()
