"""The tiny texts as one token stream, in windows of 4 next-token pairs."""

from seqzoo.tasks.language_model import lm_meta, lm_vectorizer, token_stream
from tiny import TEXTS, Tiny, TinyTask, per_step_shape


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


TINY = LanguageModel()
