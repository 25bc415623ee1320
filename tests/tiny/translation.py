"""Each text's words reversed: a task an encoder-decoder can start on."""

import numpy as np

from seqzoo.data.translation import ParallelTexts
from seqzoo.tasks.encoder_decoder import START_ID, target_vectorizer
from seqzoo.tasks.translation import pair_dataset, translation_meta
from seqzoo.text import Vectorizer
from tiny import PAGE_TEXTS, TEXTS, Tiny, TinyTask, padded_ids

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

    def page_checks(self, interpreter, data):
        translate = interpreter.get_signature_runner("translate")
        checks = []
        for text in PAGE_TEXTS:
            out = translate(token_ids=padded_ids(data.vectorizer, text), beam_width=np.int32(2))
            steps = int(np.count_nonzero(out["token_ids"][0]))
            expected = {"token_ids": out["token_ids"][0], "score": out["score"][0]}
            if "attention" in out:  # where the entry attends
                source = len(data.vectorizer.lookup([text]).to_list()[0])
                expected["attention"] = out["attention"][0, :steps, :source]
            checks.append(("([t, b]) => seqzoo.translate(t, b)", [text, 2], expected))
        return checks


TINY = Translation()
