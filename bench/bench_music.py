"""Composing music: seqzoo's in-graph loop vs re-running the model on the growing prefix.

    python bench/bench_music.py [--frames 256]

The same model (the default `tcn_music` and `lstm_music`, about 270K weights each) composes
256 frames after a C major chord, sampled at temperature 1:

  seqzoo       the export's `generate`: one graph loop, each frame one streaming step
               (the TCN's convolution caches, the LSTM's carried states), fed back
  naive        per frame, the whole prefix through the model (a compiled `model(prefix)` call,
               a stronger baseline than `model.predict`), the last step sampled in NumPy
  predict      the same with `model.predict`, as the classic Keras examples write it (fewer
               frames, scaled: it is the slowest)

Target: seqzoo >= 10x the naive frames/s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import seqzoo  # noqa: E402
from seqzoo.data.music import chord_frames  # noqa: E402
from seqzoo.tasks import get_task  # noqa: E402
from seqzoo.tasks.music import music_meta  # noqa: E402

START = [[60, 64, 67, 72]]


def naive(call, frames: int, seed: int = 3) -> np.ndarray:
    """Re-run the model on the whole prefix for every new frame; sample each note in NumPy."""
    rng = np.random.default_rng(seed)
    roll = chord_frames(START)
    for _ in range(frames):
        probabilities = np.asarray(call(roll[None]))[0, -1]
        frame = (rng.random(probabilities.shape) < probabilities).astype(np.float32)
        roll = np.concatenate([roll, frame[None]])
    return roll


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def measure(name: str, frames: int) -> None:
    model = seqzoo.build(name)
    meta = music_meta(seqzoo.get_config(name), {})
    function, signature = get_task("music").endpoints(model, None, meta)["generate"]
    generate = tf.function(function, input_signature=signature)
    request = dict(start=tf.constant(START), frames=tf.constant(frames), temperature=tf.constant(1.0),
                   seed=tf.constant(3))
    generate(**request)  # trace once
    in_graph = statistics.median(timed(lambda: generate(**request)) for _ in range(5))
    call = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    naive(call, 8)  # trace the shapes' general form
    by_call = timed(lambda: naive(call, frames))
    few = 32
    by_predict = timed(lambda: naive(lambda x: model.predict(x, verbose=0), few)) * frames / few
    rate = lambda seconds: frames / seconds  # noqa: E731
    print(f"{name:12s} {model.count_params():8,d} {rate(in_graph):16,.0f} {rate(by_call):15,.0f} "
          f"{rate(by_predict):17,.0f} {by_call / in_graph:6.0f}x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=256)
    args = parser.parse_args()
    print(f"{args.frames} frames after {START[0]}, temperature 1; cpu threads {os.cpu_count()}, "
          f"TensorFlow {tf.__version__}")
    print(f"{'model':12s} {'weights':>8s} {'seqzoo frames/s':>16s} {'naive frames/s':>15s} "
          f"{'predict frames/s':>17s} {'ratio':>7s}")
    for name in ("tcn_music", "lstm_music"):
        measure(name, args.frames)
    print("ratio: seqzoo vs naive (compiled model call on the growing prefix); target >= 10x")


if __name__ == "__main__":
    main()
