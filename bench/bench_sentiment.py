"""seqzoo's sentiment entry vs hand-written Keras, side by side in one run.

    python bench/bench_sentiment.py [--repeats 5]

1. Training throughput (tokens/s, padding excluded) of `seqzoo.build("sentiment")`
   vs the same-size model written by hand as the Keras text-classification
   examples write it (Embedding + LSTM + Dense), with and without padding masks.
   Target: seqzoo / hand-written >= 1.0.
2. Batch-1 latency of one sentence: Keras `model(x)` vs the exported SavedModel
   (strings in, tokenization included) vs the `.tflite` file under LiteRT.
   Target: TFLite >= 3x faster than Keras.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from ai_edge_litert.interpreter import Interpreter  # noqa: E402

import seqzoo  # noqa: E402
from seqzoo.text import Vectorizer  # noqa: E402

OURS = "seqzoo.build('sentiment')"


def hand_written(vocab_size: int, mask_zero: bool) -> keras.Model:
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = keras.layers.Embedding(vocab_size, 128, mask_zero=mask_zero)(inputs)
    x = keras.layers.LSTM(128)(x)
    outputs = keras.layers.Dense(2, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train_seconds(model: keras.Model, x: np.ndarray, y: np.ndarray) -> float:
    start = time.perf_counter()
    model.fit(x, y, batch_size=32, epochs=1, verbose=0, shuffle=False)
    return time.perf_counter() - start


def median_seconds(call, repeats: int = 200) -> float:
    for _ in range(10):
        call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5, help="timed epochs per model")
    args = parser.parse_args()

    examples = seqzoo.data.read_labelled(seqzoo.data.sentiment_corpus())
    vectorizer = Vectorizer(max_length=64).adapt(examples.texts)
    texts = examples.texts * 8  # 1,600 sentences an epoch
    x = vectorizer(texts).numpy()
    y = np.array(examples.label_ids(examples.label_names) * 8)
    tokens = int((x != 0).sum())
    vocab = vectorizer.vocabulary_size()
    print(f"data: {len(texts)} sentences, {tokens} tokens an epoch, vocabulary {vocab}, "
          f"padded to {x.shape[1]}; cpu threads {os.cpu_count()}")

    models = {
        OURS: seqzoo.build("sentiment", max_tokens=vocab),
        "hand-written, mask_zero=True": hand_written(vocab, mask_zero=True),
        "hand-written, no mask (Keras example)": hand_written(vocab, mask_zero=False),
    }
    params = {name: m.count_params() for name, m in models.items()}
    assert len(set(params.values())) == 1, params
    for model in models.values():
        train_seconds(model, x, y)  # warm-up: tracing and first-epoch costs
    seconds = {name: [] for name in models}
    for _ in range(args.repeats):  # interleaved, so machine noise hits all alike
        for name, model in models.items():
            seconds[name].append(train_seconds(model, x, y))
    rate = {name: tokens / statistics.median(s) for name, s in seconds.items()}
    print(f"\n1. training throughput, {params[OURS]:,} parameters each, "
          f"median of {args.repeats} epochs")
    ours = rate[OURS]
    for name, value in rate.items():
        print(f"   {name:40s} {value:10,.0f} tokens/s   seqzoo / this = {ours / value:.2f}")

    model = models[OURS]
    sentence = "a gorgeous , moving film with a wonderful cast"
    ids = vectorizer([sentence])
    with tempfile.TemporaryDirectory() as base:
        path = seqzoo.export(model, vectorizer, name="sentiment", labels=examples.label_names,
                             base=base, heldout_texts=examples.texts[:8])
        serve = tf.saved_model.load(str(path)).signatures["serving_default"]
        runner = Interpreter(model_path=str(path / "sentiment.tflite")).get_signature_runner()
        ids_np = ids.numpy()
        latency = {
            "Keras model(x)": median_seconds(lambda: model(ids, training=False)),
            "SavedModel serving_default(text)": median_seconds(
                lambda: serve(text=tf.constant([sentence]))),
            "TFLite (LiteRT) token_ids": median_seconds(lambda: runner(token_ids=ids_np)),
        }
    print(f"\n2. batch-1 latency, one {ids.shape[1]}-token sentence, median of 200 calls")
    keras_ms = latency["Keras model(x)"]
    for name, value in latency.items():
        print(f"   {name:40s} {value * 1e3:8.3f} ms   speed-up vs Keras = {keras_ms / value:.1f}x")


if __name__ == "__main__":
    main()
