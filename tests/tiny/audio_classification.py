"""Clips of three pitches, labelled by pitch: a classifier learns which is which."""

import numpy as np

from seqzoo.data.speech import Recordings, heldout_wavs
from seqzoo.tasks import get_task
from seqzoo.tasks.audio_classification import classification_meta
from seqzoo.text import string_tensor
from tiny import Tiny, TinyTask, byte_rows
from tiny.speech import spoken

LABELS = ["a", "b", "c"]  # tiny.speech's pitches: a clip is one of them, said 1 to 3 times
CLIPS = ["a", "bb", "c", "aa", "b", "ccc", "aaa", "bbb"]


class AudioClassification(TinyTask):
    def data(self, config):
        rate = config["model"]["features"]["sample_rate"]
        waveforms = [spoken(text, rate, seed) for seed, text in enumerate(CLIPS)]
        labels = [text[0] for text in CLIPS]
        recordings = Recordings([np.round(w * 32767).astype(np.int16) for w in waveforms], labels)
        padded = np.zeros((len(waveforms), max(map(len, waveforms))), np.float32)
        for i, waveform in enumerate(waveforms):
            padded[i, : len(waveform)] = waveform
        inputs = {"waveform": padded, "length": np.array([len(w) for w in waveforms], np.int32)}
        heldout = heldout_wavs(recordings, 3, 1.0, rate)
        return Tiny(None, inputs, np.array([LABELS.index(label) for label in labels], np.int32),
                    classification_meta(config, LABELS, {"train": recordings}),
                    served=get_task("audio_classification").parity_inputs(heldout), heldout=heldout)

    def forward_inputs(self, ids, model):
        samples = ids.shape[1] * 160  # a 10 ms hop a step
        waveform = np.random.default_rng(0).normal(0, 0.1, (len(ids), samples)).astype(np.float32)
        return {"waveform": waveform, "length": np.full(len(ids), samples, np.int32)}

    def served_from(self, items):
        return string_tensor(byte_rows(items))  # bytes that are (almost surely) no WAV file: flagged


TINY = AudioClassification()
