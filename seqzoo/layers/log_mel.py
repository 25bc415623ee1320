"""LogMel: waveforms -> log-mel spectrogram frames, in the graph (`tf.signal`), normalised per utterance,
with SpecAugment's masks (Park et al. 2019) in training only. A model that starts with it takes raw
samples, so its SavedModel and `.tflite` file do too."""

from __future__ import annotations

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="seqzoo")
class LogMel(keras.layers.Layer):
    """Waveforms float32 [batch, samples] in [-1, 1] (and optionally each one's length in samples) ->
    log-mel frames [batch, frames, mels] and their mask [batch, frames].

    Each frame is `frame_ms` of audio every `hop_ms` (Hann window), its power spectrum mapped onto
    `mels` mel bands from `low_hz` to Nyquist and logged. Every band is then normalised over the
    utterance's own frames (zero mean, unit variance): loudness and microphone colour drop out. In
    training, `time_masks` spans of up to `time_mask` frames and `band_masks` spans of up to
    `band_mask` bands are set to 0 (the normalised mean).

    Args:
        sample_rate: int. Hz of the waveforms.
        frame_ms, hop_ms: float. Frame length and step.
        mels: int. Mel bands.
        low_hz: float. The lowest band's lower edge.
        time_masks, time_mask, band_masks, band_mask: int. SpecAugment (0: none).
    """

    def __init__(self, sample_rate: int = 16000, frame_ms: float = 25.0, hop_ms: float = 10.0, mels: int = 40,
                 low_hz: float = 20.0, time_masks: int = 2, time_mask: int = 10, band_masks: int = 2,
                 band_mask: int = 5, **kwargs):
        super().__init__(**kwargs)
        self.sample_rate, self.frame_ms, self.hop_ms, self.mels, self.low_hz = (
            sample_rate, frame_ms, hop_ms, mels, low_hz)
        self.time_masks, self.time_mask, self.band_masks, self.band_mask = (
            time_masks, time_mask, band_masks, band_mask)
        self.frame_length = int(round(sample_rate * frame_ms / 1000))
        self.frame_step = int(round(sample_rate * hop_ms / 1000))
        self.fft_length = 1 << (self.frame_length - 1).bit_length()
        self.supports_masking = True

    def frames(self, samples):
        """How many frames `samples` samples make (0 for fewer than one frame)."""
        return tf.maximum((samples - self.frame_length) // self.frame_step + 1, 0)

    def call(self, waveform, lengths=None, training=None):
        waveform = tf.convert_to_tensor(waveform, tf.float32)
        # At least one frame, so that a clip shorter than a frame still has one (of padding).
        short = tf.maximum(self.frame_length - tf.shape(waveform)[1], 0)
        waveform = tf.pad(waveform, [[0, 0], [0, short]])
        spectrum = tf.signal.stft(waveform, self.frame_length, self.frame_step, self.fft_length,
                                  window_fn=tf.signal.hann_window)
        power = tf.math.square(tf.abs(spectrum))
        matrix = tf.signal.linear_to_mel_weight_matrix(self.mels, self.fft_length // 2 + 1, self.sample_rate,
                                                       self.low_hz, self.sample_rate / 2)
        log_mel = tf.math.log(tf.tensordot(power, matrix, 1) + 1e-6)
        count = tf.shape(log_mel)[1]
        if lengths is None:
            mask = tf.ones(tf.shape(log_mel)[:2], tf.bool)
        else:
            frames = tf.maximum(self.frames(tf.cast(lengths, tf.int32)), 1)
            mask = tf.sequence_mask(frames, count)
        weight = tf.expand_dims(tf.cast(mask, tf.float32), -1)  # ([..., None] is no TFLite builtin)
        total = tf.maximum(tf.reduce_sum(weight, axis=1, keepdims=True), 1.0)
        mean = tf.reduce_sum(log_mel * weight, axis=1, keepdims=True) / total
        variance = tf.reduce_sum(tf.square(log_mel - mean) * weight, axis=1, keepdims=True) / total
        normalised = (log_mel - mean) * tf.math.rsqrt(variance + 1e-5) * weight
        if training:
            normalised = self._spec_augment(normalised)
        return normalised, mask

    def _spec_augment(self, frames):
        batch, count = tf.shape(frames)[0], tf.shape(frames)[1]
        keep = tf.ones_like(frames)
        for axis, masks, width, size in ((1, self.time_masks, self.time_mask, count),
                                         (2, self.band_masks, self.band_mask, self.mels)):
            positions = tf.range(size)
            for _ in range(masks):
                span = tf.random.uniform([batch, 1], 0, width + 1, tf.int32)
                room = tf.cast(tf.maximum(size - span + 1, 1), tf.float32)  # each row's own
                start = tf.cast(tf.random.uniform([batch, 1]) * room, tf.int32)
                hit = (positions[None] >= start) & (positions[None] < start + span)  # [batch, size]
                hit = hit[:, :, None] if axis == 1 else hit[:, None, :]
                keep *= 1.0 - tf.cast(hit, tf.float32)
        return frames * keep

    def compute_output_spec(self, waveform, lengths=None, training=None):
        return (keras.KerasTensor((waveform.shape[0], None, self.mels), "float32"),
                keras.KerasTensor((waveform.shape[0], None), "bool"))

    def get_config(self):
        return {**super().get_config(), "sample_rate": self.sample_rate, "frame_ms": self.frame_ms,
                "hop_ms": self.hop_ms, "mels": self.mels, "low_hz": self.low_hz,
                "time_masks": self.time_masks, "time_mask": self.time_mask, "band_masks": self.band_masks,
                "band_mask": self.band_mask}
