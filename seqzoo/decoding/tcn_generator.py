"""Generation from a causal convolutional model, streaming: a cache per convolution, no
re-computation. `tcn_lm` and `tcn_music` step their TCN; `wavenet` its WaveNet."""

from __future__ import annotations

import keras
import tensorflow as tf

from seqzoo.decoding.generator import Generator, frame_or_embedding


class TCNGenerator(Generator):
    """Steps a trained `tcn_lm` one token at a time (or `tcn_music` one frame at a time), feeding
    each prediction back (WaveNet's fast generation).

    The state is one cache per dilated convolution, `cache_<i>`: its last
    (k - 1) * d inputs. A step costs one column of work per convolution; the layers after
    the streaming one (the head, up to `probabilities`) run on that column as they are.

    Example:
    ```python
    tokens = TCNGenerator(model).generate(prompt_ids, 100, 0.8, 0, 0.9, seed=7)
    ```
    """

    stream = "tcn"  # the name of the layer that streams (`step`, `convs`)

    def __init__(self, model: keras.Model):
        self.model = model
        self.embed = self.reader(model)
        self.layer = model.get_layer(self.stream)
        self.head = model.layers[model.layers.index(self.layer) + 1:]
        self.vocab_size = model.output_shape[-1]

    def reader(self, model: keras.Model):
        """What a step feeds the streaming layer (see `frame_or_embedding`)."""
        return frame_or_embedding(self, model)

    def state_specs(self) -> list[tuple[str, list[int], tf.DType]]:
        return [(f"cache_{i}", [conv.history, conv.v.shape[1]], tf.float32)
                for i, conv in enumerate(self.layer.convs)]

    def step(self, inputs, states):
        x, caches = self.layer.step(self.embed(inputs), list(states))
        return self._head(x), caches

    def recorded_groups(self) -> list[tuple[str, int]]:
        """b<block>: each residual block's output channels (after its activation)."""
        return [(f"b{i}", self.layer.filters) for i in range(1, len(self.layer.blocks) + 1)]

    def recorded_step(self, inputs, states):
        return self.layer.step_blocks(self.embed(inputs), list(states))

    def _head(self, x):
        """The layers after the streaming one, on its output for one step."""
        for layer in self.head:
            x = layer(x)
        return x


class WaveNetGenerator(TCNGenerator):
    """Steps a trained `wavenet` one mu-law code at a time; every code is a sample (no padding).
    A prompt (priming audio) is read in one parallel pass (`WaveNet.prefill`), not a step per sample."""

    stream = "wavenet"
    id_name = "code"
    pads = False

    def reader(self, model: keras.Model):
        return lambda codes: codes  # the WaveNet layer reads codes itself

    def recorded_groups(self):
        return None  # not a text model: `seqzoo cells` reads characters

    def state_specs(self):
        """The caches, and for a speaker-conditioned WaveNet the speaker id [batch] (int32), a state fed
        back unchanged: one `step` signature serves every voice."""
        speaker = [("speaker", [], tf.int32)] if self.layer.speakers else []
        return super().state_specs() + speaker

    def step(self, inputs, states):
        if not self.layer.speakers:
            return super().step(inputs, states)
        *caches, speaker = states
        x, caches = self.layer.step(inputs, caches, speaker)
        return self._head(x), caches + [speaker]

    def prefill(self, prompt_ids, speaker=None):
        """A prompt's codes [batch, time] (and a conditioned network's speaker ids [batch]) read in one
        pass -> the next sample's probabilities and the states."""
        outputs, caches = self.layer.prefill(prompt_ids, speaker)
        return self._head(outputs[:, -1]), caches + ([speaker] if self.layer.speakers else [])
