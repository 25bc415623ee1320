"""The TCN: training speed vs keras-tcn 3.5.7, and streaming steps vs recomputing the window.

    pip install --no-deps keras-tcn==3.5.7 && python bench/bench_tcn.py [--steps 30]

(keras-tcn's 3.5.7 wheel requires tensorflow-macos on every platform, so pip cannot install it
with its dependencies on Linux, and it cannot be a project extra; it needs only TensorFlow.)

1. Training steps/s on the adding problem (T=600, batch 32) at the paper's configuration
   (kernel 8, dilations 1..128, 24 filters, no normalisation, no dropout: keras-tcn's
   defaults), the same parameter count (checked): `seqzoo.layers.TCN` vs keras-tcn's
   `TCN`, one process. Target >= 1.0x.
2. Generating one new step of a sequence, receptive field 3,571: `TCN.step` (a cache of
   (k-1)*d inputs per convolution, fast WaveNet) vs running the whole layer over the last
   receptive-field window again, both in a `tf.function`, batch 1. Target >= 10x.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from seqzoo.layers import TCN  # noqa: E402
from seqzoo.paper import adding_problem  # noqa: E402

KERNEL, DILATIONS, FILTERS, T, BATCH = 8, [1, 2, 4, 8, 16, 32, 64, 128], 24, 600, 32


def adding_model(layer) -> keras.Model:
    inputs = keras.Input((None, 2))
    model = keras.Model(inputs, keras.layers.Dense(1)(layer(inputs)))
    model.compile(keras.optimizers.Adam(2e-3), "mse")
    return model


def steps_per_second(model: keras.Model, x, y, steps: int) -> float:
    model.fit(x[:BATCH], y[:BATCH], batch_size=BATCH, epochs=1, verbose=0)  # trace
    start = time.perf_counter()
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
    return steps / (time.perf_counter() - start)


def training(steps: int) -> None:
    from tcn import TCN as KerasTCN  # keras-tcn 3.5.7

    x, y = adding_problem(BATCH * steps, T, seed=0)
    ours = adding_model(TCN(FILTERS, KERNEL, DILATIONS, normalization="none", return_sequences=False))
    theirs = adding_model(KerasTCN(nb_filters=FILTERS, kernel_size=KERNEL, dilations=DILATIONS))
    if ours.count_params() != theirs.count_params():
        raise SystemExit(f"not the same size: {ours.count_params()} vs {theirs.count_params()} parameters")
    mine, reference = steps_per_second(ours, x, y, steps), steps_per_second(theirs, x, y, steps)
    print(f"training, adding T={T}, batch {BATCH}, {ours.count_params():,} parameters each")
    print(f"  keras-tcn 3.5.7   {reference:7.2f} steps/s")
    print(f"  seqzoo TCN        {mine:7.2f} steps/s")
    print(f"  ratio             {mine / reference:7.2f}x   (target >= 1.0x)")


def streaming(new_steps: int = 200) -> None:
    layer = TCN(FILTERS, KERNEL, DILATIONS, normalization="none", return_sequences=True)
    field = layer.receptive_field
    window = tf.random.normal([1, field, 1])
    layer(window)
    recompute = tf.function(lambda w: layer(w)[:, -1])
    caches = layer.initial_caches(1)
    step = tf.function(lambda x, c: layer.step(x, c))
    recompute(window), step(window[:, 0], caches)  # trace both
    start = time.perf_counter()
    for t in range(new_steps):
        _, caches = step(window[:, t], caches)
    streamed = (time.perf_counter() - start) / new_steps
    start = time.perf_counter()
    for _ in range(new_steps):
        recompute(window).numpy()
    recomputed = (time.perf_counter() - start) / new_steps
    print(f"one new step, receptive field {field:,} (kernel {KERNEL}, dilations 1..128), batch 1")
    print(f"  recompute the window   {recomputed * 1e3:8.3f} ms")
    print(f"  TCN.step with caches   {streamed * 1e3:8.3f} ms")
    print(f"  ratio                  {recomputed / streamed:8.1f}x   (target >= 10x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="training steps timed per model")
    args = parser.parse_args()
    training(args.steps)
    streaming()


if __name__ == "__main__":
    main()
