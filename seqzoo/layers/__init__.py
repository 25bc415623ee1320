"""Shared building blocks every zoo family wires together."""

from seqzoo.layers.embedding import token_embedding
from seqzoo.layers.pooling import POOLINGS, MaskedGlobalMaxPooling1D, sequence_pooling
from seqzoo.layers.rnn_stack import CELLS, rnn_stack

__all__ = [
    "CELLS", "POOLINGS", "MaskedGlobalMaxPooling1D", "rnn_stack", "sequence_pooling",
    "token_embedding",
]
