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


LOSSES = {"frame_nll": frame_nll, "mixture_nll": mixture_nll}
