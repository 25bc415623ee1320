"""The in-graph text vectorizer: strings -> padded token ids (0 = padding, 1 = OOV)."""

from __future__ import annotations

import collections
from collections.abc import Iterable

import keras
import tensorflow as tf

from seqzoo.errors import UserError, check_choice
from seqzoo.text import tokenizers

PAD, OOV = "", tokenizers.UNK


@keras.saving.register_keras_serializable(package="seqzoo")
class Vectorizer(keras.layers.Layer):
    """Turns raw strings into padded token ids, inside the graph.

    Standardises (repairs invalid UTF-8, optionally lowercases and strips
    punctuation), tokenizes, keeps at most `max_length` tokens, and looks each token
    up in a vocabulary learned by `adapt`. Id 0 is padding and id 1 is the
    out-of-vocabulary token, as everywhere in seqzoo. A text with no tokens becomes
    one OOV token, so every row has at least one real step.

    Args:
        tokenizer: str. `word` or `char` (core TF ops), or `whitespace`,
            `unicode_script`, `wordpiece` (tensorflow-text).
        lowercase: bool. Lowercase before tokenizing.
        strip_punctuation: bool. Remove ASCII punctuation before tokenizing.
        max_tokens: int. Vocabulary size cap, padding and OOV included.
        max_length: int. Longest id sequence; longer texts are truncated.
        vocabulary: list of str. The tokens for ids 2, 3, ...; set by `adapt`.
        wordpiece_vocabulary: list of str. The word pieces the `wordpiece`
            tokenizer splits into; learned by `adapt`.

    Example:
    ```python
    vectorizer = Vectorizer(max_tokens=1000, max_length=20)
    vectorizer.adapt(["a gorgeous film", "dull and tedious"])
    vectorizer(["a dull film"])  # [[2, 5, 4]]: ids sorted by count, then token
    ```
    """

    def __init__(
        self,
        tokenizer: str = "word",
        lowercase: bool = True,
        strip_punctuation: bool = True,
        max_tokens: int = 20000,
        max_length: int = 200,
        vocabulary: list[str] | None = None,
        wordpiece_vocabulary: list[str] | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_choice("tokenizer", tokenizer, tokenizers.TOKENIZERS)
        if max_tokens < 3:
            raise UserError(f"max_tokens must be at least 3 (padding, OOV, one word), got {max_tokens}")
        if max_length < 1:
            raise UserError(f"max_length must be at least 1, got {max_length}")
        # === Config ===
        self.tokenizer = tokenizer
        self.lowercase = lowercase
        self.strip_punctuation = strip_punctuation
        self.max_tokens = max_tokens
        self.max_length = max_length
        self.wordpiece_vocabulary = wordpiece_vocabulary
        self.vocabulary = None
        self._table = None
        self.built = True  # no weights: the vocabulary lives in a lookup table
        if vocabulary is not None:
            self.set_vocabulary(vocabulary)

    @property
    def needs_tensorflow_text(self) -> bool:
        """Whether the graph uses tensorflow-text ops (a SavedModel then needs them)."""
        return self.tokenizer in tokenizers.TF_TEXT_TOKENIZERS

    def tokenize(self, texts) -> tf.RaggedTensor:
        """Strings [batch] -> standardised string tokens [batch, (tokens)], untruncated."""
        texts = tf.convert_to_tensor(texts, dtype=tf.string)
        texts = tokenizers.standardize(texts, self.lowercase, self.strip_punctuation)
        if self.tokenizer == "wordpiece" and self.wordpiece_vocabulary is None:
            raise UserError("the wordpiece tokenizer has no vocabulary yet; call adapt() first")
        return tokenizers.split(texts, self.tokenizer, self.wordpiece_vocabulary)

    def adapt(self, data: Iterable[str] | tf.data.Dataset, batch_size: int = 4096) -> Vectorizer:
        """Learns the vocabulary from a list of strings or a dataset of strings.

        Tokens are ranked by count, ties broken alphabetically, so the same data
        always gives the same ids. The `wordpiece` tokenizer first learns its word
        pieces, and every piece gets an id.
        """
        dataset = _batches_of(data, batch_size)
        if self.tokenizer == "wordpiece":
            words = self._count(dataset, lambda batch: tokenizers.split(
                tokenizers.standardize(batch, self.lowercase, self.strip_punctuation), "whitespace"
            ))
            self.wordpiece_vocabulary = tokenizers.learn_wordpiece_vocabulary(words, self.max_tokens)
            # Every learned piece gets an id, as in BERT, whether or not it occurs whole.
            vocabulary = [piece for piece in self.wordpiece_vocabulary if piece != OOV]
        else:
            counts = self._count(dataset, self.tokenize)
            counts.pop(OOV.encode(), None)
            ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
            vocabulary = [token.decode("utf-8") for token, _ in ranked]
        if not vocabulary:
            raise UserError("cannot adapt the vectorizer: the data has no tokens")
        self.set_vocabulary(vocabulary[: self.max_tokens - 2])
        return self

    def token_counts(self, data: Iterable[str] | tf.data.Dataset,
                     batch_size: int = 4096) -> collections.Counter:
        """How often each token (str) of the texts occurs, read batch by batch (a dataset may be
        larger than memory)."""
        counts = self._count(_batches_of(data, batch_size), self.tokenize)
        return collections.Counter({token.decode("utf-8"): count for token, count in counts.items()})

    @staticmethod
    def _count(dataset: tf.data.Dataset, tokenize) -> collections.Counter:
        counts = collections.Counter()
        for batch in dataset:  # counted in TF per batch: Python sees each distinct token once
            tokens, _, found = tf.unique_with_counts(tokenize(batch).flat_values)
            counts.update(dict(zip(tokens.numpy().tolist(), found.numpy().tolist(), strict=True)))
        return counts

    def set_vocabulary(self, vocabulary: list[str]) -> None:
        """Sets the tokens for ids 2, 3, ... (without the padding and OOV entries)."""
        vocabulary = list(vocabulary)
        if len(vocabulary) + 2 > self.max_tokens:
            raise UserError(
                f"vocabulary of {len(vocabulary)} tokens does not fit max_tokens={self.max_tokens}"
            )
        if len(set(vocabulary)) != len(vocabulary) or {PAD, OOV} & set(vocabulary):
            raise UserError("vocabulary tokens must be unique and must not be '' or '[UNK]'")
        self.vocabulary = vocabulary
        keys = tf.constant(vocabulary, dtype=tf.string)
        ids = tf.range(2, len(vocabulary) + 2, dtype=tf.int64)
        self._table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(keys, ids), default_value=1
        )

    def get_vocabulary(self) -> list[str]:
        """Token per id, padding ('') and OOV ('[UNK]') first."""
        self._check_adapted()
        return [PAD, OOV, *self.vocabulary]

    def vocabulary_size(self) -> int:
        return len(self.get_vocabulary())

    def __call__(self, texts, *args, **kwargs):
        if isinstance(texts, (str, bytes, list, tuple)):  # Python strings are inputs too
            texts = tokenizers.string_tensor(texts)
        return super().__call__(texts, *args, **kwargs)

    def lookup(self, texts) -> tf.RaggedTensor:
        """Strings [batch] -> int32 ids [batch, (tokens)], neither truncated nor padded."""
        self._check_adapted()
        if isinstance(texts, (str, bytes, list, tuple)):
            texts = tokenizers.string_tensor(texts)
        texts = tf.reshape(tf.convert_to_tensor(texts, dtype=tf.string), [-1])
        ids = tf.ragged.map_flat_values(self._table.lookup, self.tokenize(texts))
        return tf.cast(ids, tf.int32)

    def call(self, texts):
        tokens = self.lookup(texts)[:, : self.max_length]
        ids = tokens.to_tensor()
        ids = tf.pad(ids, [[0, 0], [0, tf.maximum(1 - tf.shape(ids)[1], 0)]])
        # An empty text becomes one OOV step: an all-padding row has nothing to pool or attend.
        oov_first = tf.one_hot(0, tf.shape(ids)[1], on_value=1, off_value=0, dtype=ids.dtype)
        return tf.where(tf.equal(tokens.row_lengths(), 0)[:, None], oov_first[None, :], ids)

    def _check_adapted(self):
        if self._table is None:
            raise UserError("the vectorizer has no vocabulary yet; call adapt() first")

    def compute_output_spec(self, texts):
        return keras.KerasTensor((None, None), dtype="int32")

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            tokenizer=self.tokenizer,
            lowercase=self.lowercase,
            strip_punctuation=self.strip_punctuation,
            max_tokens=self.max_tokens,
            max_length=self.max_length,
            vocabulary=self.vocabulary,
            wordpiece_vocabulary=self.wordpiece_vocabulary,
        )
        return config


def _batches_of(data: Iterable[str] | tf.data.Dataset, batch_size: int) -> tf.data.Dataset:
    dataset = data if isinstance(data, tf.data.Dataset) else _dataset_of(list(data))
    dataset = dataset.unbatch() if dataset.element_spec.shape.rank else dataset
    return dataset.batch(batch_size)


def _dataset_of(texts: list[str]) -> tf.data.Dataset:
    if not texts:
        raise UserError("cannot adapt the vectorizer on no texts")
    return tf.data.Dataset.from_tensor_slices(tf.constant(texts, dtype=tf.string))
