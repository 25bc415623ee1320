"""Train WaveNet on raw audio with plain Keras `fit`, then synthesize a second of sound.

    python examples/train_wavenet.py [--data my_wav_folder/] [--epochs 2] [--seconds 1]

Default data: music21's Bach chorales rendered to 8 kHz audio by additive synthesis (rendered once,
then cached). The figure is bits per sample on held-out recordings (8 = a uniform guess).
"""

import argparse

import tensorflow as tf

import seqzoo
from seqzoo.data import audio
from seqzoo.decoding import generator_for, sample_next
from seqzoo.tasks.audio import bits_per_sample

parser = argparse.ArgumentParser()
parser.add_argument("--data", help="a WAV file, a folder of them, or a glob (default: rendered chorales)")
parser.add_argument("--epochs", type=int, default=2)
parser.add_argument("--seconds", type=float, default=1.0)
parser.add_argument("--preset", default="base", help="size preset: tiny, small, base")
args = parser.parse_args()

# 1. WAV files -> mono 8 kHz -> mu-law codes (256 levels) -> whole recordings split 0.6 / 0.2 / 0.2.
clips = audio.read_clips(args.data or audio.bach_audio(), 8000)
train, validation, test = audio.split_clips(clips, 0.2, 0.2, seed=42)
print(f"{len(train.codes)} training recordings, {train.samples / 8000 / 60:.1f} minutes")

# 2. Build and fit like any Keras model: windows of receptive field + 2,000 samples, each sample the
#    target of exactly one window (the receptive field's fill weighs 0).
model = seqzoo.build("wavenet", preset=args.preset)
field = model.get_layer("wavenet").receptive_field
windows = {name: audio.window_batches(audio.window_examples(part, field, 2000), 8)
           for name, part in (("validation", validation), ("test", test))}
model.fit(audio.window_batches(audio.window_examples(train, field, 2000), 8, seed=42), epochs=args.epochs,
          validation_data=windows["validation"], shuffle=False)  # the dataset reshuffles, seeded
print(f"test bits per sample: {bits_per_sample(model, windows['test']):.3f}")

# 3. Synthesize: from a receptive field of silence, each sampled sample fed back, in one graph loop
#    (every convolution streams from its cache of its last inputs).
generator = generator_for(model)


@tf.function
def synthesize(samples, temperature, seed):
    probabilities, states = generator.prefill(tf.fill([1, field], audio.SILENCE))
    codes = generator.unroll(probabilities, states, samples, seed,
                             lambda p, s: sample_next(p, temperature, 0, 1.0, s))
    return audio.mu_law_decode(codes[0])


waveform = synthesize(tf.constant(round(args.seconds * 8000)), tf.constant(1.0), tf.constant(1)).numpy()
print(f"wrote {audio.write_wav('wavenet.wav', waveform, 8000)}")
