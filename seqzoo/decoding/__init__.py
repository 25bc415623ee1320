"""Decoding loops that run in the graph, so they export: sampling, RNN generation."""

from seqzoo.decoding.rnn_generator import RNNGenerator
from seqzoo.decoding.sampling import sample_next

__all__ = ["RNNGenerator", "sample_next"]
