"""Greedy and beam search for the encoder-decoders, batched, in one graph loop that exports."""

from __future__ import annotations

from dataclasses import dataclass

import keras
import tensorflow as tf

NEVER = -1e9  # the log-probability of a continuation that is not allowed


@dataclass
class Translation:
    """A search's result for a batch; `token_ids` hold 0 after each translation's end."""

    token_ids: tf.Tensor  # int32 [batch, steps], [END] and what follows are 0
    lengths: tf.Tensor  # int32 [batch]: tokens before [END]
    scores: tf.Tensor  # float32 [batch]: log p(translation, [END] | source)
    attention: tf.Tensor  # float32 [batch, steps, source]: the weights of each produced token


class Translator:
    """Translates source ids with a trained `seq2seq` / `seq2seq_attn` model, in the graph, and
    captions images with a captioner (`show_tell`, `show_attend_tell`): an image is a source
    whose memory is its grid of regions, none of them padding.

    The encoder runs once; the decoder's `step` runs once per output position for
    all texts and beams together, inside a `tf.while_loop` that stops when every
    beam has produced [END] or after `max_steps`. Beam width 1 is greedy search.

    Args:
        model: keras.Model. A model whose first input is the source (ids or images), with an
            `encoder` layer returning (memory, summary) and a `decoder` (`RecurrentDecoder`):
            `seqzoo.models.seq2seq.encoder_decoder`, `seqzoo.models.captioning.captioner`.
        start_id: int. The target [START] id, fed at the first step.
        end_id: int. The target [END] id.

    Example:
    ```python
    translator = Translator(model, start_id=2, end_id=3)
    result = translator.search(source_ids, beam_width=4, max_steps=24, length_penalty=0.6)
    ```
    """

    def __init__(self, model: keras.Model, start_id: int, end_id: int):
        self.encoder = keras.Model(model.inputs[0], model.get_layer("encoder").output)
        self.decoder = model.get_layer("decoder")
        self.start_id = start_id
        self.end_id = end_id

    def encode(self, source_ids) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor, list[tf.Tensor]]:
        """(memory, keys, memory mask, the decoder's first states) of source ids [batch, source]
        or images [batch, height, width, 3]."""
        source_ids = tf.convert_to_tensor(source_ids)
        memory, summary = self.encoder(source_ids, training=False)
        states = self.decoder.initial_states(summary)
        if source_ids.dtype.is_integer:
            mask = tf.not_equal(source_ids, 0)
        else:  # an image's regions
            mask = tf.ones_like(memory[:, :, 0], tf.bool)
        memory, keys, mask = self.decoder.attend_to(memory, mask, summary)
        return memory, keys, mask, states

    def step(self, token_ids, states, memory, keys, mask):
        """(probabilities [batch, vocab], new states, attention weights [batch, source])."""
        return self.decoder.step(token_ids, states, memory, keys, mask, training=False)

    def search(self, source_ids, beam_width=1, max_steps=32, length_penalty=0.0) -> Translation:
        """The best translation per source, by beam search (`beam_width` 1: greedy).

        Beams are ranked by their summed log-probabilities; finished ones compete with
        GNMT's length penalty, score / ((5 + length) / 6) ** length_penalty.
        """
        memory, keys, mask, states = self.encode(source_ids)
        batch, width = tf.shape(source_ids)[0], tf.convert_to_tensor(beam_width, tf.int32)
        beams = lambda t: tf.repeat(t, width, axis=0)  # noqa: E731  [batch * width, ...]
        memory, keys, mask = beams(memory), beams(keys), beams(mask)
        states = [beams(state) for state in states]
        steps, source, vocab = max_steps, tf.shape(memory)[1], self.decoder.vocab_size

        def per_beam(t):  # [batch * width, ...] -> [batch, width, ...]
            return tf.reshape(t, tf.concat([[batch, width], tf.shape(t)[1:]], 0))

        def regroup(t, chosen):  # the rows of the beams each new beam extends
            return tf.gather(t, chosen, batch_dims=1)

        only_padding = tf.where(tf.range(vocab) == 0, 0.0, NEVER)  # what a finished beam may add
        never_produced = (tf.range(vocab) == 0) | (tf.range(vocab) == self.start_id)  # padding, [START]
        initial = (
            tf.constant(0),
            tf.fill([batch * width], self.start_id),
            states,
            # Only the first beam is live at the start, so the first step's K best differ.
            tf.tile(tf.expand_dims(tf.where(tf.range(width) == 0, 0.0, NEVER), 0), [batch, 1]),
            tf.zeros([batch, width], tf.bool),
            tf.zeros([batch, width], tf.int32),
            tf.zeros([batch, width, steps], tf.int32),
            tf.zeros([batch, width, steps, source]),
        )

        def not_done(i, tokens, states, scores, finished, *_):
            return (i < steps) & ~tf.reduce_all(finished)

        def body(*loop):
            # A loop variable must keep the static shape it entered with.
            return tf.nest.map_structure(lambda new, old: tf.ensure_shape(new, old.shape),
                                         step_all(*loop), loop)

        def step_all(i, tokens, states, scores, finished, lengths, history, weights_so_far):
            probabilities, states, weights = self.step(tokens, states, memory, keys, mask)
            log_p = tf.math.log(tf.maximum(per_beam(probabilities), 1e-30))
            log_p = tf.where(never_produced, NEVER, log_p)
            log_p = tf.where(tf.expand_dims(finished, -1), only_padding, log_p)
            total = tf.reshape(tf.expand_dims(scores, -1) + log_p, [batch, width * vocab])
            scores, index = tf.math.top_k(total, k=width)
            chosen, token = index // vocab, index % vocab
            was_finished = regroup(finished, chosen)
            here = tf.one_hot(i, steps, dtype=tf.int32)
            history = regroup(history, chosen) + here * tf.expand_dims(token, -1)
            # A finished beam attends no more.
            live = tf.reshape(tf.cast(~was_finished, tf.float32), [batch, width, 1, 1])
            weights_so_far = regroup(weights_so_far, chosen) + (
                tf.reshape(tf.cast(here, tf.float32), [1, 1, steps, 1]) * live
                * tf.expand_dims(regroup(per_beam(weights), chosen), 2))
            lengths = regroup(lengths, chosen) + tf.cast(~was_finished & (token != self.end_id), tf.int32)
            finished = was_finished | (token == self.end_id)
            states = [tf.reshape(regroup(per_beam(s), chosen), tf.shape(s)) for s in states]
            return (i + 1, tf.reshape(token, [-1]), states, scores, finished, lengths, history,
                    weights_so_far)

        _, _, _, scores, finished, lengths, history, weights = tf.while_loop(not_done, body, initial)
        penalty = ((5.0 + tf.cast(lengths + tf.cast(finished, tf.int32), tf.float32)) / 6.0) ** length_penalty
        best = tf.argmax(scores / penalty, axis=1, output_type=tf.int32)
        pick = lambda t: tf.gather(t, best, batch_dims=1)  # noqa: E731
        lengths = pick(lengths)
        token_ids = pick(history) * tf.cast(tf.sequence_mask(lengths, steps), tf.int32)
        return Translation(token_ids, lengths, pick(scores), pick(weights))
