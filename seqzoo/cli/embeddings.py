"""`seqzoo embeddings`: pretrained word vectors: info, eval, train, convert."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_commands(commands) -> None:
    """embeddings info | eval | train | convert"""
    group = commands.add_parser("embeddings", help="pretrained word vectors: info, eval, train, convert")
    sub = group.add_subparsers(dest="embeddings_command", required=True, metavar="COMMAND")

    command = sub.add_parser("info", help="format, words, dimension, duplicates, cache state")
    add_vector_file_options(command)
    command.set_defaults(run=_embeddings_info)

    command = sub.add_parser("eval", help="WordSim-353 / SimLex-999 Spearman, analogy accuracy")
    add_vector_file_options(command)
    command.set_defaults(run=_embeddings_eval)

    command = sub.add_parser("train", help="train word2vec or fastText vectors on a text corpus")
    command.add_argument("corpus", nargs="?", help="plain text, a sentence or document a line, or "
                         "ptb_word (default: gensim's lee_background.cor news articles)")
    command.add_argument("--out", required=True, help=".vec/.txt (word2vec text), .bin, .npy "
                         "(a folder) or .kv (gensim's format)")
    command.add_argument("--algo", default="word2vec", choices=["word2vec", "fasttext"])
    command.add_argument("--dim", type=int, default=100)
    command.add_argument("--epochs", type=int, default=10)
    command.add_argument("--min-count", type=int, default=2)
    command.set_defaults(run=_embeddings_train)

    command = sub.add_parser("convert", help="write vectors in another format")
    add_vector_file_options(command)
    command.add_argument("--to", required=True, choices=["word2vec_bin", "word2vec_text", "npy"])
    command.add_argument("--out", help="output path (default: PATH with the new suffix)")
    command.set_defaults(run=_embeddings_convert)


def add_vector_file_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("path")
    command.add_argument("--format", default="auto", help="auto, glove, word2vec_text, "
                         "word2vec_bin, fasttext_bin, gensim, npy")
    command.add_argument("--trusted", action="store_true",
                         help="allow gensim's own (pickle) format: only for files you made")


def _embeddings_info(args) -> None:
    from seqzoo.embeddings import describe

    for key, value in describe(args.path, args.format, args.trusted).items():
        print(f"{key:20s} {value}")


def _embeddings_eval(args) -> None:
    from seqzoo.embeddings import evaluate, load

    results = evaluate(load(args.path, args.format, trusted=args.trusted))
    for name in ("wordsim353", "simlex999"):
        r = results[name]
        if r["spearman"] is None:
            print(f"{name:12s} no score: every pair has a word the vectors lack")
            continue
        print(f"{name:12s} Spearman {r['spearman']:.3f}  ({r['pairs_oov_percent']:.1f}% of pairs OOV)")
    a = results["analogies"]
    if a["accuracy"] is None:
        print(f"{'analogies':12s} no score: every question has a word the vectors lack")
    else:
        print(f"{'analogies':12s} accuracy {a['accuracy']:.3f}  "
              f"({a['questions_answered']} questions answered)")


def _embeddings_train(args) -> None:
    from seqzoo.data import news_corpus
    from seqzoo.embeddings import train_vectors, write_vectors
    from seqzoo.embeddings.writing import target_for_suffix

    model = train_vectors(args.corpus or news_corpus(), args.algo, dim=args.dim,
                          epochs=args.epochs, min_count=args.min_count)
    out = write_vectors(model.wv, args.out, target_for_suffix(args.out))
    print(f"wrote {len(model.wv.index_to_key)} words x {model.wv.vector_size} to {out}")


def _embeddings_convert(args) -> None:
    from seqzoo.embeddings import load, write_vectors

    suffix = {"word2vec_bin": ".bin", "word2vec_text": ".vec", "npy": ".npy"}[args.to]
    out = args.out or Path(args.path).with_suffix(suffix)
    write_vectors(load(args.path, args.format, trusted=args.trusted), out, args.to)
    print(f"wrote {out}")
