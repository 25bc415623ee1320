"""Each word tagged by its length: learnable from the embedding alone."""

import numpy as np

from seqzoo.text import Vectorizer
from tiny import TEXTS, Tiny, TinyTask, per_step_shape


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


TINY = Tagging()
