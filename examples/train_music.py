"""Train a polyphonic music model on Bach chorales with plain Keras `fit`, then compose from a chord.

    python examples/train_music.py [--data my_midi_folder/] [--model lstm_music] [--epochs 20]

Default data: the Bach chorales music21 ships (MusicXML), as quarter-note piano rolls of 88
pitches. The figure is the paper's: negative log-likelihood per frame (nats, lower is better).
"""

import argparse

import keras
import tensorflow as tf

import seqzoo
from seqzoo.data import music
from seqzoo.decoding import generator_for, sample_notes
from seqzoo.tasks.music import nll_per_frame

parser = argparse.ArgumentParser()
parser.add_argument("--data", default=str(music.bach_chorales()))
parser.add_argument("--model", default="tcn_music",
                    choices=["tcn_music", "lstm_music", "gru_music", "rnn_music"])
parser.add_argument("--epochs", type=int, default=20)
parser.add_argument("--preset", default="base", help="size preset: tiny, small, base (the paper's size)")
args = parser.parse_args()

# 1. Scores -> piano rolls (parsed once, then cached) -> whole scores split 0.6 / 0.2 / 0.2.
rolls = music.read_rolls(args.data)
train, validation, test = music.split_rolls(rolls, 0.2, 0.2, seed=42)
batches = {name: music.frame_batches(music.next_frame_examples(part), 1)
           for name, part in (("validation", validation), ("test", test))}
print(f"{len(train.rolls)} training scores, {train.frames} frames")

# 2. Build and fit like any Keras model: frames in, the next frames out (padding weighs 0).
model = seqzoo.build(args.model, preset=args.preset)
model.fit(music.frame_batches(music.next_frame_examples(train), 1, seed=42), epochs=args.epochs,
          validation_data=batches["validation"], shuffle=False,  # the dataset reshuffles, seeded
          callbacks=[keras.callbacks.EarlyStopping(patience=5, restore_best_weights=True)])
print(f"test NLL per frame: {nll_per_frame(model, batches['test']):.3f} (Bai et al.: TCN 8.10, LSTM 8.45)")

# 3. Compose: from a C major chord, each sampled frame fed back, in one graph loop.
generator = generator_for(model)


@tf.function
def compose(start, frames, temperature, seed):
    probabilities, states = generator.prefill(start[None])
    new = generator.unroll(probabilities, states, frames, seed, lambda p, s: sample_notes(p, temperature, s))
    return tf.concat([start, new[0]], axis=0)


roll = compose(music.chord_frames([music.parse_notes("C4 E4 G4 C5")]), tf.constant(64), tf.constant(0.9),
               tf.constant(3)).numpy()
print(f"wrote {music.write_score(roll, 'chorale.mid')}, starting {music.roll_chords(roll)[:4]}")
