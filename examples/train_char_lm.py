"""Train a character language model with plain Keras `fit`, then sample at three temperatures.

    python examples/train_char_lm.py [--data corpus.txt] [--epochs 5]

Default corpus: gensim's 300 Lee news articles (one a line; not valid UTF-8, read
with replacement). Every line starts with [BOS], so generation can start from nothing.
"""

import argparse
import math

import keras
import tensorflow as tf

import seqzoo
from seqzoo.data import read_documents, split_documents, window_dataset
from seqzoo.decoding import RNNGenerator
from seqzoo.tasks.language_model import BOS_ID, left_padded_prompts, lm_vectorizer, token_stream

parser = argparse.ArgumentParser()
parser.add_argument("--data", default=str(seqzoo.data.news_corpus()))
parser.add_argument("--epochs", type=int, default=5)
parser.add_argument("--preset", default="small", help="size preset: tiny, small, base")
args = parser.parse_args()

# 1. Text -> documents -> a seeded split -> characters (ids), [BOS] before each document.
train_docs, heldout_docs = split_documents(read_documents(args.data), 0.1, seed=42)
config = seqzoo.get_config("char_lm", preset=args.preset)
vectorizer = lm_vectorizer(config["text"], train_docs)
train = window_dataset(token_stream(vectorizer, train_docs), 64, 64, shuffle_seed=42)
heldout = window_dataset(token_stream(vectorizer, heldout_docs), 64, 64)
print(f"{len(train_docs)} training documents, {vectorizer.vocabulary_size()} characters")

# 2. Build and fit like any Keras model: inputs are ids, targets the next ids.
model = seqzoo.build("char_lm", preset=args.preset, vectorizer=vectorizer)
model.fit(train, validation_data=heldout, epochs=args.epochs,
          callbacks=[keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True)])
loss = model.evaluate(heldout, verbose=0, return_dict=True)["loss"]
print(f"held-out bits per character: {loss / math.log(2):.3f}")

# 3. Sample: the generator steps the trained cells and carries their states, in the graph.
generator = RNNGenerator(model)
generate = tf.function(generator.generate)
banned = tf.constant([i in (0, BOS_ID) for i in range(vectorizer.vocabulary_size())])
vocabulary = tf.constant(vectorizer.get_vocabulary())
prompt = "The minister"
for temperature in (0.2, 0.8, 1.2):
    ids = generate(left_padded_prompts(vectorizer, [prompt]), tf.constant(200),
                   tf.constant(temperature), tf.constant(0), tf.constant(1.0), tf.constant(7), banned)
    text = tf.strings.reduce_join(tf.gather(vocabulary, ids), axis=1)[0].numpy().decode()
    print(f"\n--- temperature {temperature}\n{prompt}{text}")
