"""Train your own vectors: gensim Word2Vec or FastText on a plain-text corpus."""

from __future__ import annotations

from pathlib import Path

from gensim.models import FastText, Word2Vec
from gensim.models.callbacks import CallbackAny2Vec
from gensim.utils import simple_preprocess

from seqzoo.data import read_lines
from seqzoo.errors import UserError, check_choice
from seqzoo.schema import size

ALGORITHMS = {"word2vec": Word2Vec, "fasttext": FastText}


class _EpochProgress(CallbackAny2Vec):
    """gensim's epochs on a Keras progress bar."""

    def __init__(self, epochs: int):
        import keras  # only here: loading vectors must not pay for importing TensorFlow

        self.bar = keras.utils.Progbar(epochs, unit_name="epoch", stateful_metrics=["loss"])
        self.done, self.loss_so_far = 0, 0.0

    def on_epoch_end(self, model):
        self.done += 1
        values = None
        if model.compute_loss:  # gensim's loss adds up over the epochs of one train() call
            values = [("loss", model.running_training_loss - self.loss_so_far)]
            self.loss_so_far = model.running_training_loss
        self.bar.update(self.done, values=values)


def corpus_sentences(path: str | Path) -> list[list[str]]:
    """One token list per non-empty line: lowercased words (gensim's simple_preprocess). A named
    word corpus (`ptb_word`) is its training file, its words as the file has them (`<unk>`, `N`,
    punctuation: the tokens a model trained on it looks up)."""
    from seqzoo.data.corpora import named_corpus

    corpus = named_corpus(path)
    if corpus is not None and corpus.unit != "token":
        raise UserError(f"{corpus.name} is {corpus.unit}-level text: word vectors train on words "
                        f"(e.g. ptb_word)")
    split = str.split if corpus is not None else simple_preprocess
    lines = read_lines(corpus.folder / "train.txt" if corpus is not None else path)
    sentences = [s for s in map(split, lines) if s]
    if not sentences:
        raise UserError(f"corpus '{path}' has no words")
    return sentences


def train_vectors(
    corpus: str | Path,
    algorithm: str = "word2vec",
    dim: int = 100,
    epochs: int = 10,
    window: int = 5,
    min_count: int = 2,
    seed: int = 0,
    verbose: bool = True,
):
    """Trains word vectors on a text file; returns the gensim model (its `.wv` are the vectors)."""
    check_choice("algorithm", algorithm, ALGORITHMS)
    for name, value in (("dim", dim), ("epochs", epochs), ("window", window), ("min_count", min_count)):
        size().check(name, value, what="")
    sentences = corpus_sentences(corpus)
    model = ALGORITHMS[algorithm](
        vector_size=dim, window=window, min_count=min_count, seed=seed, workers=2
    )
    model.build_vocab(sentences)
    if not model.wv.index_to_key:
        raise UserError(f"no word in '{corpus}' occurs min_count={min_count} times")
    model.train(
        sentences, total_examples=len(sentences), epochs=epochs,
        compute_loss=algorithm == "word2vec",  # gensim's FastText does not report a loss
        callbacks=[_EpochProgress(epochs)] if verbose else [],
    )
    return model
