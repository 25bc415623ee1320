"""Each text's words reversed: a task an encoder-decoder can start on."""

import numpy as np

from seqzoo.data.translation import ParallelTexts
from seqzoo.tasks.encoder_decoder import START_ID, target_vectorizer
from seqzoo.tasks.translation import pair_dataset, translation_meta
from seqzoo.text import Vectorizer
from tiny import TEXTS, Tiny, TinyTask

TARGET_STEPS = 5


class Translation(TinyTask):
    def data(self, config):
        source = Vectorizer(**config["text"]).adapt(TEXTS)
        targets = [" ".join(reversed(t.split())) or "nothing" for t in TEXTS]
        target = target_vectorizer(config["target"], targets)
        pairs = ParallelTexts(TEXTS, targets, list(range(1, len(TEXTS) + 1)))
        (source_ids, decoder_in), decoder_out = next(iter(pair_dataset(pairs, source, target, len(TEXTS))))
        return Tiny(source, [source_ids.numpy(), decoder_in.numpy()], decoder_out.numpy(),
                    translation_meta(config, target))

    def forward_inputs(self, ids, model):
        return [ids, np.full((len(ids), TARGET_STEPS), START_ID, np.int32)]

    def output_shape(self, batch, length, model):
        return (batch, TARGET_STEPS, model.output_shape[-1])  # an output per target step


TINY = Translation()
