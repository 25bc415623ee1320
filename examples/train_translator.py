"""Train seq2seq_attn with plain Keras `fit` on the date task, export it, and translate.

    python examples/train_translator.py [--data pairs.tsv] [--epochs 4]

Data: `source<TAB>target` per line (Anki / Tatoeba layout). Default: the offline date
task, dates written in many formats and locales -> ISO 8601.
"""

import argparse

import keras

import seqzoo
from seqzoo.data.translation import dates_corpus, read_pairs
from seqzoo.exporters import ExportedModel
from seqzoo.tasks.translation import pair_dataset, target_vectorizer, translation_meta
from seqzoo.text import Vectorizer

parser = argparse.ArgumentParser()
parser.add_argument("--data", default=str(dates_corpus() / "train.tsv"))
parser.add_argument("--epochs", type=int, default=4)
parser.add_argument("--preset", default="small", help="size preset: tiny, small, base")
args = parser.parse_args()

# 1. Read the pairs and hold one in twenty out.
config = seqzoo.get_config("seq2seq_attn", preset=args.preset)
pairs = read_pairs(args.data)
cut = max(1, len(pairs) // 20)
heldout, train = pairs.subset(range(cut)), pairs.subset(range(cut, len(pairs)))

# 2. A vocabulary per side; the target's starts with [START] and [END]. Batches are
#    ((source ids, [START] + target ids), target ids + [END]): teacher forcing.
source = Vectorizer(**config["text"]).adapt(train.sources)
target = target_vectorizer(config["target"], train.targets)
train_data = pair_dataset(train, source, target, batch_size=64, shuffle_seed=42)
heldout_data = pair_dataset(heldout, source, target, batch_size=64)

# 3. Build the zoo model for these vocabularies and fit it like any Keras model.
model = seqzoo.build("seq2seq_attn", preset=args.preset, vectorizer=source,
                     target_vocab_size=target.vocabulary_size())
model.fit(train_data, validation_data=heldout_data, epochs=args.epochs,
          callbacks=[keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True)])

# 4. Export (SavedModel: strings in, translations out, search in the graph; .tflite; card).
config["model"]["target_vocab_size"] = target.vocabulary_size()
path = seqzoo.export(model, source, name="seq2seq_attn", meta=translation_meta(config, target),
                     heldout_texts=heldout.sources[:16])
for row in ExportedModel(path).translate(["3rd of March, 2021", "le 14 juillet 1989"], beam_width=4):
    print(f"{row['text']!r} -> {row['translation']!r}")
