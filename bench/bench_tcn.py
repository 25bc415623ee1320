"""The TCN: training speed vs keras-tcn 3.5.7, and streaming steps vs recomputing the window.

    pip install --no-deps keras-tcn==3.5.7 && python bench/bench_tcn.py [--steps 30]

(keras-tcn's 3.5.7 wheel requires tensorflow-macos on every platform, so pip cannot install it
with its dependencies on Linux, and it cannot be a project extra; it needs only TensorFlow.)

1. Training steps/s on the adding problem (T=600, batch 32) at the paper's configuration
   (kernel 8, dilations 1..128, 24 filters, no normalisation, no dropout: keras-tcn's
   defaults), the same parameter count (checked): `seqzoo.layers.TCN` vs keras-tcn's
   `TCN`, one process, timed back to back in paired rounds (median ratio). Target >= 1.0x.
2. Generating one new step of a sequence, receptive field 3,571: `TCN.step` (a cache of
   (k-1)*d inputs per convolution, fast WaveNet) vs running the whole layer over the last
   receptive-field window again, 200 steps in a graph loop each, batch 1 (how `tcn_lm`
   generates). Target >= 10x. Also printed: `step` called from Python once per step.
"""

from __future__ import annotations

import argparse
import os
import statistics
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


def paired_rounds(models: list[keras.Model], x, y, rounds: int) -> tuple[list[float], list[float]]:
    """Each round fits every model on the same batches back to back: (median steps/s per model,
    each round's ratio of the first model's speed to the second's). Whole epochs drift by +-30%
    between minutes on a shared 2-core machine; neighbours in one round do not."""
    for model in models:
        model.fit(x[:BATCH], y[:BATCH], batch_size=BATCH, epochs=1, verbose=0)  # trace
    steps = len(x) // BATCH
    rates, ratios = [[] for _ in models], []
    for _ in range(rounds):
        seconds = []
        for model in models:
            start = time.perf_counter()
            model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
            seconds.append(time.perf_counter() - start)
        for i, s in enumerate(seconds):
            rates[i].append(steps / s)
        ratios.append(seconds[1] / seconds[0])
    return [statistics.median(r) for r in rates], ratios


def training(steps: int, rounds: int) -> None:
    from tcn import TCN as KerasTCN  # keras-tcn 3.5.7

    x, y = adding_problem(BATCH * steps, T, seed=0)
    ours = adding_model(TCN(FILTERS, KERNEL, DILATIONS, normalization="none", return_sequences=False))
    theirs = adding_model(KerasTCN(nb_filters=FILTERS, kernel_size=KERNEL, dilations=DILATIONS))
    if ours.count_params() != theirs.count_params():
        raise SystemExit(f"not the same size: {ours.count_params()} vs {theirs.count_params()} parameters")
    (mine, reference), ratios = paired_rounds([ours, theirs], x, y, rounds)
    quartiles = statistics.quantiles(ratios, n=4)
    print(f"training, adding T={T}, batch {BATCH}, {ours.count_params():,} parameters each, "
          f"{rounds} paired rounds of {len(x) // BATCH} steps")
    print(f"  keras-tcn 3.5.7   {reference:7.2f} steps/s")
    print(f"  seqzoo TCN        {mine:7.2f} steps/s")
    print(f"  ratio             {statistics.median(ratios):7.2f}x   (median of the rounds; quartiles "
          f"{quartiles[0]:.2f}-{quartiles[2]:.2f}; target >= 1.0x)")


def streaming(new_steps: int = 200) -> None:
    layer = TCN(FILTERS, KERNEL, DILATIONS, normalization="none", return_sequences=True)
    field = layer.receptive_field
    window, inputs = tf.random.normal([1, field, 1]), tf.random.normal([1, new_steps, 1])
    layer(window)

    def streamed(inputs, caches):  # TCN.step, one cache per convolution
        def body(i, y, caches):
            y, caches = layer.step(inputs[:, i], caches)
            return i + 1, y, caches
        return tf.while_loop(lambda i, *_: i < new_steps, body, (0, tf.zeros([1, FILTERS]), caches))[1]

    def recomputed(window, inputs):  # slide the window one step, run the whole layer over it
        def body(i, y, window):
            window = tf.ensure_shape(tf.concat([window[:, 1:], inputs[:, i : i + 1]], axis=1), [1, field, 1])
            return i + 1, layer(window)[:, -1], window
        return tf.while_loop(lambda i, *_: i < new_steps, body, (0, tf.zeros([1, FILTERS]), window))[1]

    in_graph = {name: tf.function(f, autograph=False) for name, f in
                (("stream", streamed), ("recompute", recomputed))}
    step = tf.function(lambda x, caches: layer.step(x, caches))
    per_step = {}
    for name, run in (("stream", lambda: in_graph["stream"](inputs, layer.initial_caches(1))),
                      ("recompute", lambda: in_graph["recompute"](window, inputs)),
                      ("stream_calls", lambda: _step_calls(step, layer, inputs))):
        run().numpy()  # trace
        start = time.perf_counter()
        run().numpy()
        per_step[name] = (time.perf_counter() - start) / new_steps
    print(f"one new step, receptive field {field:,} (kernel {KERNEL}, dilations 1..128), batch 1, "
          f"{new_steps} steps in a graph loop (as tcn_lm generates)")
    print(f"  recompute the window   {per_step['recompute'] * 1e3:8.3f} ms")
    print(f"  TCN.step with caches   {per_step['stream'] * 1e3:8.3f} ms")
    print(f"  ratio                  {per_step['recompute'] / per_step['stream']:8.1f}x   (target >= 10x)")
    print(f"  (TCN.step called once per step from Python: {per_step['stream_calls'] * 1e3:.3f} ms, "
          "mostly the call's own overhead for 16 cache tensors)")


def _step_calls(step, layer, inputs):
    caches = layer.initial_caches(1)
    for t in range(inputs.shape[1]):
        y, caches = step(inputs[:, t], caches)
    return y


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5, help="training steps per model per round")
    parser.add_argument("--rounds", type=int, default=12, help="paired rounds")
    args = parser.parse_args()
    training(args.steps, args.rounds)
    streaming()


if __name__ == "__main__":
    main()
