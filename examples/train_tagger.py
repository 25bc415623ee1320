"""Train the BiLSTM tagger with plain Keras `fit`, export it, and restore punctuation.

    python examples/train_tagger.py [--data tagged.conll] [--epochs 8]

Data: a column file, `token<TAB>tag` per line and a blank line between
sentences (CoNLL style). Default: punctuation and capitalisation restoration on
gensim's Lee news articles (each lowercase word tagged with its case and the
mark that followed it).
"""

import argparse

import keras

import seqzoo
from seqzoo.data.tagging import read_conll, restoration_corpus
from seqzoo.exporters import ExportedModel
from seqzoo.tasks.tagging import tagged_dataset
from seqzoo.text import Vectorizer

parser = argparse.ArgumentParser()
parser.add_argument("--data", default=str(restoration_corpus()))
parser.add_argument("--epochs", type=int, default=8)
parser.add_argument("--preset", default="small", help="size preset: tiny, small, base")
args = parser.parse_args()

# 1. Read the tagged sentences and hold one in ten out.
config = seqzoo.get_config("bilstm_tagger", preset=args.preset)
sentences = read_conll(args.data).chunked(config["text"]["max_length"])
cut = len(sentences) // 10
heldout = type(sentences)(sentences.tokens[:cut], sentences.tags[:cut])
train = type(sentences)(sentences.tokens[cut:], sentences.tags[cut:])
tags = train.tag_names
print(f"{len(train)} training and {len(heldout)} held-out sentences, {len(tags)} tags: {tags}")

# 2. Learn the vocabulary; pad each batch (the model masks the padding out of loss and metrics).
vectorizer = Vectorizer(**config["text"]).adapt(train.texts())
train_data = tagged_dataset(train, tags, vectorizer, batch_size=32, shuffle_seed=42)
heldout_data = tagged_dataset(heldout, tags, vectorizer, batch_size=32)

# 3. Build the zoo model, sized to the vocabulary and the tags, and fit it like any Keras model.
model = seqzoo.build("bilstm_tagger", preset=args.preset, vectorizer=vectorizer, num_tags=len(tags))
model.fit(train_data, validation_data=heldout_data, epochs=args.epochs,
          callbacks=[keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True)])

# 4. Export (SavedModel: text in, tags and tokens out; .tflite; card) and tag a new sentence.
path = seqzoo.export(model, vectorizer, name="bilstm_tagger", meta={"tags": tags},
                     heldout_texts=heldout.texts()[:16])
for row in ExportedModel(path).tag(["the prime minister said on tuesday that the fire was out"]):
    print(row.get("restored") or list(zip(row["tokens"], row["tags"], strict=True)))
