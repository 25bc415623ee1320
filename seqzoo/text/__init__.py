"""In-graph text processing: standardise, tokenize, look up ids (0 = pad, 1 = OOV)."""

from seqzoo.text.tokenizers import TOKENIZERS, string_tensor
from seqzoo.text.vectorizer import Vectorizer

__all__ = ["TOKENIZERS", "Vectorizer", "string_tensor"]
