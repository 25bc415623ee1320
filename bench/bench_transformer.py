"""seqzoo's transformer encoder vs the Keras "text classification with transformer" example.

    python bench/bench_transformer.py [--rounds 400]

Both models are the same size (parameters printed; seqzoo's ff_dim is chosen to match)
and read the same padded token ids from gensim's Pang & Lee sentences. The reference
is the keras.io example as written: TokenAndPositionEmbedding, one TransformerBlock
(key_dim = embed_dim, ReLU feed-forward, post-norm), GlobalAveragePooling1D, Dropout,
Dense(20, relu), Dropout, Dense(2, softmax). Target: seqzoo / example >= 1.0 on
training and on inference tokens/s, as the median of paired rounds (one batch on each
model, timed back to back, `--rounds` times).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers, ops  # noqa: E402

import seqzoo  # noqa: E402
from seqzoo.text import Vectorizer  # noqa: E402

EMBED_DIM, HEADS, EXAMPLE_FF_DIM, MAXLEN = 32, 2, 32, 64


class TransformerBlock(layers.Layer):  # the keras.io example, as written there
    def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1):
        super().__init__()
        self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.ffn = keras.Sequential([layers.Dense(ff_dim, activation="relu"), layers.Dense(embed_dim)])
        self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
        self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
        self.dropout1 = layers.Dropout(rate)
        self.dropout2 = layers.Dropout(rate)

    def call(self, inputs):
        attn_output = self.att(inputs, inputs)
        out1 = self.layernorm1(inputs + self.dropout1(attn_output))
        return self.layernorm2(out1 + self.dropout2(self.ffn(out1)))


class TokenAndPositionEmbedding(layers.Layer):  # the keras.io example, as written there
    def __init__(self, maxlen, vocab_size, embed_dim):
        super().__init__()
        self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
        self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

    def call(self, x):
        positions = self.pos_emb(ops.arange(0, ops.shape(x)[-1], 1))
        return self.token_emb(x) + positions


def keras_example(vocab_size: int) -> keras.Model:
    inputs = layers.Input(shape=(None,), dtype="int32")
    x = TokenAndPositionEmbedding(MAXLEN, vocab_size, EMBED_DIM)(inputs)
    x = TransformerBlock(EMBED_DIM, HEADS, EXAMPLE_FF_DIM)(x)
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dropout(0.1)(x)
    x = layers.Dense(20, activation="relu")(x)
    x = layers.Dropout(0.1)(x)
    outputs = layers.Dense(2, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def matched_seqzoo(vocab_size: int, target: int) -> keras.Model:
    """seqzoo's transformer with the ff_dim that brings it nearest `target` parameters."""
    def build(ff_dim):
        return seqzoo.build("transformer", max_tokens=vocab_size, model_dim=EMBED_DIM, heads=HEADS,
                            layers=1, ff_dim=ff_dim, positions="learned", max_positions=MAXLEN)
    sizes = {ff: build(ff).count_params() for ff in (32, 64)}
    per_unit = (sizes[64] - sizes[32]) / 32
    return build(round(32 + (target - sizes[32]) / per_unit))


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=400)
    args = parser.parse_args()
    examples = seqzoo.data.read_labelled(seqzoo.data.sentiment_corpus())
    vectorizer = Vectorizer(max_length=MAXLEN).adapt(examples.texts)
    x = vectorizer(examples.texts * 8).numpy()
    y = np.array(examples.label_ids(examples.label_names) * 8)
    tokens = int((x != 0).sum())
    reference = keras_example(vectorizer.vocabulary_size())
    ours = matched_seqzoo(vectorizer.vocabulary_size(), reference.count_params())
    models = {"seqzoo transformer": ours, "keras.io example": reference}
    print(f"{len(x)} sentences, {tokens} tokens, padded to {x.shape[1]}; parameters: "
          + ", ".join(f"{name} {m.count_params():,}" for name, m in models.items()))
    for model in models.values():
        model.fit(x, y, batch_size=32, epochs=1, verbose=0)
        model.predict(x, batch_size=32, verbose=0)
    # Paired rounds: each round times one batch on both models back to back (in alternating
    # order), and the ratio is taken within the round; the median of many such ratios is
    # what is reported. On a shared 2-core machine the speed drifts by +-30% between
    # seconds and in bursts; a ratio of neighbours, taken hundreds of times, does not.
    batches = [slice(start, start + 32) for start in range(0, len(x) - 31, 32)]
    steps = {"training": lambda m, b: m.train_on_batch(x[b], y[b]),
             "inference": lambda m, b: m.predict_on_batch(x[b])}
    for label, step in steps.items():
        seconds = {name: [] for name in models}
        for index in range(args.rounds):
            batch = batches[index % len(batches)]
            order = list(models) if index % 2 else list(models)[::-1]
            for name in order:
                seconds[name].append(timed(lambda m=models[name], b=batch, step=step: step(m, b)))
        batch_tokens = np.array([int((x[batches[i % len(batches)]] != 0).sum())
                                 for i in range(args.rounds)])
        ratios = np.array(seconds["keras.io example"]) / np.array(seconds["seqzoo transformer"])
        rates = {name: np.median(batch_tokens / np.array(s)) for name, s in seconds.items()}
        low, high = np.percentile(ratios, [25, 75])
        print(f"{label:9s} " + "   ".join(f"{n}: {r:,.0f} tokens/s" for n, r in rates.items())
              + f"   seqzoo / example = {np.median(ratios):.2f} (quartiles {low:.2f}-{high:.2f}, "
              f"{args.rounds} paired batches; target >= 1.0)")


if __name__ == "__main__":
    main()
