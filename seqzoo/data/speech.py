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

import csv
import ctypes
import os
import re
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from seqzoo.data.audio import write_wav
from seqzoo.errors import UserError
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


def spoken_corpus(utterances: int = 3000, seed: int = 0) -> Path:
    """The default speech data: `utterances` texts (`spoken_texts`) each in a random voice, rendered
    (`render`) into seqzoo's cache once; the folder holds the WAV files and `transcripts.tsv`
    (path, text, voice, split). Digit strings spoken by a held-out voice are never spoken in training."""
    folder = cache_dir("speech") / f"espeak-{utterances}-{seed}-{SAMPLE_RATE}hz-v{RENDER_VERSION}"
    if (folder / TRANSCRIPTS).is_file():
        return folder
    rng = np.random.default_rng(seed)
    names = voices()
    rows, said = [], {True: set(), False: set()}  # the digit strings said in training, and elsewhere
    while len(rows) < utterances:
        voice = str(rng.choice(names))
        split = voice_split(voice)
        text = spoken_texts(1, rng)[0]
        if text in said[split != "train"]:
            continue  # a digit string is said in training or out of it, never both
        if text not in COMMANDS:
            said[split == "train"].add(text)
        rows.append((text, voice, split))
    tmp = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "wav").mkdir(parents=True)
    with open(tmp / TRANSCRIPTS, "w", newline="", encoding="utf-8") as file:
        table = csv.writer(file, delimiter="\t", lineterminator="\n")
        table.writerow(["path", "text", "voice", "split"])
        for i, (text, voice, split) in enumerate(rows):
            path = f"wav/{i:05d}.wav"
            write_wav(tmp / path, render(text, voice, rng), SAMPLE_RATE)
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
