"""Shared building blocks every zoo family wires together."""

from seqzoo.layers.embedding import TRAINABLE_MODES, Pretrained, token_embedding
from seqzoo.layers.partially_frozen_embedding import PartiallyFrozenEmbedding
from seqzoo.layers.pooling import POOLINGS, MaskedGlobalMaxPooling1D, sequence_pooling
from seqzoo.layers.rnn_stack import CELLS, rnn_stack
from seqzoo.layers.tcn import TCN

__all__ = [
    "CELLS", "POOLINGS", "TRAINABLE_MODES", "MaskedGlobalMaxPooling1D", "PartiallyFrozenEmbedding",
    "Pretrained", "TCN", "rnn_stack", "sequence_pooling", "token_embedding",
]
