"""The tiny texts as one token stream, in windows of 4 next-token pairs."""

import numpy as np

from seqzoo.tasks.language_model import BOS_ID, lm_meta, lm_vectorizer, prompt_row, token_stream
from tiny import PAGE_TEXTS, SUBMIT, TEXTS, Tiny, TinyTask, greedy_steps, per_step_shape


class LanguageModel(TinyTask):
    def data(self, config):
        texts = [t for t in TEXTS if t]
        vectorizer = lm_vectorizer(config["text"], texts)
        stream = token_stream(vectorizer, texts)
        count = (len(stream) - 1) // 4
        config["text"]["max_tokens"] = vectorizer.vocabulary_size()
        inputs, targets = stream[: count * 4].reshape(count, 4), stream[1 : count * 4 + 1].reshape(count, 4)
        return Tiny(vectorizer, inputs, targets, lm_meta(config, vectorizer))

    output_shape = staticmethod(per_step_shape)

    def page_refusals(self):
        return [(SUBMIT, ["input[type=number]", "0"], "New ")]

    def page_checks(self, interpreter, data):
        def greedy(p):
            return int(np.argmax(np.where(np.isin(np.arange(len(p)), [0, BOS_ID]), -1, p)))

        checks = []
        for text in PAGE_TEXTS:
            prompt = prompt_row(data.vectorizer, text)
            probabilities, ids = greedy_steps(interpreter, "token_ids", prompt, 6, greedy)
            checks += [("async t => ({probabilities: await seqzoo.probabilities(t)})", text,
                        {"probabilities": probabilities}),
                       ("t => seqzoo.generate(t, 6, 0, 1)", text, {"ids": ids})]
        return checks


TINY = LanguageModel()
