"""Train the CTC speech recognizer with plain Keras `fit`, then transcribe held-out clips, greedy and by
beam search.

    python examples/train_speech.py [--data my_transcribed_folder/] [--epochs 10] [--preset small]

Default data: synthetic speech (eSpeak NG voices, `pip install -e ".[speech]"`), digit strings and
command words; the test voices are never heard in training. A folder of one's own holds WAV files and a
`transcripts.tsv` (path<TAB>text) or LibriSpeech's `*.trans.txt` files.
"""

import argparse

import seqzoo
from seqzoo.data import speech
from seqzoo.decoding.ctc import beam_ids, greedy_ids, ids_text
from seqzoo.models.speech import output_frames
from seqzoo.tasks.speech import error_rates, split_recordings, transcribed_recordings

parser = argparse.ArgumentParser()
parser.add_argument("--data", help="a transcribed folder (default: synthetic speech)")
parser.add_argument("--epochs", type=int, default=10)
parser.add_argument("--preset", default="base", help="size preset: tiny, small, base")
args = parser.parse_args()
config = seqzoo.get_config("ctc_recognizer", preset=args.preset)
alphabet = config["speech"]["alphabet"]

# 1. WAV files -> mono 16 kHz int16 in memory, transcripts checked against the alphabet, split by the
#    data's split column (else by speaker, else by clip).
recordings = transcribed_recordings(args.data or speech.spoken_corpus(), alphabet, 16000, 20.0)
parts = split_recordings(recordings, config["train"])
examples = {name: speech.recording_examples(part, speech.encode_texts(part.texts, alphabet))
            for name, part in parts.items()}
batches = {name: speech.recording_batches(part, 32) for name, part in examples.items()}
print({name: len(part.texts) for name, part in parts.items()}, "utterances")

# 2. Build (log-mel frames in the graph -> convolutions -> BiLSTM -> the blank and 28 characters) and fit
#    like any Keras model on ({waveform, length}, character ids) batches, with the CTC loss.
model = seqzoo.build("ctc_recognizer", preset=args.preset)
train = speech.recording_batches(examples["train"], 32, shuffle_seed=42)
model.fit(train, epochs=args.epochs, validation_data=batches["val"], shuffle=False)  # reshuffled, seeded
held_out = batches.get("test", batches["val"])
print("held-out error rates:", error_rates(model, held_out, alphabet, beam_width=8))

# 3. Transcribe: greedy (argmax, repeats collapsed, blanks dropped) and beam search, in the graph.
inputs, labels = next(iter(held_out))
log_probabilities = model(inputs, training=False)
frames = output_frames(model.get_layer("log_mel"), inputs["length"])
greedy = ids_text(greedy_ids(log_probabilities), alphabet).numpy()
beam = ids_text(beam_ids(log_probabilities, frames, 8)[0], alphabet).numpy()
for g, b, said in zip(greedy[:5], beam[:5], parts.get("test", parts["val"]).texts[:5], strict=True):
    print(f"greedy {g.decode()!r:30} beam {b.decode()!r:30} said {said!r}")
