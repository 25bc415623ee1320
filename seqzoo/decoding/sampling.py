"""Choosing the next token: greedy, temperature, top-k and top-p (nucleus), seeded."""

from __future__ import annotations

import tensorflow as tf


def sample_next(
    probabilities: tf.Tensor,
    temperature: tf.Tensor,
    top_k: tf.Tensor,
    top_p: tf.Tensor,
    seed: tf.Tensor,
    banned: tf.Tensor | None = None,
) -> tf.Tensor:
    """Next token ids [batch] from next-token probabilities [batch, vocab].

    Args:
        probabilities: float [batch, vocab].
        temperature: float scalar. <= 0 means greedy (the most probable token).
        top_k: int scalar. Keep the k most probable tokens; <= 0 keeps all.
        top_p: float scalar. Keep the fewest tokens whose probability reaches p;
            >= 1 keeps all.
        seed: int [2]. A stateless seed: the same seed gives the same choice.
        banned: bool [vocab]. Tokens never chosen (padding, [BOS]).
    """
    logits = tf.math.log(tf.maximum(probabilities, 1e-30))
    if banned is not None:
        logits = tf.where(banned[None, :], tf.cast(-1e30, logits.dtype), logits)
    greedy = tf.argmax(logits, axis=-1, output_type=tf.int32)
    scaled = logits / tf.maximum(tf.cast(temperature, logits.dtype), 1e-6)
    vocab = tf.shape(scaled)[-1]
    k = tf.where(top_k > 0, tf.minimum(top_k, vocab), vocab)
    kth_largest = tf.math.top_k(scaled, k=k).values[:, -1:]
    scaled = tf.where(scaled < kth_largest, tf.cast(-1e30, scaled.dtype), scaled)
    # Nucleus: sort, and drop tokens once the mass before them already reaches top_p.
    sorted_logits = tf.sort(scaled, axis=-1, direction="DESCENDING")
    sorted_probabilities = tf.nn.softmax(sorted_logits)
    mass_before = tf.cumsum(sorted_probabilities, axis=-1, exclusive=True)
    kept = mass_before < tf.cast(top_p, mass_before.dtype)
    smallest_kept = tf.reduce_min(tf.where(kept, sorted_logits, sorted_logits[:, :1]), axis=-1,
                                  keepdims=True)
    scaled = tf.where(scaled < smallest_kept, tf.cast(-1e30, scaled.dtype), scaled)
    sampled = tf.random.stateless_categorical(scaled, 1, seed=seed, dtype=tf.int32)[:, 0]
    return tf.where(temperature > 0, sampled, greedy)


def sample_notes(probabilities: tf.Tensor, temperature: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """Next frames [batch, notes] of 0/1 from independent note probabilities [batch, notes].

    Each note is drawn on its own with probability sigmoid(logit / temperature): below 1 the
    likely notes get likelier, above 1 the choice flattens. `temperature` <= 0 is greedy (a
    note is on when its probability is above 0.5). `seed`: int [2], stateless.
    """
    p = tf.clip_by_value(probabilities, 1e-7, 1 - 1e-7)
    logits = tf.math.log(p) - tf.math.log1p(-p)
    sharpened = tf.sigmoid(logits / tf.maximum(tf.cast(temperature, p.dtype), 1e-6))
    sampled = tf.cast(tf.random.stateless_uniform(tf.shape(p), seed=seed) < sharpened, p.dtype)
    return tf.where(temperature > 0, sampled, tf.cast(p > 0.5, p.dtype))
