"""Generation from a TCN language model, streaming: a cache per convolution, no re-computation."""

from __future__ import annotations

import keras
import tensorflow as tf

from seqzoo.decoding.generator import Generator, frame_or_embedding


class TCNGenerator(Generator):
    """Steps a trained `tcn_lm` one token at a time (or `tcn_music` one frame at a time), feeding
    each prediction back (WaveNet).

    The state is one cache per dilated convolution, `cache_<i>`: its last
    (k - 1) * d inputs. A step costs one column of work per convolution.

    Example:
    ```python
    tokens = TCNGenerator(model).generate(prompt_ids, 100, 0.8, 0, 0.9, seed=7)
    ```
    """

    def __init__(self, model: keras.Model):
        self.model = model
        self.embed = frame_or_embedding(self, model)
        self.tcn = model.get_layer("tcn")
        self.logits = model.get_layer("logits")
        self.probabilities = model.get_layer("probabilities")
        self.vocab_size = model.output_shape[-1]

    def state_specs(self) -> list[tuple[str, list[int], tf.DType]]:
        convs = [conv for block in self.tcn.blocks for conv in block["convs"]]
        return [(f"cache_{i}", [conv.history, conv.v.shape[1]], tf.float32) for i, conv in enumerate(convs)]

    def step(self, inputs, states):
        x, caches = self.tcn.step(self.embed(inputs), list(states))
        return self.probabilities(self.logits(x)), caches
