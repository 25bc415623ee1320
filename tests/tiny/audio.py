"""A 440 Hz tone at 8 kHz, four phases of it: the next sample follows the last two."""

import numpy as np

from seqzoo.data.audio import SILENCE, mu_law_decode, mu_law_encode, write_wav
from seqzoo.tasks import get_task
from seqzoo.tasks.audio import audio_meta
from tiny import SUBMIT, Tiny, TinyTask, byte_rows, greedy_steps, per_step_shape


def tone_codes(samples: int, start: int = 0) -> np.ndarray:
    """Mu-law codes of a 440 Hz tone at 8 kHz, amplitude 0.5, from sample `start` on."""
    t = np.arange(start, start + samples) / 8000
    return mu_law_encode(0.5 * np.sin(2 * np.pi * 440 * t)).numpy()


class Audio(TinyTask):
    def data(self, config):
        codes = np.stack([tone_codes(40, start=9 * i) for i in range(4)])
        excerpts = [tone_codes(24, start=5 * i).tolist() for i in range(4)]  # parity takes codes, as run.json
        return Tiny(None, codes[:, :-1], codes[:, 1:], audio_meta(config, {}),
                    served=get_task("audio").parity_inputs(excerpts), heldout=excerpts)

    output_shape = staticmethod(per_step_shape)  # the ids are mu-law codes as they are

    def served_from(self, items):
        """Each byte a sample (byte - 128) / 128, an empty text one silent sample, padded with silence
        to the longest: [n, time]."""
        rows = byte_rows(items)
        waveforms = np.zeros((len(rows), max(1, *map(len, rows))), np.float32)
        for i, row in enumerate(rows):
            waveforms[i, : len(row)] = (np.frombuffer(row, np.uint8).astype(np.float32) - 128) / 128
        return waveforms

    def page_refusals(self):
        return [(SUBMIT, ["input[type=number]", "-1"], "Seconds must be a number from")]

    def page_checks(self, interpreter, data):
        field = [SILENCE] * data.meta["receptive_field"]
        codes = tone_codes(12).tolist()
        probabilities, _ = greedy_steps(interpreter, "code", field + codes, 0, None)
        _, chosen = greedy_steps(interpreter, "code", field, 10, lambda p: int(np.argmax(p)))
        return [("async c => ({probabilities: await seqzoo.probabilities(c)})", codes,
                 {"probabilities": probabilities}),
                ("n => seqzoo.synthesize(n, 0, 1)", 10, {"codes": chosen})]

    def request_values(self, input_name, folder):
        path = folder / "tone.wav"
        write_wav(path, mu_law_decode(tone_codes(64)).numpy(), 8000)
        return [str(path)]


TINY = Audio()
