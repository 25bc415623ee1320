"""transformer_lm generation with its key/value cache vs re-running the window for every token,
and vs char_lm's carried states.

    python bench/bench_kv_cache.py [--window 256] [--new 200] [--rounds 5]

All three generate in the graph (`Generator.generate` under tf.function), batch 1, from the same
prompt, with models of the `small` presets over gensim's news corpus' characters (untrained: speed
does not depend on the weights):

- seqzoo's `TransformerGenerator`: each step computes the new token's query, key and value and
  attends to the cached ones;
- the reference, the same model's window re-run (seqzoo's generator before the cache, kept here
  as written then): every step runs the whole window through the model and reads the last
  filled position;
- `char_lm`'s `RNNGenerator`: one step of each LSTM cell.

Target: cache / re-run >= 5x tokens/s at window 256. Also printed: the same past the window
(`--new` beyond it), where the cache slides by re-reading half a window, and that greedy output
is the same while the text fits.
"""

from __future__ import annotations

import argparse
import os
import statistics

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from timing import timed  # noqa: E402  (bench/timing.py, beside this script)

import seqzoo  # noqa: E402
from seqzoo.data import read_documents  # noqa: E402
from seqzoo.decoding import RNNGenerator, TransformerGenerator  # noqa: E402
from seqzoo.tasks.language_model import left_padded_prompts, lm_vectorizer  # noqa: E402

PROMPT = "The minister said that"


class WindowRerun(TransformerGenerator):
    """The reference: seqzoo's transformer generator before the cache, as it was written. The state
    is the window of ids and its length; each step writes the new id and runs the whole window."""

    def state_specs(self):
        return [("context", [self.window], tf.int32), ("length", [], tf.int32)]

    def step(self, token_ids, states):
        context, length = states
        full = length >= self.window
        shifted = tf.concat([context[:, 1:], tf.zeros_like(context[:, :1])], axis=1)
        context = tf.where(full[:, None], shifted, context)
        length = tf.where(full, self.window - 1, length)
        slot = tf.one_hot(length, self.window, on_value=1, off_value=0, dtype=tf.int32)
        context = context * (1 - slot) + slot * tf.cast(token_ids, tf.int32)[:, None]
        length = length + 1
        return self._at(context, length), [context, length]

    def prefill(self, prompt_ids):
        prompt_ids = tf.cast(prompt_ids[:, -self.window :], tf.int32)
        lengths = tf.reduce_sum(tf.cast(prompt_ids != 0, tf.int32), axis=1)
        right_padded = tf.reverse_sequence(tf.reverse(prompt_ids, axis=[1]), lengths, seq_axis=1,
                                           batch_axis=0)
        context = tf.pad(right_padded, [[0, 0], [0, self.window - tf.shape(prompt_ids)[1]]])
        return self._at(context, lengths), [context, lengths]

    def _at(self, context, length):
        probabilities = self.model(context, training=False)
        return tf.gather(probabilities, tf.maximum(length - 1, 0), axis=1, batch_dims=1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--window", type=int, default=256)
    parser.add_argument("--new", type=int, default=200, help="new tokens within the window")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    texts = read_documents(seqzoo.data.news_corpus())
    vectorizer = lm_vectorizer(seqzoo.get_config("char_lm", preset="small")["text"], texts)
    transformer = seqzoo.build("transformer_lm", preset="small", vectorizer=vectorizer,
                               max_positions=args.window)
    char_lm = seqzoo.build("char_lm", preset="small", vectorizer=vectorizer)
    prompt = left_padded_prompts(vectorizer, [PROMPT])
    generators = {
        "transformer_lm, key/value cache": TransformerGenerator(transformer, args.window),
        "transformer_lm, window re-run": WindowRerun(transformer, args.window),
        "char_lm, carried LSTM states": RNNGenerator(char_lm),
    }
    print(f"window {args.window}; transformer_lm small {transformer.count_params():,} parameters, "
          f"char_lm small {char_lm.count_params():,}; prompt {prompt.shape[1]} tokens; "
          f"cpu threads {os.cpu_count()}")
    past = 2 * args.window  # new tokens that run past the window
    for new in (args.new, past):
        rates, outputs = {}, {}
        for name, generator in generators.items():
            generate = tf.function(generator.generate)
            arguments = (prompt, tf.constant(new), tf.constant(0.0), tf.constant(0), tf.constant(1.0),
                         tf.constant(7))
            outputs[name] = generate(*arguments).numpy()  # traced once, greedy
            rates[name] = new / statistics.median(timed(lambda g=generate, a=arguments: g(*a))
                                                  for _ in range(args.rounds))
        where = "within the window" if prompt.shape[1] + new <= args.window else "past the window"
        print(f"\n{new} new tokens ({where}), median of {args.rounds}")
        for name, rate in rates.items():
            print(f"   {name:34s} {rate:10,.0f} tokens/s")
        cached, rerun = rates["transformer_lm, key/value cache"], rates["transformer_lm, window re-run"]
        same = np.array_equal(outputs["transformer_lm, key/value cache"],
                              outputs["transformer_lm, window re-run"])
        print(f"   cache / re-run = {cached / rerun:.1f}x (target >= 5x at window 256); "
              f"greedy tokens the same: {same}; "
              f"cache / char_lm = {cached / rates['char_lm, carried LSTM states']:.2f}")



if __name__ == "__main__":
    main()
