"""Readers for users' files and the offline default corpora."""

from seqzoo.data.corpora import news_corpus, sentiment_corpus
from seqzoo.data.language_modeling import read_documents, split_documents, window_dataset
from seqzoo.data.readers import (
    LabelledTexts,
    read_aclimdb,
    read_fasttext,
    read_labelled,
    read_lines,
    read_table,
    read_text,
)

__all__ = [
    "LabelledTexts", "read_aclimdb", "read_fasttext", "read_labelled", "read_lines", "read_table",
    "read_text",
    "news_corpus", "read_documents", "sentiment_corpus", "split_documents", "window_dataset",
]
