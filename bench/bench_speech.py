"""Transcription speed: the real-time factor (seconds of audio transcribed per second of wall time) of an
exported `ctc_recognizer`, beside real time itself (the reference: 1x; the goal is 20x on 2 cores), and
its character / word error rates on the clips it read.

    python bench/bench_speech.py saved_models/ctc_recognizer [--clips 64] [--data FOLDER]

The clips: the first `--clips` of the test split of a transcribed folder (default: the synthetic speech,
whose test voices were never heard in training). Each runtime reads the same clips, warmed up first:

- SavedModel `serving_default`: WAV bytes in a batch of 16 (decoding, features, BiLSTM, greedy, text);
- SavedModel `transcribe` then beam search (width 8), from float samples, batches of 16;
- `.tflite` (LiteRT interpreter), one clip at a time, greedy ids out.
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from timing import timed  # noqa: E402  (bench/timing.py, beside this script)

from seqzoo.data.speech import load_recordings, read_transcribed, spoken_corpus, wav_bytes  # noqa: E402
from seqzoo.exporters import ExportedModel  # noqa: E402
from seqzoo.tasks.speech import text_error_rates  # noqa: E402

BATCH = 16


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("--clips", type=int, default=64)
    parser.add_argument("--data", help="a transcribed folder (default: the synthetic speech)")
    args = parser.parse_args()
    model = ExportedModel(args.model)
    rate, limit = model.setting("sample_rate"), model.setting("max_samples") / model.setting("sample_rate")
    found = read_transcribed(args.data or spoken_corpus())
    test = [i for i, split in enumerate(found.splits) if split == "test"] or list(range(len(found.paths)))
    picked = test[: args.clips]
    found.paths, found.texts = [found.paths[i] for i in picked], [found.texts[i] for i in picked]
    found.speakers, found.splits = [], []
    clips = load_recordings(found, rate, limit)
    waveforms = [w.astype(np.float32) / 32768 for w in clips.waveforms]
    seconds = sum(map(len, waveforms)) / rate
    wavs = [wav_bytes(w, rate) for w in waveforms]
    serve = model.saved_model.signatures["serving_default"]
    runs = {
        "SavedModel serving_default (WAV bytes, greedy)": lambda: [
            text.decode() for i in range(0, len(wavs), BATCH)
            for text in serve(audio=tf.constant(wavs[i: i + BATCH]))["text"].numpy()],
        "SavedModel transcribe, greedy": lambda: [
            row["text"] for i in range(0, len(waveforms), BATCH)
            for row in model.transcribe(waveforms[i: i + BATCH], beam_width=1)],
        f"SavedModel transcribe, beam {model.setting('beam_width')}": lambda: [
            row["text"] for i in range(0, len(waveforms), BATCH)
            for row in model.transcribe(waveforms[i: i + BATCH])],
        ".tflite (LiteRT), one clip at a time, greedy": lambda: [
            row["text"] for row in model.transcribe(waveforms, runtime="tflite")],
    }
    print(f"{len(waveforms)} clips, {seconds:.1f} s of audio at {rate} Hz; reference: real time (1x)")
    print(f"{'runtime':52} {'wall s':>7} {'x real time':>12} {'CER':>6} {'WER':>6}")
    for name, run in runs.items():
        run()  # warm up: tracing, the interpreter's allocation
        texts = []
        wall = timed(lambda run=run, texts=texts: texts.extend(run()))
        rates = text_error_rates(texts, clips.texts)
        cer, wer = rates["cer"], rates["wer"]
        print(f"{name:52} {wall:7.2f} {seconds / wall:11.1f}x {cer:6.3f} {wer:6.3f}")


if __name__ == "__main__":
    sys.exit(main())
