"""Decoding CTC outputs (Graves et al. 2006) in the graph: per-frame log-probabilities over the blank (id 0)
and the characters (ids 1..) -> character ids -> text.

Greedy: the most probable class at each frame, repeats collapsed, blanks dropped -- builtin ops only, so the
`.tflite` file decodes itself. Beam search: TensorFlow's `tf.nn.ctc_beam_search_decoder` (SavedModel only;
its beam width is fixed when the graph is built).
"""

from __future__ import annotations

import tensorflow as tf

BLANK = 0


def _kept(log_probabilities: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """(best class [batch, frames], whether each frame emits it): not the blank, and not a repeat of the
    frame before (a repeated character needs a blank between its two)."""
    best = tf.argmax(log_probabilities, axis=-1, output_type=tf.int32)
    previous = tf.pad(best[:, :-1], [[0, 0], [1, 0]], constant_values=-1)
    return best, tf.not_equal(best, BLANK) & tf.not_equal(best, previous)


def greedy_ids(log_probabilities: tf.Tensor) -> tf.RaggedTensor:
    """Log-probabilities [batch, frames, classes] -> character ids [batch, (ids)], greedily."""
    best, kept = _kept(log_probabilities)
    return tf.ragged.boolean_mask(best, kept)


def greedy_ids_of_one(log_probabilities: tf.Tensor) -> tf.Tensor:
    """`greedy_ids` of a batch of one, as int32 [ids] (builtin TFLite ops: ARG_MAX, WHERE, GATHER)."""
    best, kept = _kept(log_probabilities)
    return tf.boolean_mask(best[0], kept[0])


def beam_ids(log_probabilities: tf.Tensor, frames: tf.Tensor, beam_width: int
             ) -> tuple[tf.RaggedTensor, tf.Tensor]:
    """(character ids [batch, (ids)], their log-probability [batch]) of the best of `beam_width` prefixes,
    each utterance read for its own `frames`. TensorFlow's decoder takes the blank as the last class: it is
    moved there and the ids moved back."""
    rotated = tf.concat([log_probabilities[..., 1:], log_probabilities[..., :1]], axis=-1)
    decoded, scores = tf.nn.ctc_beam_search_decoder(tf.transpose(rotated, [1, 0, 2]), frames,
                                                    beam_width=beam_width, top_paths=1)
    best = decoded[0]
    rows = tf.RaggedTensor.from_sparse(tf.sparse.SparseTensor(
        best.indices, tf.cast(best.values, tf.int32) + 1,
        tf.stack([tf.shape(log_probabilities, out_type=tf.int64)[0], best.dense_shape[1]])))
    return rows, scores[:, 0]


def ids_text(ids: tf.RaggedTensor, alphabet: str) -> tf.Tensor:
    """Character ids [batch, (ids)] -> tf.string [batch]: id i is alphabet[i - 1]."""
    characters = tf.constant(["", *alphabet])
    return tf.strings.reduce_join(tf.gather(characters, ids), axis=-1)
