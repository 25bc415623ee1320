"""Decoding loops that run in the graph, so they export: sampling, LM generation."""

import keras

from seqzoo.decoding.generator import Generator
from seqzoo.decoding.rnn_generator import RNNGenerator
from seqzoo.decoding.sampling import sample_next, sample_notes
from seqzoo.decoding.tcn_generator import TCNGenerator, WaveNetGenerator
from seqzoo.decoding.transformer_generator import TransformerGenerator


def generator_for(model: keras.Model, window: int) -> Generator:
    """The generator that fits a zoo LM: stepped cells for an RNN, cached convolutions for a
    TCN or a WaveNet, a sliding window for a transformer."""
    if any(isinstance(layer, keras.layers.RNN) for layer in model.layers):
        return RNNGenerator(model)
    if any(layer.name == "tcn" for layer in model.layers):
        return TCNGenerator(model)
    if any(layer.name == "wavenet" for layer in model.layers):
        return WaveNetGenerator(model)
    return TransformerGenerator(model, window)


__all__ = ["Generator", "RNNGenerator", "TCNGenerator", "TransformerGenerator", "WaveNetGenerator",
           "generator_for",
           "sample_next", "sample_notes"]
