"""Writes a SavedModel through keras.export.ExportArchive, traced with portable kernels."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import keras
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
        archive.add_endpoint(name, function, input_signature=input_signature)
    archive.write_out(str(path), verbose=False)
