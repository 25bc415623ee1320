"""Pretrained word vectors: loaded fast through gensim, cached, aligned to a vocabulary."""

from seqzoo.embeddings.alignment import AlignmentReport, build_matrix
from seqzoo.embeddings.formats import FORMATS, detect_format
from seqzoo.embeddings.loading import keyed_vectors, load, load_with_details

__all__ = [
    "FORMATS", "AlignmentReport", "build_matrix", "detect_format", "keyed_vectors", "load",
    "load_with_details",
]
