"""Sentiment-like labels of the tiny texts."""

import numpy as np

from seqzoo.text import Vectorizer
from tiny import TEXTS, Tiny, TinyTask

LABELS = np.array([1, 0, 1, 0, 1, 0, 0, 1])


class Classification(TinyTask):
    def data(self, config):
        vectorizer = Vectorizer(**config["text"]).adapt(TEXTS)
        return Tiny(vectorizer, vectorizer(TEXTS).numpy(), LABELS, {"labels": ["neg", "pos"]})


TINY = Classification()
