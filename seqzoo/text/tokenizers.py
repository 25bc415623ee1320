"""Text -> string tokens, in the graph: the standardisation and the tokenizers.

`word` and `char` use core TensorFlow string ops only, so stock TF Serving runs
the export. `whitespace`, `unicode_script` and `wordpiece` use tensorflow-text,
and the model card says such an export needs it.
"""

from __future__ import annotations

import tensorflow as tf

CORE_TOKENIZERS = ("word", "char")
TF_TEXT_TOKENIZERS = ("whitespace", "unicode_script", "wordpiece")
TOKENIZERS = CORE_TOKENIZERS + TF_TEXT_TOKENIZERS
# The same punctuation set as keras.layers.TextVectorization strips.
PUNCTUATION = r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']'
UNK = "[UNK]"


def string_tensor(texts) -> tf.Tensor:
    """Python texts (str or bytes) -> tf.string [batch]. A str holding lone surrogates (the
    undecodable bytes Python keeps from argv or files) becomes invalid UTF-8, which the graph's
    standardisation then repairs, instead of failing to encode."""
    if isinstance(texts, (str, bytes)):
        return tf.constant(_utf8(texts), tf.string)
    return tf.constant([_utf8(text) for text in texts], tf.string, shape=[len(texts)])


def _utf8(text: str | bytes) -> bytes:
    if isinstance(text, bytes):
        return text
    for errors in ("strict", "surrogateescape"):  # surrogateescape: the original bytes of argv
        try:
            return text.encode("utf-8", errors=errors)
        except UnicodeEncodeError:
            pass
    return text.encode("utf-8", errors="surrogatepass")  # other lone surrogates: invalid UTF-8


def standardize(texts: tf.Tensor, lowercase: bool, strip_punctuation: bool) -> tf.Tensor:
    """Repairs invalid UTF-8 (U+FFFD), then lowercases and strips punctuation if asked."""
    texts = tf.strings.unicode_transcode(
        texts, "UTF-8", "UTF-8", errors="replace", replacement_char=0xFFFD
    )
    if lowercase:
        texts = tf.strings.lower(texts, encoding="utf-8")
    if strip_punctuation:
        texts = tf.strings.regex_replace(texts, PUNCTUATION, "")
    return texts


def split(texts: tf.Tensor, tokenizer: str, wordpiece_vocabulary: list[str] | None = None):
    """Standardised texts [batch] -> tf.RaggedTensor of string tokens [batch, (tokens)]."""
    if tokenizer == "word":
        return tf.strings.split(texts)
    if tokenizer == "char":
        return tf.strings.unicode_split(texts, "UTF-8", errors="replace")
    import tensorflow_text as tf_text

    if tokenizer == "whitespace":
        return tf_text.WhitespaceTokenizer().tokenize(texts)
    if tokenizer == "unicode_script":
        return tf_text.UnicodeScriptTokenizer().tokenize(texts)
    if tokenizer == "wordpiece":
        words = tf_text.WhitespaceTokenizer().tokenize(texts)
        pieces = tf_text.FastWordpieceTokenizer(
            wordpiece_vocabulary, token_out_type=tf.string, unknown_token=UNK
        ).tokenize(words)
        return pieces.merge_dims(1, 2)
    raise ValueError(f"unknown tokenizer {tokenizer!r}")


def learn_wordpiece_vocabulary(word_counts: dict[bytes, int], size: int) -> list[str]:
    """About `size` word pieces ('##' marks a continuation; '[UNK]' included) from words."""
    from tensorflow_text.tools.wordpiece_vocab import wordpiece_tokenizer_learner_lib as learner

    counts = [(word.decode("utf-8"), count) for word, count in word_counts.items()]
    return learner.learn(counts, size, reserved_tokens=[UNK], lower_thresh=1)
