"""Raw audio: `wavenet` reads mu-law codes and gives, at every sample, a softmax over the 256 levels
of the next one (van den Oord et al. 2016)."""

from __future__ import annotations

import keras

from seqzoo.decoding import WaveNetGenerator
from seqzoo.layers import QUANTIZATION_CHANNELS, WaveNet
from seqzoo.registry import register


@register("wavenet", task="audio", generator=WaveNetGenerator)
def wavenet(*, wavenet: dict) -> keras.Model:
    """Codes -> WaveNet (gated dilated causal convolutions, skips summed, ReLU) -> 1x1 -> ReLU ->
    1x1 -> softmax over the 256 mu-law levels of the next sample. With `speakers` > 0 the model takes
    {codes, speaker} and the speaker's embedding conditions every gate (global conditioning).

    Generation streams (`seqzoo.decoding.WaveNetGenerator`): each sample fed back costs one
    column of every convolution, the TCN's cached step.

    Example:
    ```python
    model = seqzoo.build("wavenet", dilations=[1, 2, 4, 8, 16, 32, 64, 128, 256, 512], stacks=2,
                         residual_channels=32, skip_channels=64)
    model.get_layer("wavenet").receptive_field  # 2048
    ```
    """
    codes = keras.Input(shape=(None,), dtype="int32", name="codes")
    if wavenet.get("speakers"):  # global conditioning: {codes, speaker id [batch]}
        speaker = keras.Input(shape=(), dtype="int32", name="speaker")
        x = WaveNet(**wavenet, name="wavenet")(codes, speaker)
        codes = {"codes": codes, "speaker": speaker}
    else:
        x = WaveNet(**wavenet, name="wavenet")(codes)
    x = keras.layers.Dense(wavenet["skip_channels"], activation="relu", name="output_conv")(x)
    logits = keras.layers.Dense(QUANTIZATION_CHANNELS, name="logits")(x)
    probabilities = keras.layers.Activation("softmax", name="probabilities", dtype="float32")(logits)
    return keras.Model(codes, probabilities, name="wavenet")
