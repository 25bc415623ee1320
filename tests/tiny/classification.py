"""Sentiment-like labels of the tiny texts."""

import numpy as np

from seqzoo.text import Vectorizer
from tiny import PAGE_TEXTS, TEXTS, Tiny, TinyTask, padded_ids

LABELS = np.array([1, 0, 1, 0, 1, 0, 0, 1])


class Classification(TinyTask):
    def data(self, config):
        vectorizer = Vectorizer(**config["text"]).adapt(TEXTS)
        return Tiny(vectorizer, vectorizer(TEXTS).numpy(), LABELS, {"labels": ["neg", "pos"]})

    def page_checks(self, interpreter, data):
        classify = interpreter.get_signature_runner("serving_default")
        return [("t => seqzoo.classify(t)", text,
                 {"probabilities": classify(token_ids=padded_ids(data.vectorizer, text))["probabilities"][0]})
                for text in PAGE_TEXTS]


TINY = Classification()
