"""The pieces a CTC recognizer adds around its encoder: the frames' mask carried past a strided convolution
(`FrameMask`), and the output, certain of the blank on padding (`CTCOutput`)."""

from __future__ import annotations

import keras
import tensorflow as tf

from seqzoo.decoding.ctc import BLANK

PADDING_LOG_PROBABILITY = -1e4  # a character's log p at a padded frame (finite: exports stay finite)


@keras.saving.register_keras_serializable(package="seqzoo")
class FrameMask(keras.layers.Layer):
    """[features [batch, frames / stride, channels], mask [batch, frames]] -> the features, with the mask
    taken every `stride` frames as their Keras mask (what a causal convolution of that stride keeps:
    output t reads input stride * t and the frames before it), for the recurrent layers after it."""

    def __init__(self, stride: int, **kwargs):
        super().__init__(**kwargs)
        self.stride = stride

    def call(self, inputs):
        return inputs[0]

    def compute_mask(self, inputs, previous_mask=None):
        return inputs[1][:, :: self.stride]

    def compute_output_spec(self, inputs):
        return keras.KerasTensor(inputs[0].shape, inputs[0].dtype)

    def get_config(self):
        return {**super().get_config(), "stride": self.stride}


@keras.saving.register_keras_serializable(package="seqzoo")
class CTCOutput(keras.layers.Layer):
    """Logits [batch, frames, classes] (their Keras mask marking real frames) -> log-probabilities, every
    padded frame certain of the blank (log p = 0; each character PADDING_LOG_PROBABILITY). So CTC over a
    batch's padded length is CTC over each utterance's own frames, and greedy decoding drops the padding.
    The output carries no mask: the CTC loss is one figure an utterance, not one a frame."""

    def call(self, logits, mask=None):
        log_probabilities = tf.nn.log_softmax(tf.cast(logits, tf.float32))
        if mask is None:
            return log_probabilities
        padding = tf.one_hot(BLANK, tf.shape(logits)[-1], on_value=0.0, off_value=PADDING_LOG_PROBABILITY)
        return tf.where(tf.expand_dims(mask, -1), log_probabilities, padding)

    def compute_mask(self, logits, mask=None):
        return None
