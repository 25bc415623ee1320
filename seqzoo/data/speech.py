"""Speech, offline: spoken digit strings and command words synthesised with eSpeak NG, and readers for
a user's own recordings (transcribed folders, labelled folders).

No labelled speech data ships in any package, so the default is synthetic speech, and says so:
eSpeak NG 1.52 (the PyPI package `espeakng-loader`, which bundles `libespeak-ng.so` and its voice data;
GPL-3.0, the optional extra `.[speech]`) speaks each text through its C API (`ctypes`) in one of
8 English accents x 16 voice variants, at a random rate, pitch and word gap; the audio then gets a
seeded gain, background noise at 10-40 dB SNR and, half the time, a small room (an exponentially
decaying noise impulse response), and is resampled to 16 kHz. Rendered once into seqzoo's cache as
WAV files and a `transcripts.tsv`, whole or not at all. Everything seqzoo adds is seeded; eSpeak NG's
own output is not quite (its voices jitter: a few samples' difference between two calls, whatever
seeds it is given), which the cache makes moot.

The split is by voice *and* by text: the test and validation voices are never heard in training,
and no digit string of theirs is spoken in it.
"""

from __future__ import annotations

import base64
import csv
import ctypes
import os
import re
import shutil
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tensorflow as tf

from seqzoo.data.audio import AudioError, check_wav_header, read_wav, write_wav
from seqzoo.data.batching import batches
from seqzoo.errors import SeqzooNote, UserError
from seqzoo.files import cache_dir, regular_file

SAMPLE_RATE = 16_000
DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
COMMANDS = ["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"]  # Speech Commands' ten
ACCENTS = ["en", "en-us", "en-gb-x-rp", "en-gb-scotland", "en-029", "en-us-nyc", "en-gb-x-gbclan",
           "en-gb-x-gbcwmd"]
VARIANTS = ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5", "klatt", "klatt2",
            "klatt3", "adam"]
HELD_OUT_VARIANTS = {"validation": ("m6", "f4"), "test": ("m7", "f5", "klatt3")}  # never heard in training
RENDER_VERSION = 1  # bump when the rendering changes: the cache folder's name changes with it
TRANSCRIPTS = "transcripts.tsv"
ESPEAK_MISSING = ("synthetic speech needs eSpeak NG: pip install -e '.[speech]' (the espeakng-loader "
                  "package; eSpeak NG is GPL-3.0)")


@dataclass
class Utterances:
    """Recordings and what is said in each (or their label), and who says it where known."""

    paths: list[Path] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    speakers: list[str] = field(default_factory=list)
    splits: list[str] = field(default_factory=list)  # "train", "validation", "test" where the data says


class Espeak:
    """eSpeak NG's C API through ctypes: `say(text, voice, ...)` -> float32 samples at `rate` Hz.

    One instance a process (the library keeps global state); calls are serialised by a lock."""

    _instance: Espeak | None = None
    _lock = threading.Lock()

    def __init__(self):
        try:
            import espeakng_loader
        except ImportError:
            raise UserError(ESPEAK_MISSING) from None
        self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        self.lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                          ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        data = Path(espeakng_loader.get_data_path()).parent  # the folder that holds espeak-ng-data
        synchronous = 2  # AUDIO_OUTPUT_SYNCHRONOUS: samples to the callback, no sound device
        self.rate = self.lib.espeak_Initialize(synchronous, 0, str(data).encode(), 0)
        if self.rate <= 0:
            raise UserError(f"eSpeak NG did not start (espeak_Initialize returned {self.rate})")
        self._chunks: list[np.ndarray] = []
        callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                                    ctypes.c_void_p)
        self._callback = callback(self._collect)  # kept: the library holds only a pointer to it
        self.lib.espeak_SetSynthCallback(self._callback)

    @classmethod
    def get(cls) -> Espeak:
        with cls._lock:
            if cls._instance is None:
                cls._instance = Espeak()
            return cls._instance

    def _collect(self, wav, count, events) -> int:
        if count > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        return 0

    def say(self, text: str, voice: str, rate: int = 175, pitch: int = 50, word_gap: int = 0) -> np.ndarray:
        """`text` spoken by `voice` ("en-us+f3": an accent, and a variant after +) at `rate` words per
        minute, `pitch` 0-99, `word_gap` extra pause between words in 10 ms units: float32 in [-1, 1]."""
        with self._lock:
            if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise UserError(f"eSpeak NG has no voice {voice!r}")
            for parameter, value in ((1, rate), (3, pitch), (7, word_gap)):  # espeakRATE, PITCH, WORDGAP
                self.lib.espeak_SetParameter(parameter, int(value), 0)
            self._chunks = []
            encoded = text.encode("utf-8") + b"\0"
            self.lib.espeak_Synth(encoded, len(encoded), 0, 0, 0, 0, None, None)
            self.lib.espeak_Synchronize()
            samples = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        return samples.astype(np.float32) / 32768.0


def voices() -> list[str]:
    """Every accent with every variant: "en-us+f3"."""
    return [f"{accent}+{variant}" for accent in ACCENTS for variant in VARIANTS]


def voice_split(voice: str) -> str:
    """Which split a voice belongs to, by its variant: the held-out variants in every accent."""
    variant = voice.partition("+")[2]
    return next((split for split, held in HELD_OUT_VARIANTS.items() if variant in held), "train")


def spoken_texts(count: int, rng: np.random.Generator) -> list[str]:
    """Digit strings of 1-7 digits ("seven three nine") and single command words, three to one."""
    texts = []
    for _ in range(count):
        if rng.random() < 0.25:
            texts.append(str(rng.choice(COMMANDS)))
        else:
            texts.append(" ".join(rng.choice(DIGITS, size=int(rng.integers(1, 8)))))
    return texts


def render(text: str, voice: str, rng: np.random.Generator) -> np.ndarray:
    """One utterance at SAMPLE_RATE: spoken with a random rate, pitch and word gap, then a random gain,
    background noise (10-40 dB SNR) and, half the time, a small room."""
    from scipy.signal import fftconvolve, resample_poly

    espeak = Espeak.get()
    speech = espeak.say(text, voice, rate=int(rng.integers(120, 230)), pitch=int(rng.integers(25, 75)),
                        word_gap=int(rng.integers(0, 12)))
    speech = resample_poly(speech, SAMPLE_RATE, espeak.rate).astype(np.float32)
    speech = np.concatenate([np.zeros(int(rng.integers(800, 4000)), np.float32), speech,
                             np.zeros(int(rng.integers(800, 4000)), np.float32)])
    if rng.random() < 0.5:  # a room: decaying noise over 50-300 ms, the direct sound first
        length = int(SAMPLE_RATE * rng.uniform(0.05, 0.3))
        response = rng.normal(size=length) * np.exp(-6.9 * np.arange(length) / length) * rng.uniform(0.1, 0.5)
        response[0] = 1.0
        speech = fftconvolve(speech, response)[: len(speech)].astype(np.float32)
    power = float(np.mean(speech**2)) or 1e-8
    noise = rng.normal(size=len(speech)) * np.sqrt(power / 10 ** (rng.uniform(10, 40) / 10))
    speech = speech + noise.astype(np.float32)
    return (speech / max(float(np.abs(speech).max()), 1e-8) * rng.uniform(0.3, 0.95)).astype(np.float32)


KEYWORDS = DIGITS + COMMANDS  # the keyword-spotting default's labels: one word a clip


def spoken_corpus(utterances: int = 3000, seed: int = 0, words: bool = False) -> Path:
    """The default speech data: `utterances` texts (`spoken_texts`; with `words`, single KEYWORDS, the
    keyword-spotting default) each in a random voice, rendered (`render`) into seqzoo's cache once; the
    folder holds the WAV files and `transcripts.tsv` (path, text, voice, split). Digit strings spoken by a
    held-out voice are never spoken in training."""
    kind = "words-" if words else ""
    folder = cache_dir("speech") / f"espeak-{kind}{utterances}-{seed}-{SAMPLE_RATE}hz-v{RENDER_VERSION}"
    if (folder / TRANSCRIPTS).is_file():
        return folder
    rng = np.random.default_rng(seed)
    names = voices()
    rows, said = [], {True: set(), False: set()}  # the digit strings said in training, and elsewhere
    while len(rows) < utterances:
        voice = str(rng.choice(names))
        split = voice_split(voice)
        text = str(rng.choice(KEYWORDS)) if words else spoken_texts(1, rng)[0]
        if not words and text in said[split != "train"]:
            continue  # a digit string is said in training or out of it, never both
        if not words and text not in COMMANDS:
            said[split == "train"].add(text)
        rows.append((text, voice, split))
    return _written(folder, rows, lambda text, voice: render(text, voice, rng))


# The speaker-conditioned WaveNet's default voices: two accents, two men and two women.
SPEAKERS = ["en-us+m1", "en-us+f2", "en-gb-scotland+m3", "en-gb-x-rp+f4"]


def voices_corpus(utterances: int = 60, seed: int = 0) -> Path:
    """`utterances` texts (`spoken_texts`) spoken by each of SPEAKERS in its own steady voice (eSpeak's
    default rate, pitch and word gap, no room, noise at 40 dB SNR), rendered into the cache once: what a
    speaker-conditioned WaveNet learns each voice from (`transcripts.tsv`'s voice column)."""
    name = f"espeak-voices-{len(SPEAKERS)}x{utterances}-{seed}-{SAMPLE_RATE}hz-v{RENDER_VERSION}"
    folder = cache_dir("speech") / name
    if (folder / TRANSCRIPTS).is_file():
        return folder
    rng = np.random.default_rng(seed)
    rows = [(text, voice, "train") for voice in SPEAKERS for text in spoken_texts(utterances, rng)]

    def steady(text, voice):
        from scipy.signal import resample_poly

        espeak = Espeak.get()
        speech = resample_poly(espeak.say(text, voice), SAMPLE_RATE, espeak.rate).astype(np.float32)
        speech = np.pad(speech, 1600)
        speech += rng.normal(size=len(speech)).astype(np.float32) * np.sqrt(np.mean(speech**2) / 1e4)
        return speech / max(float(np.abs(speech).max()), 1e-8) * 0.8

    return _written(folder, rows, steady)


def _written(folder: Path, rows: list[tuple[str, str, str]], say) -> Path:
    """A rendered corpus: `say(text, voice)` for each (text, voice, split) row into wav/ and TRANSCRIPTS,
    in a temporary folder renamed into place, whole or not at all."""
    tmp = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "wav").mkdir(parents=True)
    with open(tmp / TRANSCRIPTS, "w", newline="", encoding="utf-8") as file:
        table = csv.writer(file, delimiter="\t", lineterminator="\n")
        table.writerow(["path", "text", "voice", "split"])
        for i, (text, voice, split) in enumerate(rows):
            path = f"wav/{i:05d}.wav"
            write_wav(tmp / path, say(text, voice), SAMPLE_RATE)
            table.writerow([path, text, voice, split])
    try:
        os.replace(tmp, folder)  # whole or not at all: a killed render leaves only its .tmp folder
    except OSError:  # another process rendered it first
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


# RAVDESS: 03-01-05-01-02-01-12.wav, the third field the emotion; CREMA-D: 1001_DFA_ANG_XX.wav, the third.
RAVDESS = re.compile(r"^\d\d-\d\d-(\d\d)-\d\d-\d\d-\d\d-(\d\d)$")
RAVDESS_EMOTIONS = {"01": "neutral", "02": "calm", "03": "happy", "04": "sad", "05": "angry", "06": "fearful",
                    "07": "disgust", "08": "surprised"}
CREMA_D = re.compile(r"^(\d{4})_[A-Z]{3}_([A-Z]{3})_[A-Z]{2}$")
CREMA_D_EMOTIONS = {"ANG": "angry", "DIS": "disgust", "FEA": "fearful", "HAP": "happy", "NEU": "neutral",
                    "SAD": "sad"}


def read_transcribed(data: str | Path) -> Utterances:
    """A folder of recordings with their transcripts: `transcripts.tsv` (path<TAB>text, optionally voice
    and split columns after a header `path text ...`; paths relative to the folder), or LibriSpeech's
    `*.trans.txt` files (`<utterance id> <TEXT>`, beside `<utterance id>.wav`). UserError
    naming the file and line that is wrong."""
    folder = Path(data)
    if not folder.is_dir():
        raise UserError(f"speech data '{folder}' is not a folder (WAV files and {TRANSCRIPTS}, or "
                        "LibriSpeech *.trans.txt files)")
    if (folder / TRANSCRIPTS).is_file():
        return _read_table(folder / TRANSCRIPTS)
    found = Utterances()
    for listing in sorted(folder.rglob("*.trans.txt")):
        for number, line in enumerate(_lines(listing), 1):
            name, _, text = line.partition(" ")
            if not name or not text.strip():
                raise UserError(f"{listing}:{number}: expected '<utterance id> <text>', got {line[:60]!r}")
            audio = listing.parent / f"{name}.wav"
            if not audio.is_file():
                raise UserError(f"{listing}:{number}: no {name}.wav beside it (LibriSpeech's .flac files: "
                                "convert them to WAV first)")
            found.paths.append(audio)
            found.texts.append(text.strip().lower())
            found.speakers.append(name.split("-")[0])
    if not found.paths:
        raise UserError(f"speech data '{folder}' holds no {TRANSCRIPTS} and no *.trans.txt files")
    return found


def _read_table(path: Path) -> Utterances:
    rows = [line.split("\t") for line in _lines(path)]
    if not rows or rows[0][:2] != ["path", "text"]:
        raise UserError(f"{path}:1: expected the header 'path<TAB>text' (then optionally voice, split)")
    header, found = rows[0], Utterances()
    for number, row in enumerate(rows[1:], 2):
        if len(row) != len(header) or not row[0] or not row[1].strip():
            raise UserError(f"{path}:{number}: expected {len(header)} tab-separated fields "
                            f"({', '.join(header)}), got {len(row)}")
        audio = (path.parent / row[0]).resolve()
        if path.parent.resolve() not in audio.parents:
            raise UserError(f"{path}:{number}: '{row[0]}' is outside the data folder")
        found.paths.append(regular_file(audio, "recording"))
        found.texts.append(row[1].strip())
        record = dict(zip(header, row, strict=True))
        found.speakers.append(record.get("voice", ""))
        if "split" in record:
            found.splits.append(record["split"])
    return found


def read_labelled(data: str | Path) -> Utterances:
    """A folder of labelled clips: one subfolder a label (Speech Commands: `yes/0a7c2a8d_nohash_0.wav`),
    or the label coded in each file's name (RAVDESS, CREMA-D: the emotion). `texts` hold the labels,
    `speakers` the actors where the names say."""
    folder = Path(data)
    if not folder.is_dir():
        raise UserError(f"audio data '{folder}' is not a folder of labelled WAV files")
    files = sorted(path for path in folder.rglob("*.wav") if path.is_file())
    if not files:
        raise UserError(f"audio data '{folder}' holds no .wav files")
    found = Utterances()
    for path in files:
        ravdess, crema = RAVDESS.match(path.stem), CREMA_D.match(path.stem)
        if ravdess:
            label, speaker = RAVDESS_EMOTIONS.get(ravdess[1]), f"actor{ravdess[2]}"
        elif crema:
            label, speaker = CREMA_D_EMOTIONS.get(crema[2]), crema[1]
        elif path.parent != folder:
            label, speaker = path.parent.relative_to(folder).parts[0], path.stem.split("_")[0]
        else:
            raise UserError(f"'{path}' has no label: put each label's clips in a folder of its name, or "
                            "name them as RAVDESS or CREMA-D do")
        if label is None:
            raise UserError(f"'{path}': unknown emotion code in its name")
        found.paths.append(path)
        found.texts.append(label)
        found.speakers.append(speaker)
    return found


def check_alphabet(texts: list[str], alphabet: str, where: str) -> None:
    """UserError naming the characters of `texts` outside `alphabet` and the first text holding one."""
    allowed = set(alphabet)
    for text in texts:
        outside = sorted(set(text) - allowed)
        if outside:
            raise UserError(f"{where}: {text[:60]!r} has characters outside the alphabet: "
                            f"{' '.join(repr(c) for c in outside)}")


def _lines(path: Path) -> list[str]:
    try:
        text = regular_file(path, "transcript file", 64 << 20).read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise UserError(f"{path}: not UTF-8 text (byte {err.start})") from None
    return [line.rstrip("\r") for line in text.split("\n") if line.strip()]


@dataclass
class Recordings:
    """Utterances read into memory as 16-bit samples at one rate (about 115 MB an hour at 16 kHz), with
    their texts, speakers and splits, and the files that could not be used and why."""

    waveforms: list[np.ndarray] = field(default_factory=list)  # int16 [samples] each
    texts: list[str] = field(default_factory=list)
    speakers: list[str] = field(default_factory=list)
    splits: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)

    def subset(self, indices) -> Recordings:
        pick = lambda values: [values[i] for i in indices] if values else []  # noqa: E731
        return Recordings(pick(self.waveforms), pick(self.texts), pick(self.speakers), pick(self.splits))


def load_recordings(found: Utterances, sample_rate: int, max_seconds: float) -> Recordings:
    """The recordings of `found` read (`read_wav`: any PCM or float WAV, mixed down to mono) at
    `sample_rate`. A file that is no usable WAV, silent, or longer than `max_seconds` is skipped, and
    the skipped files are counted in one note naming the first; a file at another rate is resampled, and
    those are counted in a note too. UserError when none is left."""
    kept, resampled, limit = Recordings(), [], int(max_seconds * sample_rate)
    for index, path in enumerate(found.paths):
        try:
            rate = check_wav_header(path)
            waveform = read_wav(path, sample_rate)
            if len(waveform) > limit:
                raise AudioError(f"is longer than speech.max_seconds ({len(waveform) / sample_rate:.1f} s > "
                                 f"{max_seconds:g} s)")
            if not np.any(np.abs(waveform) >= 1 / 32768):
                raise AudioError("is silent")
        except AudioError as err:
            kept.skipped.append((str(path), str(err)))
            continue
        if rate != sample_rate:
            resampled.append((str(path), rate))
        kept.waveforms.append(np.round(waveform * 32767).astype(np.int16))
        kept.texts.append(found.texts[index])
        kept.speakers.append(found.speakers[index] if found.speakers else "")
        if found.splits:
            kept.splits.append(found.splits[index])
    total = len(found.paths)
    if not kept.waveforms:
        first, reason = kept.skipped[0]
        raise UserError(f"no usable recording: all {total} files were skipped (first: '{first}' {reason})")
    if kept.skipped:
        first, reason = kept.skipped[0]
        warnings.warn(f"skipped {len(kept.skipped)} of {total} recordings that cannot be used (first: "
                      f"'{first}' {reason})", SeqzooNote, stacklevel=2)
    if resampled:
        first, rate = resampled[0]
        warnings.warn(f"resampled {len(resampled)} of {total} recordings to {sample_rate} Hz (first: "
                      f"'{first}' at {rate} Hz)", SeqzooNote, stacklevel=2)
    return kept


def encode_texts(texts: list[str], alphabet: str) -> list[list[int]]:
    """Texts -> character ids (alphabet[i] is id i + 1; 0 is the blank), checked by `check_alphabet` first."""
    index = {character: i + 1 for i, character in enumerate(alphabet)}
    return [[index[c] for c in text] for text in texts]


def recording_examples(recordings: Recordings, targets: list) -> tf.data.Dataset:
    """(samples int16 [samples], target) per recording: a label id (int), or ids (a list: a transcript's
    characters, `encode_texts`) as int32 [ids]."""
    waveforms = tf.RaggedTensor.from_row_lengths(np.concatenate(recordings.waveforms),
                                                 [len(w) for w in recordings.waveforms])
    if targets and isinstance(targets[0], list):
        targets = tf.RaggedTensor.from_row_lengths(np.asarray([i for row in targets for i in row], np.int32),
                                                   [len(row) for row in targets])
    else:
        targets = np.asarray(targets, np.int32)
    return tf.data.Dataset.from_tensor_slices((waveforms, targets))


def recording_batches(examples: tf.data.Dataset, batch_size: int, shuffle_seed: int | None = None,
                      epochs: range | None = None, buffer: int | None = None) -> tf.data.Dataset:
    """({waveform float32 [batch, samples] (zeros after each), length int32 [batch]}, targets: label ids
    [batch], or ids [batch, ids] padded with 0), in the order `seqzoo.data.batching.batches` gives."""
    def batch(dataset):
        with_lengths = dataset.map(lambda samples, target: (samples, tf.size(samples, tf.int32), target))
        return with_lengths.padded_batch(batch_size).map(
            lambda samples, length, target: (
                {"waveform": tf.cast(samples, tf.float32) / 32768.0, "length": length}, target))

    return batches(examples, batch, shuffle_seed, epochs, buffer)


WRONG_RATE = 2  # decode_wavs' problem codes: 0 read, 1 no WAV, 2 the rate, 3 too long, 4 empty, 5 silent


def decode_wavs(data: tf.Tensor, sample_rate: int, max_samples: int
                ) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """WAV files tf.string [n] -> (mono samples float32 [n, width], each one's length int32 [n], the
    problem tf.string [n]: '' for a clip that was read), in the graph. A clip that is no whole 16-bit PCM
    WAV (a cut one too: TensorFlow's decoder refuses it), is at another rate than `sample_rate`, holds more
    than `max_samples` samples, none, or only silence gets length 0, zeros and its problem; the others are
    unaffected (each is decoded on its own in a tf.data pipeline that drops the ones whose decode raises, as
    `seqzoo.data.images.decode_images` does). `width` is the longest clip that was read (0 when none was)."""
    count = tf.shape(data, out_type=tf.int64)[0]

    def decode(index, wav):
        samples, rate = tf.audio.decode_wav(wav)
        mono = tf.reduce_mean(samples, axis=1)
        return index, mono, tf.size(mono), rate, tf.reduce_any(tf.not_equal(mono, 0.0))

    decoded = tf.data.Dataset.from_tensor_slices((tf.range(count), data)).map(decode).ignore_errors()
    # One element more, at index `count`, so the single batch is never empty; cut off below.
    sentinel = tf.data.Dataset.from_tensors((count, tf.zeros([0]), tf.constant(0), tf.constant(sample_rate),
                                              tf.constant(False)))
    indices, samples, sizes, rates, sound = (
        decoded.concatenate(sentinel).padded_batch(count + 1).get_single_element())

    def scattered(values, default):
        return tf.tensor_scatter_nd_update(tf.fill([count + 1], default), indices[:, None], values)[:count]

    read, sizes = scattered(tf.ones_like(sizes, tf.bool), False), scattered(sizes, 0)
    rates, sound = scattered(rates, sample_rate), scattered(sound, False)
    code = tf.where(~read, 1, tf.where(rates != sample_rate, WRONG_RATE, tf.where(
        sizes > max_samples, 3, tf.where(sizes == 0, 4, tf.where(~sound, 5, 0)))))
    problem = tf.where(code == WRONG_RATE,
                       tf.strings.join(["at ", tf.strings.as_string(rates), f" Hz, not {sample_rate} Hz"]),
                       tf.gather(tf.constant(["", "not a whole 16-bit PCM WAV file", "",
                                              f"longer than {max_samples / sample_rate:g} s", "no samples",
                                              "silent"]), code))
    length = tf.where(code == 0, sizes, 0)
    width = tf.reduce_max(tf.concat([length, [0]], 0))
    # Scattered at least one sample wide (ScatterNd refuses an empty shape), then cut to `width`.
    wide = tf.maximum(width, 1)
    samples = tf.pad(samples, [[0, 0], [0, 1]])[:, :wide]
    rows = tf.scatter_nd(indices[:, None], samples, [count + 1, tf.cast(wide, tf.int64)])[:count][:, :width]
    return rows * tf.cast(tf.sequence_mask(length, width), tf.float32), length, problem


def wav_bytes(waveform: np.ndarray, sample_rate: int) -> bytes:
    """Samples in [-1, 1] as the bytes of a mono 16-bit PCM WAV file."""
    samples = np.clip(np.asarray(waveform, np.float32), -1, 1)[:, None]
    return tf.audio.encode_wav(samples, sample_rate).numpy()


def heldout_wavs(recordings: Recordings, count: int, seconds: float, sample_rate: int) -> list[str]:
    """The first `count` recordings, cut at `seconds`, as base64 WAV files: what run.json keeps for the
    export's parity check."""
    cut = int(seconds * sample_rate)
    return [base64.b64encode(wav_bytes(w[:cut] / 32768.0, sample_rate)).decode("ascii")
            for w in recordings.waveforms[:count]]
