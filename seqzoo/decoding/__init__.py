"""Decoding loops that run in the graph, so they export: sampling, LM generation."""

import keras

from seqzoo.decoding.generator import Generator
from seqzoo.decoding.rnn_generator import RNNGenerator
from seqzoo.decoding.sampling import sample_next, sample_notes
from seqzoo.decoding.tcn_generator import TCNGenerator, WaveNetGenerator
from seqzoo.decoding.transformer_generator import TransformerGenerator
from seqzoo.errors import UserError


def generator_for(model: keras.Model, window: int = 0) -> Generator:
    """The generator a zoo model's entry registered (`register(..., generator=...)`: stepped cells,
    cached convolutions, a sliding window), over `model`; `window` is a transformer's context."""
    from seqzoo.registry import get_entry

    generator = get_entry(model.name).generator  # a zoo factory names its model after its entry
    if generator is None:
        raise UserError(f"{model.name} registers no generator: it does not generate")
    return generator.for_model(model, window)


__all__ = ["Generator", "RNNGenerator", "TCNGenerator", "TransformerGenerator", "WaveNetGenerator",
           "generator_for",
           "sample_next", "sample_notes"]
