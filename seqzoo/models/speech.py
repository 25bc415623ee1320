"""Speech: `ctc_recognizer` listens to a waveform and spells what it hears, trained with CTC (Graves et al.
2006); `audio_classifier` names what it hears (a keyword, an emotion). Their features are computed in the
graph (`LogMel`), so their exports take raw samples."""

from __future__ import annotations

import keras
import tensorflow as tf

from seqzoo.errors import UserError, check_choice
from seqzoo.layers.ctc import CTCOutput, FrameMask
from seqzoo.layers.log_mel import LogMel
from seqzoo.layers.pooling import POOLINGS, sequence_pooling
from seqzoo.layers.rnn_stack import rnn_stack
from seqzoo.layers.tcn import TCN
from seqzoo.registry import register

SUBSAMPLING = 2  # the first convolution's stride: an output frame every 20 ms at a 10 ms hop


@register("ctc_recognizer", task="speech")
def ctc_recognizer(*, features: dict, conv: dict, rnn: dict | None, tcn: dict | None,
                   alphabet_size: int) -> keras.Model:
    """{waveform float32 [batch, samples], length int32 [batch] (each one's samples; the rest is padding)}
    -> log-mel frames -> causal convolutions (the first of stride 2) -> a BiLSTM stack (`rnn`) or a TCN
    (`tcn`, non-causal) -> log-probabilities [batch, frames / 2, alphabet_size] over the blank (id 0) and
    the characters. Padded frames are certain of the blank (`CTCOutput`).

    Args:
        features: dict. `LogMel`'s settings (sample rate, frame and hop, mels, SpecAugment masks).
        conv: dict. `filters`, `kernel_size`, `layers` of the convolutional front end.
        rnn: dict. `rnn_stack`'s settings (`bidirectional: true` for the offline recognizer); or None.
        tcn: dict. `TCN`'s settings, used instead of `rnn` when given.
        alphabet_size: int. The blank and every character.

    Example:
    ```python
    model = seqzoo.build("ctc_recognizer", alphabet_size=29)
    model({"waveform": waveforms, "length": lengths})  # [batch, frames, 29] log-probabilities
    ```
    """
    if alphabet_size < 2:
        raise UserError(f"alphabet_size must be at least 2 (the blank and a character), got {alphabet_size}")
    if (rnn is None) == (tcn is None):
        raise UserError("give the recognizer one encoder: model.rnn or model.tcn (set the other to null)")
    inputs, x = listening(features, conv)
    x = rnn_stack(x, **rnn) if tcn is None else TCN(**{"padding": "same", **tcn}, name="tcn")(x)
    logits = keras.layers.Dense(alphabet_size, name="logits")(x)
    log_probabilities = CTCOutput(name="log_probabilities", dtype="float32")(logits)
    return keras.Model(inputs, log_probabilities, name="ctc_recognizer")


@register("audio_classifier", task="audio_classification")
def audio_classifier(*, features: dict, conv: dict, rnn: dict, pooling: str, num_classes: int) -> keras.Model:
    """{waveform, length} -> log-mel frames -> causal convolutions (the first of stride 2) -> a recurrent
    stack -> pooling over the clip's own frames -> softmax over the labels: the convolutional and recurrent
    shape of Anand and Verma's emotion-from-audio network (keywords by default, emotions from RAVDESS).

    Args:
        features, conv: dict. As `ctc_recognizer`'s.
        rnn: dict. `rnn_stack`'s settings.
        pooling: str. `mean` or `max` over the frames (padding masked), or `last` (the RNN's final state).
        num_classes: int. Labels to choose from.

    Example:
    ```python
    model = seqzoo.build("audio_classifier", num_classes=20)
    model({"waveform": waveforms, "length": lengths})  # [batch, 20] probabilities
    ```
    """
    check_choice("pooling", pooling, POOLINGS)
    inputs, x = listening(features, conv)
    x = rnn_stack(x, **rnn, return_sequences=pooling != "last")
    if pooling != "last":
        x = sequence_pooling(pooling)(x)
    probabilities = keras.layers.Dense(num_classes, activation="softmax", name="probabilities",
                                       dtype="float32")(x)
    return keras.Model(inputs, probabilities, name="audio_classifier")


def listening(features: dict, conv: dict) -> tuple[dict, keras.KerasTensor]:
    """The front end both listening entries share: inputs {waveform float32 [batch, samples], length int32
    [batch]} -> log-mel frames (`LogMel`) -> `conv["layers"]` causal convolutions, the first of stride
    SUBSAMPLING, their output carrying the frames' mask (`FrameMask`)."""
    waveform = keras.Input(shape=(None,), dtype="float32", name="waveform")
    length = keras.Input(shape=(), dtype="int32", name="length")
    frames, mask = LogMel(**features, name="log_mel")(waveform, length)
    x = frames
    for index in range(conv["layers"]):
        x = keras.layers.Conv1D(conv["filters"], conv["kernel_size"], padding="causal", activation="relu",
                                strides=SUBSAMPLING if index == 0 else 1, name=f"conv_{index}")(x)
    return {"waveform": waveform, "length": length}, FrameMask(SUBSAMPLING, name="frame_mask")([x, mask])


def output_frames(log_mel: LogMel, lengths) -> tf.Tensor:
    """The output frames each waveform of `lengths` samples gives (int32), at least one: `log_mel` is the
    model's (`model.get_layer("log_mel")`) or one of its config's features (`LogMel(**features)`)."""
    frames = tf.maximum(log_mel.frames(tf.cast(lengths, tf.int32)), 1)
    return (frames + SUBSAMPLING - 1) // SUBSAMPLING
