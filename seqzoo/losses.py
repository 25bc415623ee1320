"""seqzoo's own losses, by the name a config's `compile.loss` gives (beside Keras' own)."""

from __future__ import annotations

import keras
from keras import ops

from seqzoo.layers.mixture_density import mixture_nll


@keras.saving.register_keras_serializable(package="seqzoo")
def frame_nll(y_true, y_pred):
    """Negative log-likelihood of each piano-roll frame [batch, time]: the sum of its notes'
    binary cross-entropies (the polyphonic-music figure of Boulanger-Lewandowski et al. 2012
    and Bai et al. 2018), with the probabilities clipped to [1e-7, 1 - 1e-7] as Keras clips them."""
    return ops.sum(keras.losses.binary_crossentropy(y_true[..., None], y_pred[..., None]), axis=-1)


@keras.saving.register_keras_serializable(package="seqzoo")
def ctc(y_true, y_pred):
    """Connectionist temporal classification (Graves et al. 2006), one figure an utterance: -log p(the
    transcript | the audio), summed over every alignment. y_true: character ids [batch, chars] padded with
    0 (the blank, never a character); y_pred: log-probabilities [batch, frames, classes] whose padded
    frames are certain of the blank (`seqzoo.layers.ctc.CTCOutput`), so every frame is read."""
    labels = ops.cast(y_true, "int32")
    batch, frames = ops.shape(y_pred)[0], ops.shape(y_pred)[1]
    return ops.ctc_loss(labels, y_pred, ops.sum(ops.cast(labels > 0, "int32"), axis=1),
                        ops.full([batch], frames, "int32"), mask_index=0)


LOSSES = {"ctc": ctc, "frame_nll": frame_nll, "mixture_nll": mixture_nll}
