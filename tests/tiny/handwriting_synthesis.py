"""The prediction network's four lines, with their texts: the window learns which letter is drawn."""

import numpy as np

from seqzoo.data.handwriting import Alphabet
from seqzoo.tasks import get_task
from seqzoo.text import string_tensor
from tiny import SUBMIT, Tiny
from tiny.handwriting_prediction import TEXTS, HandwritingPrediction, greedy_writing, lines, network_inputs


class HandwritingSynthesis(HandwritingPrediction):
    task = "handwriting_synthesis"

    def data(self, config):
        written = lines()
        scale, alphabet = [2.5, 2.5], Alphabet.of(TEXTS)
        before, points = network_inputs(written, scale)
        chars = np.zeros((len(TEXTS), max(map(len, TEXTS))), np.int32)
        for i, text in enumerate(TEXTS):
            chars[i, : len(text)] = alphabet.ids(text)
        task = get_task(self.task)
        meta = task.meta(config, alphabet, scale, {})
        return Tiny(None, (before, chars), points, meta, served=task.parity_inputs(TEXTS), heldout=TEXTS)

    def forward_inputs(self, ids, model):
        return [super().forward_inputs(ids, model), (ids % 7).astype("int32")]

    def served_from(self, items):
        return string_tensor(items)

    def page_refusals(self):
        return [(SUBMIT, ["input[type=text]", "zzz"], "Type a text to write: none of its characters")]

    def page_checks(self, interpreter, data):
        alphabet = Alphabet(data.meta["alphabet"])
        return [("t => seqzoo.write(t, 0, 1, 15, true)", text,
                 {"points": greedy_writing(interpreter, data.meta, alphabet.ids(text), 15)})
                for text in TEXTS[:2]]


TINY = HandwritingSynthesis()
