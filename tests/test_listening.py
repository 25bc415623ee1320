"""The entries that listen. The CTC recognizer: decoding, the loss over padded batches, WAV bytes in the
graph, and the whole path through the CLI on a folder of spoken tones (train, export, transcribe). The audio
classifier: a Speech Commands-style folder through the CLI (train, export, classify). With the bad input a
user gives each."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf
from command import cli
from tiny.speech import spoken

import seqzoo
from seqzoo.data.audio import write_wav
from seqzoo.data.speech import decode_wavs, wav_bytes
from seqzoo.decoding.ctc import beam_ids, greedy_ids, greedy_ids_of_one, ids_text
from seqzoo.losses import ctc

RATE = 16000


def log_probabilities(paths: list[list[int]], classes: int = 4, sure: float = 0.97) -> np.ndarray:
    """Frames each almost certain of one class: [batch, frames, classes]."""
    out = np.full((len(paths), max(map(len, paths)), classes), (1 - sure) / (classes - 1), np.float32)
    for i, path in enumerate(paths):
        for t, c in enumerate(path):
            out[i, t, c] = sure
        out[i, len(path):] = np.eye(classes)[0] * sure + (1 - sure) / (classes - 1) * (1 - np.eye(classes)[0])
    return np.log(out)


def test_greedy_decoding_collapses_repeats_and_drops_blanks_as_beam_search_does():
    frames = log_probabilities([[1, 1, 0, 1, 2, 2, 0], [0, 3, 0, 0], [0, 0]])
    greedy = ids_text(greedy_ids(frames), "abc").numpy().tolist()
    assert greedy == [b"aab", b"c", b""]
    assert greedy_ids_of_one(frames[:1]).numpy().tolist() == [1, 1, 2]
    ids, scores = beam_ids(frames, tf.constant([7, 4, 2]), 4)
    assert ids_text(ids, "abc").numpy().tolist() == greedy and (scores.numpy() < 0).all()
    # Read for its own frames only: the same utterance cut at 3 frames is "a".
    assert ids_text(beam_ids(frames[:1], tf.constant([3]), 4)[0], "abc").numpy().tolist() == [b"a"]


def test_the_ctc_loss_of_a_padded_batch_is_each_utterances_own():
    model = seqzoo.build("ctc_recognizer", preset="tiny")
    waveforms = [spoken("ab"), spoken("cab", seed=1)]
    labels = np.array([[2, 3, 0], [4, 2, 3]], np.int32)
    padded = np.zeros((2, max(map(len, waveforms))), np.float32)
    for i, w in enumerate(waveforms):
        padded[i, : len(w)] = w
    lengths = np.array([len(w) for w in waveforms], np.int32)
    batch = ctc(labels, model({"waveform": padded, "length": lengths}))
    alone = [float(ctc(labels[i : i + 1, : 2 + i], model({"waveform": w[None],
                                                           "length": np.array([len(w)], np.int32)}))[0])
             for i, w in enumerate(waveforms)]
    np.testing.assert_allclose(batch.numpy(), alone, rtol=1e-5)


def test_wav_bytes_are_decoded_in_the_graph_and_a_bad_clip_never_fails_the_batch():
    tone = np.sin(np.arange(3000) / 7) * 0.3
    stereo = tf.audio.encode_wav(np.stack([tone, tone], 1).astype(np.float32), RATE).numpy()
    clips = [wav_bytes(tone, RATE), b"", b"junk", wav_bytes(tone[:100], 8000), wav_bytes(np.zeros(500), RATE),
             stereo, wav_bytes(np.zeros(0), RATE), wav_bytes(tone, RATE)[:1000], wav_bytes(tone[:400], RATE)]
    waveform, length, problem = decode_wavs(tf.constant(clips), RATE, 2500)
    no_wav = b"not a whole 16-bit PCM WAV file"
    assert problem.numpy().tolist() == [b"longer than 0.15625 s", no_wav, no_wav, b"at 8000 Hz, not 16000 Hz",
                                        b"silent", b"longer than 0.15625 s", b"no samples", no_wav, b""]
    assert length.numpy().tolist() == [0, 0, 0, 0, 0, 0, 0, 0, 400] and waveform.shape == (9, 400)
    np.testing.assert_allclose(waveform[8].numpy(), tone[:400], atol=1 / 32767)
    _, length, problem = decode_wavs(tf.constant(clips[5:6]), RATE, 5000)  # stereo, mixed down
    assert problem.numpy().tolist() == [b""] and length.numpy().tolist() == [3000]
    waveform, length, problem = decode_wavs(tf.constant([], tf.string), RATE, 2500)
    assert waveform.shape == (0, 0) and length.shape == problem.shape == (0,)


TEXTS = ["ab", "ba", "abc", "cab", "b c", "a", "cc a", "bac", "c", "acb", "bb", "ca"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """ctc_recognizer (tiny) trained on spoken tones by 4 speakers (a folder with transcripts.tsv, one file at
    8 kHz, one that is no WAV), exported, through the CLI."""
    work = tmp_path_factory.mktemp("recognizer_cli")
    (work / "clips").mkdir()
    lines = ["path\ttext\tvoice"]
    for i, text in enumerate(TEXTS * 2):
        rate = 8000 if i == 3 else RATE
        write_wav(work / f"clips/{i}.wav", spoken(text, rate, seed=i), rate)
        lines.append(f"{i}.wav\t{text.upper()}\tspeaker{i % 4}")
    (work / "clips/broken.wav").write_text("not audio")
    lines.append("broken.wav\tab\tspeaker0")
    (work / "clips/transcripts.tsv").write_text("\n".join(lines) + "\n")
    trained = cli("train", "ctc_recognizer", "--data", "clips", "--preset", "tiny", "--set", "train.epochs=1",
                  "--out", "runs/ctc", cwd=work)
    assert trained.returncode == 0, trained.stderr
    export = cli("export", "runs/ctc", cwd=work)
    assert export.returncode == 0, export.stderr
    return work, trained


def test_train_on_a_transcribed_folder_split_by_speaker_then_export_and_transcribe(exported):
    work, trained = exported
    assert "seqzoo: note: skipped 1 of 25 recordings that cannot be used (first: " in trained.stderr
    assert "broken.wav' not a readable WAV file (no RIFF/WAVE header))" in trained.stderr
    assert "seqzoo: note: resampled 1 of 25 recordings to 16000 Hz (first: " in trained.stderr
    for figure in ("val_loss=", "val_cer=", "val_wer=", "val_cer_beam=", "test_cer=", "test_wer_beam="):
        assert figure in trained.stdout
    run = json.loads((work / "runs/ctc/run.json").read_text())
    assert run["meta"]["speakers"] == {"train": 2, "val": 1, "test": 1}  # whole speakers, 4 of them
    assert sum(run["meta"]["utterances"].values()) == 24
    card = json.loads((work / "saved_models/ctc_recognizer/1/seqzoo.json").read_text())
    assert card["task"] == "speech" and card["parity"]["tflite_max_abs_diff"] < 1e-5
    assert sorted(card["saved_model"]) == ["beam_search", "serving_default", "transcribe"]
    write_wav(work / "ab.wav", spoken("ab"), RATE)
    write_wav(work / "ab8k.wav", spoken("ab", 8000), 8000)
    write_wav(work / "quiet.wav", np.zeros(4000), RATE)
    done = cli("transcribe", "saved_models/ctc_recognizer", "ab.wav", "ab8k.wav", "quiet.wav", "nothing.wav",
               "--beam", 4, "--json", cwd=work)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [row["file"] for row in rows] == ["ab.wav", "ab8k.wav"] and all(row["score"] < 0 for row in rows)
    assert set("".join(row["text"] for row in rows)) <= set(" abcdefghijklmnopqrstuvwxyz'")
    assert "seqzoo: note: 'ab8k.wav': resampled from 8000 Hz to the model's 16000 Hz" in done.stderr
    assert "seqzoo: 'quiet.wav' is silent: nothing to transcribe" in done.stderr
    assert "seqzoo: 'nothing.wav' does not exist" in done.stderr
    from seqzoo.exporters import ExportedModel

    model = ExportedModel(work / "saved_models/ctc_recognizer")
    clips = [spoken(text, seed=9) for text in ("ab", "cab", "b c")]
    assert model.transcribe(clips, 1) == model.transcribe(clips, runtime="tflite")  # greedy, both files


def test_transcribing_nothing_usable_is_one_line_and_exit_2_and_a_bad_beam_is_named(exported, capsys,
                                                                                    monkeypatch):
    from seqzoo.cli import main
    from seqzoo.errors import UserError
    from seqzoo.exporters import ExportedModel

    work, _ = exported
    write_wav(work / "quiet.wav", np.zeros(4000), RATE)
    monkeypatch.chdir(work)
    assert main(["transcribe", "saved_models/ctc_recognizer", "quiet.wav"]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == "seqzoo: error: no WAV file could be transcribed"
    model = ExportedModel(work / "saved_models/ctc_recognizer")
    for width in (0, 99):
        with pytest.raises(UserError, match=f"beam width must be between 1 and 16, got {width}"):
            model.transcribe([spoken("ab")], beam_width=width)
    with pytest.raises(UserError, match="a clip holds 0 samples; this model takes 1 to 320000"):
        model.transcribe([np.zeros(0, np.float32)])


def test_a_transcript_outside_the_alphabet_is_named_before_anything_is_trained(exported):
    from seqzoo.errors import UserError

    work, _ = exported
    table = (work / "clips/transcripts.tsv").read_text().replace("\tBA\t", "\tbä!\t", 1)
    (work / "bad").mkdir(exist_ok=True)
    (work / "bad/transcripts.tsv").write_text(table)
    for name in os.listdir(work / "clips"):
        if name.endswith(".wav"):
            os.link(work / "clips" / name, work / "bad" / name)
    with pytest.raises(UserError, match=r"transcripts in '.*bad': 'bä!' has characters outside the alphabet: "
                                        r"'!' 'ä'"):
        seqzoo.train("ctc_recognizer", work / "bad", preset="tiny", out=work / "runs/bad")
    assert not (work / "runs/bad/model.keras").exists()


@pytest.fixture(scope="module")
def classifier(tmp_path_factory):
    """audio_classifier (tiny) trained on a Speech Commands-style folder (a subfolder a label, the speaker
    before the first _ of each name: 6 speakers), exported, through the CLI."""
    work = tmp_path_factory.mktemp("classifier_cli")
    for label in "abc":
        (work / "commands" / label).mkdir(parents=True)
        for speaker in range(6):
            write_wav(work / f"commands/{label}/s{speaker}_nohash_0.wav", spoken(label * (1 + speaker % 3),
                                                                                  seed=speaker), RATE)
    trained = cli("train", "audio_classifier", "--data", "commands", "--preset", "tiny", "--set",
                  "train.epochs=1", "--out", "runs/kws", cwd=work)
    assert trained.returncode == 0, trained.stderr
    export = cli("export", "runs/kws", cwd=work)
    assert export.returncode == 0, export.stderr
    return work, trained


@pytest.mark.large  # the classifier's export is in the contract; `classify` reads WAVs as `transcribe` does
def test_a_classifier_trains_on_a_labelled_folder_split_by_speaker_exports_and_classifies(classifier):
    work, trained = classifier
    for figure in ("val_loss=", "val_accuracy=", "test_loss=", "test_accuracy="):
        assert figure in trained.stdout
    run = json.loads((work / "runs/kws/run.json").read_text())
    assert run["meta"]["labels"] == ["a", "b", "c"] and run["config"]["model"]["num_classes"] == 3
    assert run["meta"]["speakers"] == {"train": 4, "val": 1, "test": 1}
    card = json.loads((work / "saved_models/audio_classifier/1/seqzoo.json").read_text())
    assert card["task"] == "audio_classification"
    assert sorted(card["saved_model"]) == ["classify", "serving_default"]
    write_wav(work / "b.wav", spoken("bb"), RATE)
    done = cli("classify", "saved_models/audio_classifier", "b.wav", "missing.wav", "--json", cwd=work)
    assert done.returncode == 0, done.stderr
    row = json.loads(done.stdout)
    assert row["file"] == "b.wav" and row["label"] in "abc" and sum(row["probabilities"].values()) == \
        pytest.approx(1, abs=1e-5)
    assert "seqzoo: 'missing.wav' does not exist" in done.stderr
    from seqzoo.exporters import ExportedModel

    lite = ExportedModel(work / "saved_models/audio_classifier").classify([spoken("bb")], runtime="tflite")[0]
    assert lite["label"] == row["label"]
    assert lite["probability"] == pytest.approx(row["probability"], abs=1e-4)
    served = tf.saved_model.load(str(work / "saved_models/audio_classifier/1")).signatures["serving_default"]
    out = served(audio=tf.constant([(work / "b.wav").read_bytes(), b"RIFF nonsense"]))
    assert out["label"].numpy().tolist()[1] == b"" and out["problem"].numpy().tolist() == [
        b"", b"not a whole 16-bit PCM WAV file"]
    other = cli("transcribe", "saved_models/audio_classifier", "b.wav", cwd=work)
    assert other.returncode == 2 and "is a audio_classification model; transcribe needs a speech model" in \
        other.stderr


def test_the_recognizer_takes_a_tcn_instead_of_its_bilstm_and_refuses_both_or_neither():
    from seqzoo.errors import UserError

    model = seqzoo.build("ctc_recognizer", preset="tiny", **{"model.rnn": None},
                         tcn={"filters": 8, "kernel_size": 3, "dilations": [1, 2]})
    waveform = np.random.default_rng(0).normal(0, 0.1, (2, 4000)).astype(np.float32)
    out = model({"waveform": waveform, "length": np.array([4000, 2500], np.int32)})
    assert out.shape == (2, 12, 29) and model.get_layer("tcn") is not None
    np.testing.assert_allclose(np.exp(out).sum(-1), 1.0, atol=1e-5)
    with pytest.raises(UserError, match="give the recognizer one encoder: model.rnn or model.tcn"):
        seqzoo.build("ctc_recognizer", preset="tiny", tcn={"filters": 8, "kernel_size": 3, "dilations": [1]})
