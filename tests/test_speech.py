"""Speech data: eSpeak NG's voices through ctypes, the rendered corpus and its split by voice and text,
the readers of a user's recordings, and log-mel features in the graph (and in a `.tflite` file)."""

import sys

import numpy as np
import pytest
import tensorflow as tf

from seqzoo.data import speech
from seqzoo.data.audio import read_wav, write_wav
from seqzoo.errors import UserError
from seqzoo.layers.log_mel import LogMel

pytest.importorskip("espeakng_loader", reason="eSpeak NG is the optional extra .[speech] (in .[test])")


@pytest.fixture(scope="module")
def corpus():
    return speech.spoken_corpus(utterances=48, seed=3)


def rows(folder):
    lines = (folder / speech.TRANSCRIPTS).read_text().splitlines()
    return [dict(zip(lines[0].split("\t"), line.split("\t"), strict=True)) for line in lines[1:]]


def test_espeak_speaks_a_text_in_different_voices():
    espeak = speech.Espeak.get()
    assert espeak.rate == 22050
    us, female = espeak.say("seven three nine", "en-us"), espeak.say("seven three nine", "en-us+f3")
    for waveform in (us, female):
        assert 0.5 < len(waveform) / espeak.rate < 2.0 and 0.2 < np.abs(waveform).max() <= 1.0
    assert len(espeak.say("seven three nine", "en-us", rate=300)) < 0.8 * len(us)  # faster speech
    with pytest.raises(UserError, match="^eSpeak NG has no voice 'xx-nowhere'$"):
        espeak.say("one", "xx-nowhere")


def test_the_corpus_is_rendered_once_and_split_by_voice_and_by_text(corpus):
    table = rows(corpus)
    assert len(table) == 48 and {row["split"] for row in table} == {"train", "validation", "test"}
    for row in table:
        assert row["split"] == speech.voice_split(row["voice"])
        assert set(row["text"].split()) <= set(speech.DIGITS) | set(speech.COMMANDS)
        waveform = read_wav(corpus / row["path"], speech.SAMPLE_RATE)
        assert 0.3 < len(waveform) / speech.SAMPLE_RATE < 6 and np.abs(waveform).max() <= 0.95
    train_voices = {row["voice"] for row in table if row["split"] == "train"}
    held_voices = {row["voice"] for row in table if row["split"] != "train"}
    assert not train_voices & held_voices
    said = {split: {row["text"] for row in table if (row["split"] == "train") == split and
                    row["text"] not in speech.COMMANDS} for split in (True, False)}
    assert not said[True] & said[False]  # no digit string is said both in and out of training
    made = (corpus / speech.TRANSCRIPTS).stat().st_mtime_ns
    assert speech.spoken_corpus(utterances=48, seed=3) == corpus
    assert (corpus / speech.TRANSCRIPTS).stat().st_mtime_ns == made  # read from the cache
    assert [p.name for p in corpus.parent.iterdir() if p.name.startswith(".")] == []  # no leftovers


def test_a_transcribed_folder_reads_in_both_layouts(corpus, tmp_path):
    read = speech.read_transcribed(corpus)
    assert len(read.paths) == 48 and read.texts[0] == rows(corpus)[0]["text"]
    assert set(read.splits) == {"train", "validation", "test"}
    chapter = tmp_path / "librispeech" / "19" / "198"
    chapter.mkdir(parents=True)
    for name in ("19-198-0000", "19-198-0001"):
        write_wav(chapter / f"{name}.wav", np.zeros(1600, np.float32), 16000)
    (chapter / "19-198.trans.txt").write_text("19-198-0000 NORTHANGER ABBEY\n19-198-0001 THIS LITTLE WORK\n")
    libri = speech.read_transcribed(tmp_path / "librispeech")
    assert libri.texts == ["northanger abbey", "this little work"] and libri.speakers == ["19", "19"]


@pytest.mark.parametrize("content, message", [
    ("file\ttext\nwav/a.wav\tone\n", r"transcripts.tsv:1: expected the header 'path<TAB>text'"),
    ("path\ttext\nwav/a.wav\n", r"transcripts.tsv:2: expected 2 tab-separated fields \(path, text\), got 1"),
    ("path\ttext\n../../etc/passwd\tone\n", r"transcripts.tsv:2: '../../etc/passwd' is outside the data "
                                            r"folder"),
    ("path\ttext\nmissing.wav\tone\n", r"missing.wav"),
])
def test_a_bad_transcript_table_is_named_by_file_and_line(tmp_path, content, message):
    (tmp_path / speech.TRANSCRIPTS).write_text(content)
    with pytest.raises(UserError, match=message):
        speech.read_transcribed(tmp_path)


def test_a_transcript_that_is_not_utf8_or_a_librispeech_line_without_audio_is_named(tmp_path):
    (tmp_path / speech.TRANSCRIPTS).write_bytes(b"path\ttext\nwav/a.wav\t\xff\xfe\n")
    with pytest.raises(UserError, match=r"transcripts.tsv: not UTF-8 text \(byte 20\)"):
        speech.read_transcribed(tmp_path)
    other = tmp_path / "libri"
    other.mkdir()
    (other / "1-2.trans.txt").write_text("1-2-0000 HELLO\n")
    with pytest.raises(UserError, match=r"1-2.trans.txt:1: no 1-2-0000.wav beside it"):
        speech.read_transcribed(other)
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="holds no transcripts.tsv and no \\*.trans.txt files"):
        speech.read_transcribed(tmp_path / "empty")


def test_labelled_folders_read_by_folder_and_by_ravdess_and_crema_d_names(tmp_path):
    silence = np.zeros(800, np.float32)
    for path in ("commands/yes/0a7c2a8d_nohash_0.wav", "commands/no/0b09edd3_nohash_1.wav",
                 "emotion/03-01-05-01-02-01-12.wav", "emotion/1001_DFA_ANG_XX.wav"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        write_wav(tmp_path / path, silence, 16000)
    commands = speech.read_labelled(tmp_path / "commands")
    assert commands.texts == ["no", "yes"] and commands.speakers == ["0b09edd3", "0a7c2a8d"]
    emotions = speech.read_labelled(tmp_path / "emotion")
    assert emotions.texts == ["angry", "angry"] and emotions.speakers == ["actor12", "1001"]
    write_wav(tmp_path / "emotion" / "loose.wav", silence, 16000)
    with pytest.raises(UserError, match="loose.wav' has no label: put each label's clips in a folder"):
        speech.read_labelled(tmp_path / "emotion")


def test_characters_outside_the_alphabet_are_named():
    speech.check_alphabet(["seven three"], "abcdefghijklmnopqrstuvwxyz '", "data")
    with pytest.raises(UserError, match=r"^data: 'naïve 42' has characters outside the alphabet: '2' '4' "
                                        r"'ï'$"):
        speech.check_alphabet(["naïve 42"], "abcdefghijklmnopqrstuvwxyz '", "data")


def test_without_the_extra_synthesis_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "espeakng_loader", None)
    monkeypatch.setattr(speech.Espeak, "_instance", None)
    with pytest.raises(UserError, match=r"^synthetic speech needs eSpeak NG: pip install -e '\.\[speech\]'"):
        speech.Espeak.get()


def test_log_mel_frames_are_normalised_per_utterance_and_padding_does_not_change_them(corpus):
    first, second = (read_wav(corpus / row["path"], speech.SAMPLE_RATE) for row in rows(corpus)[:2])
    layer = LogMel()
    frames, mask = layer(first[None])
    expected_frames = (len(first) - 400) // 160 + 1  # 25 ms frames every 10 ms at 16 kHz
    assert frames.shape == (1, expected_frames, 40) and bool(tf.reduce_all(mask))
    np.testing.assert_allclose(tf.reduce_mean(frames, axis=1), 0.0, atol=1e-4)
    np.testing.assert_allclose(tf.math.reduce_std(frames, axis=1), 1.0, atol=1e-2)
    quieter, _ = layer(0.1 * first[None])  # loudness drops out
    np.testing.assert_allclose(quieter, frames, atol=0.05)
    width = max(len(first), len(second))
    batch = np.stack([np.pad(w, (0, width - len(w))) for w in (first, second)])
    padded, padded_mask = layer(batch, tf.constant([len(first), len(second)]))
    np.testing.assert_allclose(padded[0, :expected_frames], frames[0], atol=1e-5)
    assert int(tf.reduce_sum(tf.cast(padded_mask[0], tf.int32))) == expected_frames
    assert float(tf.reduce_max(tf.abs(padded[0, expected_frames:]))) == 0.0


def test_spec_augment_masks_only_in_training(corpus):
    waveform = read_wav(corpus / rows(corpus)[0]["path"], speech.SAMPLE_RATE)[None]
    layer = LogMel(time_masks=2, time_mask=10, band_masks=2, band_mask=5)
    clean, _ = layer(waveform)
    assert float(tf.reduce_mean(tf.cast(clean == 0, tf.float32))) < 0.01
    tf.random.set_seed(1)
    masked, _ = layer(waveform, training=True)
    share = float(tf.reduce_mean(tf.cast(masked == 0, tf.float32)))
    assert 0.0 < share < 0.5
    np.testing.assert_array_equal(masked.numpy()[masked.numpy() != 0], clean.numpy()[masked.numpy() != 0])


def test_log_mel_converts_to_tflite_builtins_and_takes_samples(corpus, tmp_path):
    from ai_edge_litert.interpreter import Interpreter

    waveform = read_wav(corpus / rows(corpus)[0]["path"], speech.SAMPLE_RATE)[None]
    layer = LogMel()
    function = tf.function(lambda samples: {"frames": layer(samples)[0]},
                           input_signature=[tf.TensorSpec([1, None], tf.float32, name="samples")])
    converter = tf.lite.TFLiteConverter.from_concrete_functions([function.get_concrete_function()], layer)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    runner = Interpreter(model_content=converter.convert()).get_signature_runner()
    np.testing.assert_allclose(runner(samples=waveform)["frames"], layer(waveform)[0], atol=1e-4)
    assert runner(samples=waveform[:, :100])["frames"].shape == (1, 1, 40)  # shorter than a frame
