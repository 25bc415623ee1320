"""Does starting from pretrained word vectors help? The demo corpus, with and without them.

    python examples/pretrained_embeddings.py [--seeds 3] [--trainable frozen|full|oov_only] [--epochs 30]

Trains the `sentiment` entry on gensim's 200 Pang & Lee sentences three ways and
prints held-out accuracy (mean over seeds; each seed is its own train/validation split):
  scratch     embeddings learned from the 160 training sentences alone
  lee word2vec  vectors trained here with `seqzoo embeddings train` on gensim's
              300 Lee news articles (another corpus, no labels)
  pang_lee fastText  gensim's pang_lee_polarity_fasttext.vec: vectors trained on these very
              sentences, so they have seen the held-out texts (not their labels)
"""

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from gensim.test.utils import datapath

import seqzoo
from seqzoo import embeddings

parser = argparse.ArgumentParser()
parser.add_argument("--seeds", type=int, default=3)
parser.add_argument("--trainable", default="frozen", choices=["frozen", "full", "oov_only"])
parser.add_argument("--epochs", type=int, default=30)
parser.add_argument("--preset", default="small", help="size preset: tiny, small, base")
args = parser.parse_args()

with tempfile.TemporaryDirectory() as tmp:
    news_vectors = Path(tmp) / "lee_word2vec.vec"
    model = embeddings.train_vectors(seqzoo.data.news_corpus(), dim=100, epochs=20)
    embeddings.write_vectors(model.wv, news_vectors, "word2vec_text")

    variants = {
        "scratch": None,
        "lee word2vec": str(news_vectors),
        "pang_lee fastText": datapath("pang_lee_polarity_fasttext.vec"),
    }
    results = {}
    for name, path in variants.items():
        accuracies = []
        for seed in range(args.seeds):
            overrides = {"seed": seed, "dim": 100, "units": 32, "pooling": "mean", "epochs": args.epochs,
                         "patience": 5}
            if path:
                overrides["embeddings"] = {"path": path, "trainable": args.trainable}
            run = seqzoo.train("sentiment", preset=args.preset, overrides=overrides,
                               out=Path(tmp) / f"{name}-{seed}", verbose=0)
            accuracies.append(json.loads((run / "run.json").read_text())["metrics"]["val_accuracy"])
        results[name] = accuracies

print(f"\nheld-out accuracy, sentiment entry, {args.seeds} seeds, pretrained rows {args.trainable}:")
for name, accuracies in results.items():
    print(f"  {name:20s} {statistics.mean(accuracies):.3f}  ({', '.join(f'{a:.3f}' for a in accuracies)})")
