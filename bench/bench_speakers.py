"""Does the speaker change the voice? A speaker-conditioned WaveNet's audio, synthesized as each speaker,
beside that speaker's own recordings (the reference): the median pitch of the voiced frames and the
spectral centroid, and their ratio.

    python bench/bench_speakers.py saved_models/wavenet [--seconds 3] [--data FOLDER] [--out pictures/]

The recordings: the folder the model trained on (default: the `voices` corpus, four eSpeak NG voices).
Pitch: each 40 ms frame's autocorrelation peak between 60 and 400 Hz, where it holds at least half the
frame's energy (voiced); the centroid: the power-weighted mean frequency of the frames above -40 dB of the
loudest. With `--out`, a spectrogram of each speaker's synthesized audio.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from seqzoo.data.audio import read_wav  # noqa: E402
from seqzoo.data.speech import read_transcribed, voices_corpus  # noqa: E402
from seqzoo.exporters import ExportedModel  # noqa: E402


def frames(waveform: np.ndarray, rate: int) -> np.ndarray:
    size = int(0.04 * rate)
    count = len(waveform) // size
    return waveform[: count * size].reshape(count, size)


def pitch(waveform: np.ndarray, rate: int) -> float:
    """Median f0 in Hz over the voiced frames (NaN when none is voiced)."""
    found = []
    for frame in frames(waveform - waveform.mean(), rate):
        energy = float(frame @ frame)
        if energy < 1e-6:
            continue
        correlation = np.correlate(frame, frame, "full")[len(frame) - 1:]
        low, high = int(rate / 400), int(rate / 60)
        lag = low + int(np.argmax(correlation[low:high]))
        if correlation[lag] >= 0.5 * energy:
            found.append(rate / lag)
    return float(np.median(found)) if found else float("nan")


def centroid(waveform: np.ndarray, rate: int) -> float:
    """Power-weighted mean frequency in Hz over the frames within 40 dB of the loudest."""
    spectra = np.abs(np.fft.rfft(frames(waveform, rate) * np.hanning(int(0.04 * rate)), axis=1)) ** 2
    power = spectra.sum(axis=1)
    loud = spectra[power > power.max() * 1e-4]
    hertz = np.fft.rfftfreq(int(0.04 * rate), 1 / rate)
    return float((loud @ hertz).sum() / loud.sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--data", help="the recordings (default: the voices corpus)")
    parser.add_argument("--out", help="a folder for each speaker's spectrogram")
    args = parser.parse_args()
    model = ExportedModel(args.model)
    rate, speakers = model.setting("sample_rate"), model.setting("speakers")
    found = read_transcribed(args.data or voices_corpus())
    print(f"{'speaker':22} {'pitch: real':>12} {'synthesized':>12} {'ratio':>6} {'centroid: real':>15} "
          f"{'synthesized':>12} {'ratio':>6}")
    for speaker in speakers:
        real = np.concatenate([read_wav(path, rate) for path, voice in zip(found.paths, found.speakers,
                                                                            strict=True) if voice == speaker])
        made = np.concatenate([model.synthesize(args.seconds / 3, 1.0, seed, speaker=speaker)
                               for seed in range(3)])
        if args.out:
            from seqzoo.plots import plot_spectrogram

            Path(args.out).mkdir(parents=True, exist_ok=True)
            plot_spectrogram(made, rate, Path(args.out) / f"{speaker}.png", title=f"synthesized as {speaker}")
        p_real, p_made, c_real, c_made = pitch(real, rate), pitch(made, rate), centroid(real, rate), \
            centroid(made, rate)
        print(f"{speaker:22} {p_real:11.0f}  {p_made:11.0f}  {p_made / p_real:6.2f} {c_real:14.0f}  "
              f"{c_made:11.0f}  {c_made / c_real:6.2f}")


if __name__ == "__main__":
    sys.exit(main())
