"""Train the sentiment RNN with plain Keras `fit`, then export it for TF Serving and LiteRT.

    python examples/train_sentiment.py [--data reviews.txt] [--epochs 15] [--preset small]

Data: fastText-label lines (`__label__pos a gorgeous film`), a CSV/TSV with
`text` and `label` columns, or an aclImdb folder. Default: the 200 Pang & Lee
movie-review sentences that gensim ships.
"""

import argparse

import keras
import numpy as np

import seqzoo
from seqzoo.text import Vectorizer

parser = argparse.ArgumentParser()
parser.add_argument("--data", default=str(seqzoo.data.sentiment_corpus()))
parser.add_argument("--epochs", type=int, default=15)
parser.add_argument("--preset", default="small", help="size preset: tiny, small, base")
args = parser.parse_args()

# 1. Load labelled texts and hold some out.
examples = seqzoo.data.read_labelled(args.data)
train, heldout = examples.split(validation_fraction=0.2, seed=42)
labels = train.label_names
print(f"{len(train)} training and {len(heldout)} held-out texts, labels {labels}")

# 2. Learn the vocabulary; the vectorizer turns strings into ids (0 = padding, 1 = OOV).
config = seqzoo.get_config("sentiment", preset=args.preset)
vectorizer = Vectorizer(**config["text"]).adapt(train.texts)
x_train, y_train = vectorizer(train.texts), np.array(train.label_ids(labels))
x_heldout, y_heldout = vectorizer(heldout.texts), np.array(heldout.label_ids(labels))

# 3. Build the zoo model, sized to the vocabulary, and fit it like any Keras model.
model = seqzoo.build("sentiment", preset=args.preset, max_tokens=vectorizer.vocabulary_size(),
                     num_classes=len(labels))
model.summary()
model.fit(
    x_train, y_train, validation_data=(x_heldout, y_heldout), epochs=args.epochs, batch_size=16,
    callbacks=[keras.callbacks.EarlyStopping(patience=4, restore_best_weights=True)],
)
loss, accuracy = model.evaluate(x_heldout, y_heldout, verbose=0)
print(f"held-out accuracy {accuracy:.3f}")

# 4. Export: SavedModel (strings in) + .tflite + model card, in saved_models/sentiment/<n>/.
path = seqzoo.export(model, vectorizer, name="sentiment", labels=labels,
                     metrics={"val_accuracy": accuracy}, heldout_texts=heldout.texts)
print(f"exported to {path}")
