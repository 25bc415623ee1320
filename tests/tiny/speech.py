"""Spoken "letters" as tones: each character of a transcript a 0.1 s tone of its own pitch, a space 50 ms
of quiet; a recognizer learns to spell them."""

import numpy as np

from seqzoo.data.speech import Recordings, encode_texts, heldout_wavs
from seqzoo.models.speech import output_frames
from seqzoo.tasks import get_task
from seqzoo.tasks.speech import speech_meta
from seqzoo.text import string_tensor
from tiny import Tiny, TinyTask, byte_rows

PITCHES = {"a": 400.0, "b": 1100.0, "c": 2300.0}
TRANSCRIPTS = ["ab", "ba", "abc", "cab", "b c", "a", "cc a", "bac"]


def spoken(text: str, rate: int = 16000, seed: int = 0) -> np.ndarray:
    """A transcript as tones (plus a little seeded noise), in [-1, 1]."""
    parts = []
    for character in text:
        t = np.arange(int(rate * (0.05 if character == " " else 0.1))) / rate
        parts.append(0.0 * t if character == " " else 0.5 * np.sin(2 * np.pi * PITCHES[character] * t))
    noise = np.random.default_rng(seed).normal(0, 0.01, sum(map(len, parts)))
    return (np.concatenate(parts) + noise).astype(np.float32)


class Speech(TinyTask):
    def data(self, config):
        rate = config["model"]["features"]["sample_rate"]
        waveforms = [spoken(text, rate, seed) for seed, text in enumerate(TRANSCRIPTS)]
        recordings = Recordings([np.round(w * 32767).astype(np.int16) for w in waveforms], TRANSCRIPTS)
        padded = np.zeros((len(waveforms), max(map(len, waveforms))), np.float32)
        for i, waveform in enumerate(waveforms):
            padded[i, : len(waveform)] = waveform
        ids = encode_texts(TRANSCRIPTS, config["speech"]["alphabet"])
        labels = np.zeros((len(ids), max(map(len, ids))), np.int32)
        for i, row in enumerate(ids):
            labels[i, : len(row)] = row
        inputs = {"waveform": padded, "length": np.array([len(w) for w in waveforms], np.int32)}
        heldout = heldout_wavs(recordings, 3, 1.0, rate)
        return Tiny(None, inputs, labels, speech_meta(config, {"train": recordings}),
                    served=get_task("speech").parity_inputs(heldout), heldout=heldout)

    def check_outputs(self, outputs):
        np.testing.assert_allclose(np.exp(outputs).sum(axis=-1), 1.0, atol=1e-5)  # log-probabilities

    def forward_inputs(self, ids, model):
        samples = ids.shape[1] * 160  # a 10 ms hop a step
        waveform = np.random.default_rng(0).normal(0, 0.1, (len(ids), samples)).astype(np.float32)
        return {"waveform": waveform, "length": np.full(len(ids), samples, np.int32)}

    def output_shape(self, batch, length, model):
        frames = int(output_frames(model.get_layer("log_mel"), [length * 160])[0])
        return (batch, frames, model.output_shape[-1])

    def served_from(self, items):
        return string_tensor(byte_rows(items))  # bytes that are (almost surely) no WAV file: flagged

    def request_values(self, input_name, folder):
        from seqzoo.data.audio import write_wav

        paths = [folder / "ab.wav", folder / "cab.wav"]
        for path in paths:
            write_wav(path, spoken(path.stem), 16000)
        return [str(path) for path in paths]


TINY = Speech()
