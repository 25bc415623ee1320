"""Shared building blocks every zoo family wires together."""

from seqzoo.layers.attention import ATTENTIONS, Attention
from seqzoo.layers.embedding import TRAINABLE_MODES, Pretrained, sequence_input, token_embedding
from seqzoo.layers.image_encoder import ImageEncoder
from seqzoo.layers.partially_frozen_embedding import PartiallyFrozenEmbedding
from seqzoo.layers.pooling import POOLINGS, MaskedGlobalMaxPooling1D, sequence_pooling
from seqzoo.layers.recurrent_decoder import RecurrentDecoder
from seqzoo.layers.recurrent_encoder import RecurrentEncoder
from seqzoo.layers.rnn_stack import CELLS, rnn_stack
from seqzoo.layers.tcn import TCN
from seqzoo.layers.wavenet import QUANTIZATION_CHANNELS, WaveNet

__all__ = [
    "ATTENTIONS", "CELLS", "POOLINGS", "QUANTIZATION_CHANNELS", "TRAINABLE_MODES", "Attention",
    "ImageEncoder", "MaskedGlobalMaxPooling1D",
    "PartiallyFrozenEmbedding", "Pretrained", "RecurrentDecoder", "RecurrentEncoder", "TCN", "WaveNet",
    "rnn_stack", "sequence_input", "sequence_pooling", "token_embedding",
]
