"""Writes a SavedModel through keras.export.ExportArchive, traced with portable kernels."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import keras
import tensorflow as tf
from keras.export import ExportArchive

from seqzoo.tasks import Endpoint


@contextlib.contextmanager
def portable_rnn_kernels(model: keras.Model) -> Iterator[None]:
    """Traces LSTM/GRU with the generic kernel, never cuDNN.

    A graph traced with a GPU visible holds CudnnRNNV3, which fails on CPU-only
    servers (keras-team/keras#18504); `use_cudnn` is read at call time.
    """
    layers = [layer for layer in model._flatten_layers() if hasattr(layer, "use_cudnn")]
    saved = [layer.use_cudnn for layer in layers]
    for layer in layers:
        layer.use_cudnn = False
    try:
        yield
    finally:
        for layer, value in zip(layers, saved, strict=True):
            layer.use_cudnn = value


def write_saved_model(path: Path, endpoints: dict[str, Endpoint], *tracked) -> None:
    """A SavedModel at `path` with one signature per endpoint, tracking the given layers (None: skipped)."""
    archive = ExportArchive()
    for resource in tracked:
        if resource is not None:
            archive.track(resource)
    for name, (function, input_signature) in endpoints.items():
        batched = all(spec.shape.rank and spec.shape[0] is None for spec in input_signature)
        if name == "serving_default" and batched:
            function = answering_empty_batches(function)
        archive.add_endpoint(name, function, input_signature=input_signature)
    archive.write_out(str(path), verbose=False)


def answering_empty_batches(function):
    """`function` (inputs [batch, ...] -> outputs [batch, ...]) that answers an empty batch by running
    one neutral row (an empty string, zeros) and keeping none of its outputs. Some CPU kernels
    mishandle a batch of 0: oneDNN's convolutions on an AMD EPYC (TensorFlow 2.21) give it the
    input's length, so a TCN's residual add or an image encoder failed where the answer is empty."""

    def answering(*inputs):
        count = tf.shape(inputs[0])[0]
        rows = [tf.cond(count > 0, lambda x=x: x, lambda x=x: _neutral_row(x)) for x in inputs]
        return tf.nest.map_structure(lambda output: output[:count], function(*rows))

    return answering


def _neutral_row(x: tf.Tensor) -> tf.Tensor:
    shape = tf.concat([[1], tf.maximum(tf.shape(x)[1:], 1)], axis=0)
    return tf.fill(shape, "") if x.dtype == tf.string else tf.zeros(shape, x.dtype)
