"""The char LM: generation and training speed vs the classic Keras ways, and bits per character.

    python bench/bench_generation.py [--budget 120]

1. Generation, 200 new characters after "The minister", the same trained model:
   seqzoo's in-graph loop (cells stepped, states carried) vs the classic Keras
   char-RNN sampling loop (`model.predict` on the whole growing prefix for each
   new character). Target: >= 10x tokens/s.
2. Training throughput of `seqzoo.build("char_lm", preset="small")` vs the same
   layers written by hand in Keras (Embedding, 2 x LSTM with dropout 0.1 and a
   residual add, Dense): target >= 1.0x.
3. Held-out bits per character on gensim's lee_background.cor after training
   `small` for a fixed CPU budget (seconds).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from timing import timed  # noqa: E402  (bench/timing.py, beside this script)

import seqzoo  # noqa: E402
from seqzoo.data import read_documents, split_documents, window_dataset  # noqa: E402
from seqzoo.decoding import RNNGenerator  # noqa: E402
from seqzoo.tasks.language_model import (  # noqa: E402
    BOS_ID,
    left_padded_prompts,
    lm_vectorizer,
    token_stream,
)

NEW_TOKENS, PROMPT = 200, "The minister"


class TimeBudget(keras.callbacks.Callback):
    def __init__(self, seconds: float):
        super().__init__()
        self.seconds, self.start = seconds, time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if time.perf_counter() - self.start > self.seconds:
            self.model.stop_training = True


def hand_written(vocab_size: int) -> keras.Model:
    """The `small` char LM's layers, written as one would by hand (dropout 0.1, a residual add)."""
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = keras.layers.Embedding(vocab_size, 32)(inputs)
    first = keras.layers.LSTM(128, return_sequences=True, dropout=0.1)(x)
    second = keras.layers.LSTM(128, return_sequences=True, dropout=0.1)(first)
    x = keras.layers.Add()([second, first])
    outputs = keras.layers.Dense(vocab_size, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def classic_sampling(model, vectorizer, prompt: str, n: int, seed: int = 7) -> list[int]:
    """The Keras char-RNN example's loop: predict on the whole prefix, sample, append."""
    rng = np.random.default_rng(seed)
    ids = [BOS_ID, *vectorizer.lookup([prompt]).to_list()[0]]
    for _ in range(n):
        probabilities = model.predict(np.array([ids], np.int32), verbose=0)[0, -1].astype("float64")
        probabilities[[0, BOS_ID]] = 0
        ids.append(int(rng.choice(len(probabilities), p=probabilities / probabilities.sum())))
    return ids


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=float, default=120, help="training seconds for 3.")
    args = parser.parse_args()
    train_docs, heldout_docs = split_documents(read_documents(seqzoo.data.news_corpus()), 0.1, 42)
    config = seqzoo.get_config("char_lm", preset="small")
    vectorizer = lm_vectorizer(config["text"], train_docs)
    vocab = vectorizer.vocabulary_size()
    train_stream = token_stream(vectorizer, train_docs)
    print(f"lee_background: {len(train_docs)} training documents, {len(train_stream):,} characters, "
          f"vocabulary {vocab}; cpu threads {os.cpu_count()}")

    # 3 first: it trains the model that 1. then generates with.
    keras.utils.set_random_seed(0)
    model = seqzoo.build("char_lm", preset="small", vectorizer=vectorizer)
    budget = TimeBudget(args.budget)
    history = model.fit(window_dataset(train_stream, 64, 64, shuffle_seed=0), epochs=1000,
                        callbacks=[budget], verbose=0, shuffle=False)
    heldout = window_dataset(token_stream(vectorizer, heldout_docs), 64, 64)
    loss = model.evaluate(heldout, verbose=0, return_dict=True)["loss"]
    bpc = loss / math.log(2)

    generator = RNNGenerator(model)
    generate = tf.function(generator.generate)
    banned = tf.constant([i in (0, BOS_ID) for i in range(vocab)])
    prompt_ids = left_padded_prompts(vectorizer, [PROMPT])
    arguments = (prompt_ids, tf.constant(NEW_TOKENS), tf.constant(1.0), tf.constant(0),
                 tf.constant(1.0), tf.constant(7), banned)
    generate(*arguments)  # trace once
    in_graph = statistics.median(timed(lambda: generate(*arguments)) for _ in range(5))
    classic = timed(lambda: classic_sampling(model, vectorizer, PROMPT, NEW_TOKENS))
    print(f"\n1. generation, {NEW_TOKENS} new characters")
    print(f"   seqzoo in-graph, states carried   {NEW_TOKENS / in_graph:10,.0f} tokens/s")
    print(f"   model.predict on growing prefix   {NEW_TOKENS / classic:10,.0f} tokens/s")
    print(f"   ratio {classic / in_graph:.0f}x (target >= 10x)")

    x = window_dataset(train_stream[: 64 * 64 * 40 + 1], 64, 64)  # 40 batches an epoch
    models = {"seqzoo.build('char_lm', 'small')": seqzoo.build("char_lm", preset="small",
                                                               vectorizer=vectorizer),
              "hand-written Keras LM": hand_written(vocab)}
    params = {name: m.count_params() for name, m in models.items()}
    assert len(set(params.values())) == 1, params
    for m in models.values():
        m.fit(x, epochs=1, verbose=0, shuffle=False)  # warm-up
    seconds = {name: [] for name in models}
    for _ in range(5):
        for name, m in models.items():
            seconds[name].append(timed(lambda m=m: m.fit(x, epochs=1, verbose=0, shuffle=False)))
    tokens = 64 * 64 * 40
    rates = {name: tokens / statistics.median(s) for name, s in seconds.items()}
    ours = rates["seqzoo.build('char_lm', 'small')"]
    print(f"\n2. training, {next(iter(params.values())):,} parameters each, median of 5 epochs")
    for name, rate in rates.items():
        print(f"   {name:34s} {rate:10,.0f} tokens/s   seqzoo / this = {ours / rate:.2f}")

    print(f"\n3. after {args.budget:.0f} s of training ({len(history.history['loss'])} epochs begun): "
          f"held-out bits per character {bpc:.3f}")



if __name__ == "__main__":
    main()
