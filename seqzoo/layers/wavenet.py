"""WaveNet (van den Oord et al. 2016): gated dilated causal convolutions over mu-law codes, with
the TCN's streaming step."""

from __future__ import annotations

import keras
from keras import ops

from seqzoo.errors import UserError
from seqzoo.layers.tcn import DilatedConv, zero_caches

QUANTIZATION_CHANNELS = 256  # mu-law with mu = 255: the classes a sample is one of


def receptive_field(dilations, stacks: int = 1, kernel_size: int = 2, **_) -> int:
    """Samples each WaveNet output sees: the input convolution's 2, plus (k - 1) * d per block.
    Takes the `wavenet` config block as it is."""
    return 2 + (kernel_size - 1) * stacks * sum(dilations)


@keras.saving.register_keras_serializable(package="seqzoo")
class WaveNet(keras.layers.Layer):
    """Mu-law codes [batch, time] -> the summed, rectified skip outputs [batch, time, skip_channels].

    A causal input convolution over the one-hot codes, then one residual block per dilation (per
    stack): a dilated causal convolution giving a filter and a gate, the gated activation
    z = tanh(W_f * x) . sigmoid(W_g * x), a 1x1 convolution of z added to the block's input (the
    residual; the last block has none) and another taken out (the skip). The output is
    ReLU(sum of the skips); the model's head (1x1 -> ReLU -> 1x1 -> softmax over the 256 levels)
    follows it.

    The convolutions are the TCN's `DilatedConv`, so `step` streams the same way: one sample in,
    one column of work per convolution, each carrying its last (k - 1) * d inputs.

    Global conditioning (van den Oord et al. 2016, section 2.5), when `speakers` > 0: a learned
    embedding h of the speaker id is added inside every gate, z = tanh(W_f * x + V_f h) .
    sigmoid(W_g * x + V_g h), so one network speaks in each voice it was trained on.

    Args:
        dilations: list of int. One residual block per dilation, per stack.
        stacks: int. How many times the dilations repeat.
        kernel_size: int. Taps of each dilated convolution (2 in the paper).
        residual_channels: int. Channels of the residual path.
        dilation_channels: int. Channels of the filter and of the gate.
        skip_channels: int. Channels of each skip output (and of the result).
        speakers: int. Speaker ids the network is conditioned on (0: none).
        speaker_dim: int. Size of the speaker embedding.

    Example:
    ```python
    layer = WaveNet(dilations=[1, 2, 4, 8, 16, 32, 64, 128, 256, 512], stacks=2)
    layer.receptive_field  # 2 + 1 * 2 * 1023 = 2048 samples
    ```
    """

    def __init__(self, dilations=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512), stacks: int = 1,
                 kernel_size: int = 2, residual_channels: int = 32, dilation_channels: int = 32,
                 skip_channels: int = 64, speakers: int = 0, speaker_dim: int = 16, **kwargs):
        super().__init__(**kwargs)
        if kernel_size < 2 or stacks < 1 or not dilations or min(dilations) < 1:
            raise UserError(f"kernel_size must be at least 2, and stacks and every dilation at least 1, "
                            f"got {kernel_size}, {stacks}, {list(dilations)}")
        # === Config ===
        self.dilations = list(dilations)
        self.stacks = stacks
        self.kernel_size = kernel_size
        self.residual_channels = residual_channels
        self.dilation_channels = dilation_channels
        self.skip_channels = skip_channels
        self.speakers = speakers
        self.speaker_dim = speaker_dim

    @property
    def receptive_field(self) -> int:
        """Samples each output sees (see `receptive_field`)."""
        return receptive_field(self.dilations, self.stacks, self.kernel_size)

    def build(self, input_shape):
        # === Layers ===
        self.input_conv = DilatedConv(self.residual_channels, 2, 1, name="input_conv")
        self.input_conv.build((None, None, QUANTIZATION_CHANNELS))
        self.blocks = []
        for index, dilation in enumerate(self.dilations * self.stacks):
            gated = DilatedConv(2 * self.dilation_channels, self.kernel_size, dilation,
                                name=f"block_{index}_conv")
            gated.build((None, None, self.residual_channels))
            block = {"conv": gated,
                     "skip": keras.layers.Dense(self.skip_channels, name=f"block_{index}_skip")}
            if index < len(self.dilations) * self.stacks - 1:  # the last block's residual would feed nothing
                block["residual"] = keras.layers.Dense(self.residual_channels, name=f"block_{index}_residual")
            for dense in (block["skip"], block.get("residual")):
                if dense is not None:
                    dense.build((None, None, self.dilation_channels))
            if self.speakers:  # V_f h and V_g h, added to the filter and the gate
                block["condition"] = keras.layers.Dense(2 * self.dilation_channels, use_bias=False,
                                                        name=f"block_{index}_condition")
                block["condition"].build((None, self.speaker_dim))
            self.blocks.append(block)
        if self.speakers:
            self.speaker_embedding = keras.layers.Embedding(self.speakers, self.speaker_dim,
                                                            name="speaker_embedding")
            self.speaker_embedding.build((None,))

    @property
    def convs(self) -> list[DilatedConv]:
        """The dilated convolutions in the order `step` reads their caches."""
        return [self.input_conv] + [block["conv"] for block in self.blocks]

    def _forward(self, codes, convolve, speaker=None):
        """The network once, for a sequence or a step: `convolve(conv, x)` applies one convolution;
        `speaker` [batch] the ids a conditioned network speaks as."""
        if bool(self.speakers) != (speaker is not None):
            raise ValueError("a speaker id is given to WaveNet exactly when it has speakers "
                             f"(speakers={self.speakers})")
        condition = None if speaker is None else self.speaker_embedding(speaker)
        x = convolve(self.input_conv, ops.one_hot(codes, QUANTIZATION_CHANNELS, dtype=self.compute_dtype))
        skips = 0
        for block in self.blocks:
            gated = convolve(block["conv"], x)
            if condition is not None:
                added = block["condition"](condition)  # [batch, 2 * dilation_channels]
                gated = gated + (ops.expand_dims(added, 1) if len(gated.shape) == 3 else added)
            filter_, gate = ops.split(gated, 2, axis=-1)
            z = ops.tanh(filter_) * ops.sigmoid(gate)
            skips = skips + block["skip"](z)
            if "residual" in block:
                x = x + block["residual"](z)
        return ops.relu(skips)

    def call(self, codes, speaker=None):
        return self._forward(codes, lambda conv, x: conv(x), speaker)

    def initial_caches(self, batch_size) -> list:
        return zero_caches(self.convs, batch_size)

    def step(self, codes, caches: list, speaker=None):
        """One sample: codes [batch] + caches (+ speaker ids) -> output [batch, skip_channels] + new
        caches. Fed a sequence a sample at a time from zero caches, it gives `call`'s outputs on it."""
        pending, new_caches = iter(caches), []

        def convolve(conv, x):
            y, cache = conv.step(x, next(pending))
            new_caches.append(cache)
            return y

        return self._forward(codes, convolve, speaker), new_caches

    def prefill(self, codes, speaker=None):
        """A whole prompt at once: codes [batch, time] -> (`call`'s outputs, the caches `step` would
        hold after the last code): one parallel pass instead of `time` steps."""
        caches = []

        def convolve(conv, x):
            padded = ops.pad(x, [[0, 0], [conv.history, 0], [0, 0]])  # zero caches before the prompt
            caches.append(padded[:, ops.shape(padded)[1] - conv.history:])
            return conv(x)

        return self._forward(codes, convolve, speaker), caches

    def compute_output_shape(self, codes_shape, speaker_shape=None):
        return (*codes_shape, self.skip_channels)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(dilations=self.dilations, stacks=self.stacks, kernel_size=self.kernel_size,
                      residual_channels=self.residual_channels, dilation_channels=self.dilation_channels,
                      skip_channels=self.skip_channels, speakers=self.speakers, speaker_dim=self.speaker_dim)
        return config
