"""Each word tagged by its length: learnable from the embedding alone."""

import numpy as np

from seqzoo.text import Vectorizer
from tiny import PAGE_TEXTS, TEXTS, Tiny, TinyTask, padded_ids, per_step_shape


class Tagging(TinyTask):
    def data(self, config):
        vectorizer = Vectorizer(**config["text"]).adapt(TEXTS)
        ids = vectorizer(TEXTS).numpy()
        tags = np.zeros_like(ids)
        for row, tokens in enumerate(vectorizer.tokenize(TEXTS).to_list()):
            tags[row, : len(tokens)] = [len(token) > 4 for token in tokens]
        spare = [f"unused{i}" for i in range(config["model"]["num_tags"] - 2)]
        return Tiny(vectorizer, ids, tags, {"tags": ["short", "long", *spare]})

    output_shape = staticmethod(per_step_shape)

    def page_checks(self, interpreter, data):
        tag = interpreter.get_signature_runner("serving_default")
        checks = []
        for text in PAGE_TEXTS:
            tokens = min(len(data.vectorizer.lookup([text]).to_list()[0]), data.vectorizer.max_length)
            probabilities = tag(token_ids=padded_ids(data.vectorizer, text))["probabilities"][0, :tokens]
            checks.append(("t => seqzoo.tag(t)", text, {"probabilities": probabilities}))
        return checks


TINY = Tagging()
