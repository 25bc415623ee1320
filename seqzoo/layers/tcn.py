"""The temporal convolutional network of Bai, Kolter and Koltun (2018), with streaming steps."""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import ops

from seqzoo.errors import UserError, check_choice

NORMALIZATIONS = ("none", "layer", "weight")
TCN_PADDINGS = ("causal", "same")


@keras.saving.register_keras_serializable(package="seqzoo")
class DilatedConv(keras.layers.Layer):
    """A dilated 1-D convolution that pads its own input (causal: on the left only), with
    optional weight normalisation (Salimans and Kingma 2016: kernel = g * v / ||v||).

    `step` computes one new output from the last `(kernel_size - 1) * dilation`
    inputs and the new one, so a stream needs no re-computation of the past.
    """

    def __init__(self, filters: int, kernel_size: int, dilation: int, padding: str = "causal",
                 weight_norm: bool = False, **kwargs):
        super().__init__(**kwargs)
        # === Config ===
        self.filters = filters
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.weight_norm = weight_norm

    @property
    def history(self) -> int:
        """Past inputs each output reads: (kernel_size - 1) * dilation."""
        return (self.kernel_size - 1) * self.dilation

    def build(self, input_shape):
        channels = input_shape[-1]
        self.v = self.add_weight(shape=(self.kernel_size, channels, self.filters),
                                 initializer="glorot_uniform", name="kernel")
        if self.weight_norm:
            self.g = self.add_weight(shape=(self.filters,), initializer="ones", name="g")
        self.bias = self.add_weight(shape=(self.filters,), initializer="zeros", name="bias")

    def kernel(self):
        if not self.weight_norm:
            return self.v
        norm = ops.sqrt(ops.sum(ops.square(self.v), axis=(0, 1)) + 1e-12)
        return self.v * (self.g / norm)

    def call(self, x):
        left = self.history if self.padding == "causal" else self.history // 2
        x = ops.pad(x, [[0, 0], [left, self.history - left], [0, 0]])
        y = ops.conv(x, self.kernel(), strides=1, padding="valid", dilation_rate=self.dilation)
        return y + self.bias

    def step(self, x, cache):
        """x [batch, channels] + the last `history` inputs [batch, history, channels] ->
        the output for x [batch, filters] and the new cache."""
        window = ops.concatenate([cache, ops.expand_dims(x, 1)], axis=1)
        taps = window[:, :: self.dilation]  # [batch, kernel_size, channels]
        kernel = self.kernel()
        # The batch's own size (not -1), so a batch known to be 1 stays known through a graph loop.
        y = ops.matmul(ops.reshape(taps, (ops.shape(taps)[0], self.kernel_size * kernel.shape[1])),
                       ops.reshape(kernel, (self.kernel_size * kernel.shape[1], self.filters)))
        return y + self.bias, window[:, 1:]

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.filters)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(filters=self.filters, kernel_size=self.kernel_size, dilation=self.dilation,
                      padding=self.padding, weight_norm=self.weight_norm)
        return config


def zero_caches(convs: list[DilatedConv], batch_size) -> list:
    """Zero caches for a streaming `step`, one per convolution: [batch, (k - 1) * d, its input channels]."""
    return [ops.zeros((batch_size, conv.history, conv.v.shape[1])) for conv in convs]


@keras.saving.register_keras_serializable(package="seqzoo")
class TCN(keras.layers.Layer):
    """Residual blocks of two dilated causal convolutions each, dilations growing per block.

    Block (as in locuslab/TCN): conv -> norm -> activation -> spatial dropout, twice,
    then activation(output + input), the input through a 1x1 convolution when the
    channel counts differ. Step t of the output sees inputs t - receptive_field + 1
    .. t (causal padding) and never a later one.

    `step` runs one time step with a cache per convolution (the last
    (k - 1) * d inputs, the "fast WaveNet" queue), so a stream costs one column
    of work per new input instead of a window of receptive_field.

    Args:
        filters: int. Channels of every convolution.
        kernel_size: int. Taps per convolution.
        dilations: list of int. One residual block per dilation, per stack.
        stacks: int. How many times the dilations repeat.
        normalization: str. `none`, `layer` (layer norm after each convolution) or
            `weight` (weight-normalised kernels, as the paper).
        activation: str. Keras activation name.
        dropout: float. Spatial dropout (whole channels) after each convolution.
        return_sequences: bool. Every step's output, or only the last step's.
        padding: str. `causal`, or `same` (centred: sees the future; no streaming).

    Example:
    ```python
    tcn = TCN(filters=24, kernel_size=8, dilations=[1, 2, 4, 8, 16, 32, 64, 128])
    tcn.receptive_field  # 1 + 2 * 7 * 255 = 3571
    ```
    """

    def __init__(self, filters: int = 24, kernel_size: int = 8, dilations: Sequence[int] = (1, 2, 4, 8),
                 stacks: int = 1, normalization: str = "weight", activation: str = "relu",
                 dropout: float = 0.0, return_sequences: bool = True, padding: str = "causal",
                 **kwargs):
        super().__init__(**kwargs)
        check_choice("normalization", normalization, NORMALIZATIONS)
        check_choice("padding", padding, TCN_PADDINGS)
        if kernel_size < 1 or stacks < 1 or not dilations or min(dilations) < 1:
            raise UserError(f"kernel_size, stacks and every dilation must be at least 1, got "
                            f"{kernel_size}, {stacks}, {list(dilations)}")
        self.supports_masking = True
        # === Config ===
        self.filters = filters
        self.kernel_size = kernel_size
        self.dilations = list(dilations)
        self.stacks = stacks
        self.normalization = normalization
        self.activation = activation
        self.dropout = dropout
        self.return_sequences = return_sequences
        self.padding = padding

    @property
    def receptive_field(self) -> int:
        """Input steps each output step sees: 1 + 2 (k - 1) * stacks * sum(dilations)."""
        return 1 + 2 * (self.kernel_size - 1) * self.stacks * sum(self.dilations)

    def build(self, input_shape):
        # === Layers ===
        self.blocks = []
        channels = input_shape[-1]
        for index, dilation in enumerate(self.dilations * self.stacks):
            block = {"convs": [], "norms": []}
            for k in range(2):
                conv = DilatedConv(self.filters, self.kernel_size, dilation, self.padding,
                                   weight_norm=self.normalization == "weight", name=f"block_{index}_conv_{k}")
                conv.build((None, None, channels if k == 0 else self.filters))
                block["convs"].append(conv)
                if self.normalization == "layer":
                    norm = keras.layers.LayerNormalization(name=f"block_{index}_norm_{k}")
                    norm.build((None, None, self.filters))
                    block["norms"].append(norm)
            if channels != self.filters:
                block["shortcut"] = keras.layers.Dense(self.filters, name=f"block_{index}_shortcut")
                block["shortcut"].build((None, None, channels))
            self.blocks.append(block)
            channels = self.filters
        self.act = keras.layers.Activation(self.activation)
        self.spatial_dropout = keras.layers.SpatialDropout1D(self.dropout)

    def _convolved(self, block, k, y, training):
        if block["norms"]:
            y = block["norms"][k](y)
        y = self.act(y)
        return self.spatial_dropout(y, training=training) if training and self.dropout else y

    def call(self, x, mask=None, training=None):
        # Padding is zeros. It comes after the text, so causal outputs never read it; `same`
        # convolutions do, so there every convolution's padded outputs are zeroed again, and a
        # text gives the same outputs however much padding its batch adds.
        keep = None if mask is None else ops.expand_dims(ops.cast(mask, x.dtype), -1)
        again = keep if self.padding == "same" else None
        if keep is not None:
            x = x * keep
        for block in self.blocks:
            y = x
            for k, conv in enumerate(block["convs"]):
                y = self._convolved(block, k, conv(y), training)
                y = y if again is None else y * again
            x = self.act(y + (block["shortcut"](x) if "shortcut" in block else x))
            x = x if again is None else x * again
        return x if self.return_sequences else x[:, -1]

    @property
    def convs(self) -> list[DilatedConv]:
        """The dilated convolutions in the order `step` reads their caches."""
        return [conv for block in self.blocks for conv in block["convs"]]

    def initial_caches(self, batch_size) -> list:
        return zero_caches(self.convs, batch_size)

    def step(self, x, caches: list):
        """One time step: x [batch, channels] + caches -> output [batch, filters] + new caches.

        Fed a sequence one step at a time from zero caches, it gives the same outputs as
        `call` on the whole sequence (causal padding only).
        """
        outputs, caches = self.step_blocks(x, caches)
        return outputs[-1], caches

    def step_blocks(self, x, caches: list):
        """`step`, giving every block's output [batch, filters] (what `seqzoo cells` records)."""
        if self.padding != "causal":
            raise UserError("a TCN with padding 'same' sees the future and cannot stream")
        new_caches, position, outputs = [], 0, []
        for block in self.blocks:
            y = x
            for k, conv in enumerate(block["convs"]):
                y, cache = conv.step(y, caches[position])
                new_caches.append(cache)
                position += 1
                y = self._convolved(block, k, y, training=False)
            x = self.act(y + (block["shortcut"](x) if "shortcut" in block else x))
            outputs.append(x)
        return outputs, new_caches

    def compute_mask(self, x, mask=None):
        return mask if self.return_sequences else None

    def compute_output_shape(self, input_shape):
        if self.return_sequences:
            return (*input_shape[:-1], self.filters)
        return (input_shape[0], self.filters)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(filters=self.filters, kernel_size=self.kernel_size, dilations=self.dilations,
                      stacks=self.stacks, normalization=self.normalization, activation=self.activation,
                      dropout=self.dropout, return_sequences=self.return_sequences, padding=self.padding)
        return config
