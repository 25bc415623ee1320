"""Pretrained word vectors: loaded fast through gensim, cached, aligned to a vocabulary."""

from seqzoo.embeddings.alignment import AlignmentReport, build_matrix
from seqzoo.embeddings.evaluation import evaluate
from seqzoo.embeddings.formats import FORMATS, detect_format
from seqzoo.embeddings.loading import describe, keyed_vectors, load, load_with_details
from seqzoo.embeddings.training import train_vectors
from seqzoo.embeddings.writing import write_vectors

__all__ = [
    "FORMATS", "AlignmentReport", "build_matrix", "describe", "detect_format", "evaluate",
    "keyed_vectors", "load", "load_with_details", "train_vectors", "write_vectors",
]
