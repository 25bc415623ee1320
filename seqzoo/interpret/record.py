"""Every cell's activation at every character: an LM's layers stepped over a text, their
states carried from one chunk to the next (the export's `step`, run as a loop in the graph)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import tensorflow as tf

from seqzoo.decoding import generator_for
from seqzoo.errors import UserError
from seqzoo.registry import get_entry

CHUNK = 256  # characters a graph call steps through
BATCH = 16  # documents stepped side by side (sorted by length, so little is padding)


class CellRecorder:
    """Records a character LM's cells, one value a character: for an LSTM the cell state c (as
    tanh(c), the value its output reads, in -1..1) and the output h of every layer (`c<layer>`,
    `h<layer>`, layers from 1), for a GRU or simple RNN h, for a TCN each residual block's output
    channels and for a transformer each block's output (`b<block>`). A cell is `GROUP:INDEX`, e.g.
    `c2:117`.
    """

    def __init__(self, run):
        entry = get_entry(run.name)
        if entry.task != "language_model":
            raise UserError(f"cells reads a language model's run; '{run.path}' is a {run.name} run "
                            f"({entry.task})")
        if run.meta.get("unit") != "character":
            raise UserError(f"cells reads character-level models (a cell's value is drawn on each "
                            f"character); '{run.path}' is a {run.name} run over {run.meta.get('unit')}s")
        generator = generator_for(run.model, run.meta["context"])
        groups = generator.recorded_groups()
        if groups is None:
            raise UserError(f"'{run.path}' is a {run.name} run, whose cells are not recorded yet")
        self.generator, self.vectorizer, self.groups = generator, run.vectorizer, groups
        self.width = sum(size for _, size in self.groups)
        self.oov = 0

    def slices(self) -> dict[str, slice]:
        """Where each group's units sit in a recorded row."""
        out, start = {}, 0
        for name, size in self.groups:
            out[name] = slice(start, start + size)
            start += size
        return out

    def cell(self, text: str) -> tuple[str, int]:
        """`GROUP:INDEX` (or `LAYER:INDEX`: the layer's c for an LSTM, h for a GRU, the block's
        channels for a TCN) -> (group, index); UserError naming the cells there are."""
        names = dict(self.groups)
        group, _, index = text.partition(":")
        if group.isdigit():
            group = next((g + group for g in "cbh" if g + group in names), group)
        there = ", ".join(f"{name}:0..{size - 1}" for name, size in self.groups)
        if group not in names or not index.strip().isdigit():
            raise UserError(f"--cell {text!r} names no cell: cells are {there}")
        if int(index) >= names[group]:
            raise UserError(f"--cell {text!r} is out of range: {group} has {names[group]} cells "
                            f"({group}:0..{names[group] - 1})")
        return group, int(index)

    def ids(self, text: str) -> np.ndarray:
        """[BOS] + one id a character; characters outside the vocabulary are counted (`oov`)."""
        from seqzoo.tasks.language_model import BOS_ID

        ids = self.vectorizer.lookup([text]).flat_values.numpy()
        if len(ids) != len(text):  # a character the graph splits otherwise (a lone surrogate)
            raise UserError("the text holds characters that are not valid Unicode")
        self.oov += int(np.sum(ids == 1))
        return np.concatenate([[BOS_ID], ids]).astype(np.int32)

    def record(self, texts: list[str]) -> Iterator[tuple[int, int, np.ndarray]]:
        """(text's index, first character, activations float32 [characters, width]) pieces, in order
        within each text; texts stepped BATCH at a time, longest first, states carried over chunks."""
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for first in range(0, len(order), BATCH):
            batch = order[first : first + BATCH]
            rows = [self.ids(texts[i]) for i in batch]
            longest = max(len(row) for row in rows)
            ids = np.zeros((len(rows), -(-longest // CHUNK) * CHUNK), np.int32)
            for r, row in enumerate(rows):
                ids[r, : len(row)] = row
            states = self.generator.initial_states(len(rows))
            for start in range(0, longest, CHUNK):
                values, states = self._chunk(tf.constant(ids[:, start : start + CHUNK]), states)
                values = values.numpy()
                for r, i in enumerate(batch):
                    # Step t read id t: [BOS] at 0, character t - 1 after it.
                    lo, hi = max(start, 1), min(start + CHUNK, len(rows[r]))
                    if lo < hi:
                        yield i, lo - 1, values[r, lo - start : hi - start]

    @tf.function(reduce_retracing=True)
    def _chunk(self, ids: tf.Tensor, states: list[tf.Tensor]):
        steps = tf.shape(ids)[1]

        def body(t, states, recorded):
            values, states = self.generator.recorded_step(ids[:, t], states)
            return t + 1, states, recorded.write(t, tf.concat(values, axis=-1))

        recorded = tf.TensorArray(tf.float32, size=steps)
        _, states, recorded = tf.while_loop(lambda t, *_: t < steps, body, (0, list(states), recorded))
        return tf.transpose(recorded.stack(), [1, 0, 2]), states
