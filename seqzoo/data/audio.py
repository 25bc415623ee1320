"""Raw audio for WaveNet: WAV files read as mono float samples at one sample rate, mu-law codes,
and training windows of receptive field + output length.

WAV files may be 8-, 16-, 24- or 32-bit PCM or 32/64-bit float, mono or more channels (mixed
down), at any sample rate (resampled, polyphase). The offline default is music21's Bach chorales
rendered to 8 kHz audio by additive synthesis (`bach_audio`): real music, a synthetic timbre,
rendered once and cached as WAV files under `$SEQZOO_CACHE/audio/`.
"""

from __future__ import annotations

import math
import os
import shutil
import struct
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tensorflow as tf

from seqzoo.data.batching import batches, mean_over_valid, split_whole
from seqzoo.errors import SeqzooNote, UserError, first_line
from seqzoo.files import cache_dir, data_files, irregularity, regular_file, written

MU = 255  # mu-law: 256 levels
SILENCE = MU // 2 + 1  # the code of 0.0
WAV_SUFFIXES = (".wav", ".wave")
RENDER_RATE = 8000  # the default data's sample rate
DEFAULT_CHORALES = 60  # the default data: the first 60 of music21's usable chorales (about 29 minutes)
QUARTER_SECONDS = 0.5  # their tempo: 120 quarter notes a minute
HARMONICS = (1.0, 0.5, 0.25, 0.125)  # each note's partials' amplitudes (those below Nyquist sound)
RENDER_VERSION = 1


def mu_law_encode(waveform) -> tf.Tensor:
    """Samples in [-1, 1] -> codes 0..255 (int32): F(x) = sign(x) ln(1 + mu |x|) / ln(1 + mu),
    quantised to the nearest of 256 even steps over [-1, 1]. Values outside [-1, 1] are clipped."""
    x = tf.clip_by_value(tf.cast(waveform, tf.float32), -1.0, 1.0)
    companded = tf.sign(x) * tf.math.log1p(MU * tf.abs(x)) / math.log1p(MU)
    return tf.cast(tf.floor((companded + 1) / 2 * MU + 0.5), tf.int32)


def mu_law_decode(codes) -> tf.Tensor:
    """Codes 0..255 -> samples in [-1, 1] (float32): the inverse of `mu_law_encode`'s companding."""
    companded = 2 * tf.cast(codes, tf.float32) / MU - 1
    return tf.sign(companded) * (tf.pow(1.0 + MU, tf.abs(companded)) - 1) / MU


def pcm16(waveform) -> tf.Tensor:
    """Samples in [-1, 1] -> 16-bit PCM (int16), rounded."""
    return tf.cast(tf.round(tf.clip_by_value(waveform, -1.0, 1.0) * 32767), tf.int16)


class AudioError(Exception):
    """A recording that cannot be used: what is wrong, in one line."""


WAV_RATES = (1000, 384_000)  # Hz a recording may declare: the range of audio.sample_rate
WAV_MAX_BYTES = 2 << 30  # a WAV file is read whole; one past this is refused
WAV_MAX_CHANNELS = 64


def check_wav_header(path: Path) -> int:
    """The sample rate a WAV file declares; AudioError unless the file's RIFF header is one a WAV reader
    can trust: a fmt chunk with 1 to 64
    channels and a rate of 1 kHz to 384 kHz, and every chunk before the samples within the file's
    bytes (a rate of 2^31 - 1 Hz would ask the resampler for hundreds of GiB; 0 channels divides by
    zero; a chunk claiming 4 GB reads past the end). The data chunk may be cut short: it is read as
    far as it goes, with a note."""
    size = path.stat().st_size
    with open(path, "rb") as file:
        head = file.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:] != b"WAVE":
            raise AudioError("not a readable WAV file (no RIFF/WAVE header)")
        order = "<" if head[:4] == b"RIFF" else ">"
        position, fmt = 12, None
        while position + 8 <= size:
            file.seek(position)
            chunk, length = struct.unpack(f"{order}4sI", file.read(8))
            if chunk == b"data":
                break
            if position + 8 + length > size and chunk == b"fmt ":
                raise AudioError("not a readable WAV file (its header is cut short)")
            if position + 8 + length > size:
                raise AudioError(f"its {chunk.decode('latin-1')!r} chunk claims {length:,} bytes; the file "
                                 f"holds {size - position - 8:,} after it")
            if chunk == b"fmt ":
                if length < 16:
                    raise AudioError("its fmt chunk is cut short")
                fmt = struct.unpack(f"{order}HHIIHH", file.read(16))
            position += 8 + length + (length & 1)
    if fmt is None:
        raise AudioError("not a readable WAV file (no fmt chunk before the samples)")
    _, channels, rate, _, _, _ = fmt
    if not 1 <= channels <= WAV_MAX_CHANNELS:
        raise AudioError(f"declares {channels} channels (a recording has 1 to {WAV_MAX_CHANNELS})")
    if not WAV_RATES[0] <= rate <= WAV_RATES[1]:
        raise AudioError(f"declares a sample rate of {rate:,} Hz (a recording has {WAV_RATES[0]:,} to "
                         f"{WAV_RATES[1]:,})")
    return rate


def read_wav(path: str | Path, sample_rate: int) -> np.ndarray:
    """A WAV file -> mono float32 samples in [-1, 1] at `sample_rate`; AudioError naming what is wrong
    (not a WAV, no samples, NaN or infinite samples). Float samples beyond [-1, 1] are clipped, and
    a truncated file is read as far as it goes, each with a note saying so."""
    from scipy.io import wavfile
    from scipy.signal import resample_poly

    path = Path(path)
    problem = irregularity(path, WAV_MAX_BYTES)
    if problem is not None:
        raise AudioError(problem)
    try:
        check_wav_header(path)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", wavfile.WavFileWarning)
            rate, data = wavfile.read(str(path))
    except AudioError:
        raise
    except struct.error:
        raise AudioError("not a readable WAV file (its header is cut short)") from None
    except Exception as err:  # scipy raises many kinds for a damaged file (an unbound variable, once)
        raise AudioError(f"not a readable WAV file ({first_line(err)})") from None
    if data.size == 0:
        raise AudioError("has no samples")
    if any("prematurely" in str(warning.message) for warning in caught):  # other warnings: unknown chunks
        warnings.warn(f"'{path}' is truncated: read the {len(data)} samples it holds", SeqzooNote,
                      stacklevel=2)
    data = data.reshape(len(data), -1)
    if data.dtype == np.uint8:  # 8-bit WAV is unsigned, centred on 128
        samples = (data.astype(np.float32) - 128) / 128
    elif np.issubdtype(data.dtype, np.integer):  # 16 bits, and 24 or 32 left-justified in int32
        samples = data.astype(np.float32) / float(-np.iinfo(data.dtype).min)
    else:
        samples = data.astype(np.float32)
        bad = int((~np.isfinite(samples)).sum())
        if bad:
            raise AudioError(f"has {bad} NaN or infinite samples")
        loud = int((np.abs(samples) > 1).sum())
        if loud:
            warnings.warn(f"'{path}': clipped {loud} float samples beyond [-1, 1]", SeqzooNote, stacklevel=2)
            samples = np.clip(samples, -1, 1)
    mono = samples.mean(axis=1)
    if rate != sample_rate:
        common = math.gcd(rate, sample_rate)
        mono = np.clip(resample_poly(mono, sample_rate // common, rate // common), -1, 1).astype(np.float32)
    return mono


def wav_input(path: str | Path, sample_rate: int, what: str) -> np.ndarray:
    """A WAV file a user named (`what`: "--prime", ...) read by `read_wav`; UserError naming it when it
    is missing or unreadable."""
    regular_file(path, what)
    try:
        return read_wav(path, sample_rate)
    except AudioError as err:
        raise UserError(f"{what} '{path}': {err}") from None


def write_wav(path: str | Path, waveform: np.ndarray, sample_rate: int) -> Path:
    """Samples in [-1, 1] as a mono 16-bit PCM WAV, written through a temporary file and a rename."""
    from scipy.io import wavfile

    with written(path) as tmp:
        wavfile.write(tmp, sample_rate, pcm16(np.asarray(waveform, np.float32)).numpy())
    return Path(path)


def audio_files(data: str | Path) -> list[Path]:
    """A WAV file, a folder's WAV files (recursively) or a glob's, sorted."""
    return data_files(data, WAV_SUFFIXES, "WAV files")


@dataclass
class Clips:
    """Recordings as mu-law codes, with the files that could not be used and why."""

    names: list[str]
    codes: list[np.ndarray]  # uint8 [samples] each
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    speakers: list[str] = field(default_factory=list)  # who speaks each ("" where the data does not say)

    @property
    def samples(self) -> int:
        return sum(len(c) for c in self.codes)

    def subset(self, indices) -> Clips:
        return Clips([self.names[i] for i in indices], [self.codes[i] for i in indices],
                     speakers=[self.speakers[i] for i in indices])


def read_clips(data: str | Path, sample_rate: int) -> Clips:
    """Every WAV file under `data` as mu-law codes at `sample_rate`. Files that are no WAV, empty or
    hold NaN are skipped with a note giving their count and the first; UserError when none is left."""
    files = audio_files(data)
    root = Path(data)
    clips = Clips([], [])
    voices = _listed_voices(root)
    for path in files:
        name = str(path.relative_to(root)) if root.is_dir() else str(path)
        try:
            waveform = read_wav(path, sample_rate)
        except AudioError as err:
            clips.skipped.append((name, str(err)))
            continue
        clips.names.append(name)
        clips.codes.append(mu_law_encode(waveform).numpy().astype(np.uint8))
        clips.speakers.append(voices.get(path.resolve(), path.relative_to(root).parts[0]
                                         if root.is_dir() and len(path.relative_to(root).parts) > 1 else ""))
    if not clips.codes:
        first, reason = clips.skipped[0]
        raise UserError(f"no usable audio in '{data}': all {len(files)} files were skipped "
                        f"(first: '{first}': {reason})")
    if clips.skipped:
        first, reason = clips.skipped[0]
        warnings.warn(f"skipped {len(clips.skipped)} of {len(files)} audio files that cannot be used "
                      f"(first: '{first}': {reason})", SeqzooNote, stacklevel=2)
    return clips


def _listed_voices(root: Path) -> dict[Path, str]:
    """Who speaks each file, where a folder's `transcripts.tsv` has a voice column (the rendered speech)."""
    table = root / "transcripts.tsv"
    if not root.is_dir() or not table.is_file():
        return {}
    from seqzoo.data.speech import read_transcribed

    found = read_transcribed(root)
    return {path.resolve(): voice for path, voice in zip(found.paths, found.speakers, strict=True) if voice}


def split_clips(clips: Clips, validation_fraction: float, test_fraction: float,
                seed: int) -> tuple[Clips, Clips, Clips]:
    """(train, validation, test): whole recordings, in a seeded order, by the given fractions."""
    parts = split_whole(len(clips.codes), validation_fraction, test_fraction, seed, "recordings")
    return tuple(clips.subset(part) for part in parts)


def window_examples(clips: Clips, receptive_field: int, window: int,
                    speaker_ids: list[int] | None = None) -> tf.data.Dataset:
    """(codes [receptive_field - 1 + window], next codes [same], mask [same]) covering every sample of
    every recording once, as the target of exactly one window; with `speaker_ids` (one a recording),
    ({codes, speaker}, next codes, mask) for a speaker-conditioned WaveNet.

    Each recording is preceded by receptive_field samples of silence, so its first sample is
    predicted from a receptive field of silence, as generation starts; a window's first
    receptive_field - 1 outputs only fill the receptive field (mask 0), and so do outputs past
    its recording's end.
    """
    context = receptive_field - 1
    pieces, starts, valid, speakers, offset = [], [], [], [], 0
    for index, codes in enumerate(clips.codes):
        pieces += [np.full(receptive_field, SILENCE, np.uint8), codes]
        for first in range(0, len(codes), window):
            starts.append(offset + first)
            valid.append(min(window, len(codes) - first))
            speakers.append(speaker_ids[index] if speaker_ids is not None else 0)
        offset += receptive_field + len(codes)
    pieces.append(np.full(context + window + 1, SILENCE, np.uint8))  # the last window's overrun
    flat = tf.constant(np.concatenate(pieces))
    length = context + window
    positions = tf.range(length, dtype=tf.int64)

    def cut(start, count, speaker):
        piece = tf.cast(flat[start:start + length + 1], tf.int32)
        mask = tf.cast((positions >= context) & (positions < context + count), tf.float32)
        codes = piece[:-1] if speaker_ids is None else {"codes": piece[:-1], "speaker": speaker}
        return codes, piece[1:], mask

    windows = (np.array(starts, np.int64), np.array(valid, np.int64), np.array(speakers, np.int32))
    return tf.data.Dataset.from_tensor_slices(windows).map(cut)


def window_batches(examples: tf.data.Dataset, batch_size: int, seed: int | None = None,
                   epochs: range | None = None) -> tf.data.Dataset:
    """Windows as (x, y, weights) batches, weights making Keras' mean the mean over predicted samples."""
    def batch(dataset):
        return dataset.batch(batch_size).map(lambda x, y, mask: (x, y, mean_over_valid(mask)))

    return batches(examples, batch, seed, epochs)


def bach_audio() -> Path:
    """The default data: the first DEFAULT_CHORALES usable chorales of music21's corpus rendered at
    8 kHz (`render_roll`), one WAV each; rendered on first use, then read from the cache."""
    import music21

    from seqzoo.data.music import bach_chorales, read_rolls

    folder = cache_dir("audio") / (f"bach-{DEFAULT_CHORALES}-{RENDER_RATE}hz-{QUARTER_SECONDS}s-"
                                   f"music21-{music21.__version__}-v{RENDER_VERSION}")
    if folder.is_dir():
        return folder
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SeqzooNote)  # the chorales' own skips are no news here
        rolls = read_rolls(bach_chorales())
    tmp = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name, roll in list(zip(rolls.names, rolls.rolls, strict=True))[:DEFAULT_CHORALES]:
        write_wav(tmp / (Path(name).stem + ".wav"), render_roll(roll, RENDER_RATE), RENDER_RATE)
    try:
        os.replace(tmp, folder)  # whole or not at all: a killed render leaves only its .tmp folder
    except OSError:  # another process rendered it first
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def render_roll(roll: np.ndarray, sample_rate: int, quarter: float = QUARTER_SECONDS) -> np.ndarray:
    """A piano roll [frames, 88] as audio by additive synthesis: each note (a run of frames a pitch
    sounds in) a few harmonics under a 10 ms attack, an exponential decay and a 20 ms release; the
    whole scaled to a peak of 0.5."""
    from seqzoo.data.music import LOWEST

    frame = int(round(quarter * sample_rate))
    out = np.zeros(len(roll) * frame, np.float32)
    attack, release = int(0.01 * sample_rate), int(0.02 * sample_rate)
    for column in range(roll.shape[1]):
        on = np.flatnonzero(np.diff(np.concatenate([[0], roll[:, column].astype(np.int8), [0]])))
        frequency = 440.0 * 2 ** ((column + LOWEST - 69) / 12)
        for start, end in zip(on[::2], on[1::2], strict=True):
            length = (end - start) * frame
            t = np.arange(length) / sample_rate
            envelope = np.exp(-t / 0.8) * np.minimum(1, np.arange(length) / attack)
            envelope *= np.minimum(1, (length - np.arange(length)) / release)
            tone = sum(a * np.sin(2 * np.pi * frequency * h * t)
                       for h, a in enumerate(HARMONICS, 1) if frequency * h < sample_rate / 2)
            out[start * frame:end * frame] += (envelope * tone).astype(np.float32)
    peak = np.abs(out).max()
    return out * (0.5 / peak) if peak > 0 else out
