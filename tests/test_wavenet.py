"""WaveNet: mu-law, the layer's receptive field and streaming, a tone learned and continued, WAV
files good and bad, synthesizing through the CLI."""

import re
import struct

import keras
import numpy as np
import pytest
import tensorflow as tf
from command import cli
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.io import wavfile

import seqzoo
from seqzoo.data import audio
from seqzoo.decoding import generator_for, sample_next
from seqzoo.errors import SeqzooNote, UserError
from seqzoo.layers import WaveNet

RATE = 8000


def tone(frequency=440.0, seconds=1.0, rate=RATE, amplitude=0.5):
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def peak_hz(waveform, rate=RATE):
    spectrum = np.abs(np.fft.rfft(waveform * np.hanning(len(waveform))))
    spectrum[0] = 0  # the mean
    return np.argmax(spectrum) * rate / len(waveform)


@settings(max_examples=50, deadline=None)
@given(arrays(np.float32, st.integers(1, 64), elements=st.floats(-1, 1, width=32)))
def test_mu_law_encode_then_decode_returns_the_signal_within_the_quantisation_step(x):
    codes = audio.mu_law_encode(x).numpy()
    assert codes.min() >= 0 and codes.max() <= 255
    back = audio.mu_law_decode(codes).numpy()
    # The quantisation step at each code: the larger distance to a neighbouring level (the steps
    # grow towards +-1, where the companding is coarse; about 1.7e-4 around 0).
    levels = audio.mu_law_decode(np.arange(256)).numpy()
    step = np.maximum(levels[np.minimum(codes + 1, 255)] - levels[codes],
                      levels[codes] - levels[np.maximum(codes - 1, 0)])
    assert (np.abs(back - x) <= step + 1e-6).all()
    assert (np.abs(back - x) <= np.abs(x) * 0.03 + 1e-4).all()  # within 3% of the signal's size


def test_mu_law_maps_silence_and_the_extremes_to_their_codes():
    np.testing.assert_array_equal(audio.mu_law_encode([-1.0, 0.0, 1.0, 7.0]).numpy(), [0, 128, 255, 255])
    assert audio.SILENCE == 128 and audio.mu_law_decode([128]).numpy()[0] == pytest.approx(0.0, abs=1e-3)


def changed_steps(layer, length, perturbed_step):
    codes = np.random.default_rng(0).integers(0, 256, size=(1, length)).astype("int32")
    moved = codes.copy()
    moved[0, perturbed_step] = (moved[0, perturbed_step] + 128) % 256
    a, b = (keras.ops.convert_to_numpy(layer(c)) for c in (codes, moved))
    return np.where(np.abs(a - b)[0].max(axis=-1) > 0)[0]


@pytest.mark.parametrize("dilations, stacks, kernel_size", [([1, 2, 4, 8], 1, 2), ([1, 2], 2, 3)])
def test_the_receptive_field_measured_equals_the_formula(dilations, stacks, kernel_size):
    keras.utils.set_random_seed(0)
    layer = WaveNet(dilations=dilations, stacks=stacks, kernel_size=kernel_size, residual_channels=4,
                    dilation_channels=4, skip_channels=4)
    field = 2 + (kernel_size - 1) * stacks * sum(dilations)
    assert layer.receptive_field == field
    steps = changed_steps(layer, field + 10, 0)  # a change at sample 0 reaches samples 0 .. field - 1
    assert steps.min() == 0 and steps.max() == field - 1


def test_the_issue_example_builds_with_its_receptive_field():
    model = seqzoo.build("wavenet", dilations=[1, 2, 4, 8, 16, 32, 64, 128, 256, 512], stacks=2,
                         residual_channels=32, skip_channels=64)
    assert model.get_layer("wavenet").receptive_field == 2048 and model.output_shape == (None, None, 256)


def test_streaming_and_prefill_equal_the_full_sequence():
    layer = WaveNet(dilations=[1, 2, 4], stacks=2, residual_channels=6, dilation_channels=5, skip_channels=7)
    codes = np.random.default_rng(1).integers(0, 256, size=(2, 40)).astype("int32")
    full = keras.ops.convert_to_numpy(layer(codes))
    caches, outputs = layer.initial_caches(2), []
    for t in range(40):
        out, caches = layer.step(codes[:, t], caches)
        outputs.append(keras.ops.convert_to_numpy(out))
    np.testing.assert_allclose(np.stack(outputs, axis=1), full, atol=1e-5)
    prefilled, prefill_caches = layer.prefill(codes)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(prefilled), full, atol=1e-5)
    for a, b in zip(prefill_caches, caches, strict=True):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b), atol=1e-6)


def greedy(model, prime, samples):
    generator = generator_for(model)
    probabilities, states = generator.prefill(tf.constant(prime[None], tf.int32))
    choose = lambda q, seed: sample_next(q, tf.constant(0.0), 0, 1.0, seed)  # noqa: E731  greedy
    return tf.function(lambda p, s: generator.unroll(p, s, tf.constant(samples), tf.constant(0), choose))(
        probabilities, states)[0].numpy()


def test_streaming_generation_equals_the_full_models_argmax_continuation():
    keras.utils.set_random_seed(3)
    model = seqzoo.build("wavenet", preset="tiny")
    prime = np.random.default_rng(2).integers(0, 256, 20)
    streamed = greedy(model, prime, 30)
    sequence = list(prime)
    for _ in range(30):  # the whole sequence through the model for every new sample
        probabilities = keras.ops.convert_to_numpy(model(np.array([sequence], np.int32)))[0, -1]
        sequence.append(int(np.argmax(probabilities)))
    np.testing.assert_array_equal(streamed, sequence[20:])


@pytest.fixture(scope="module")
def tone_model():
    """A small WaveNet fitted to a pure 440 Hz tone (4 s at 8 kHz)."""
    keras.utils.set_random_seed(0)
    codes = audio.mu_law_encode(tone(seconds=4)).numpy().astype(np.uint8)
    model = seqzoo.build("wavenet", dilations=[1, 2, 4, 8, 16], residual_channels=16, dilation_channels=16,
                         skip_channels=32, learning_rate=0.01)
    field = model.get_layer("wavenet").receptive_field
    examples = audio.window_examples(audio.Clips(["tone"], [codes]), field, 256)
    windows = audio.window_batches(examples, 8, seed=0)
    history = model.fit(windows, epochs=4, verbose=0)
    return model, codes, history.history["loss"]


def test_trained_on_a_440_hz_tone_greedy_generation_continues_the_tone(tone_model):
    model, codes, losses = tone_model
    assert losses[-1] < 0.05, losses  # nats per sample: the next code is all but certain
    generated = audio.mu_law_decode(greedy(model, codes[:400], 4000)).numpy()
    assert abs(peak_hz(generated) - 440) <= 5
    assert 0.3 < np.sqrt(np.mean(generated ** 2)) < 0.4  # a sine of amplitude 0.5: rms 0.354, not a decay


def write_pcm24(path, samples, rate=RATE):
    """A 24-bit PCM WAV written by hand (scipy writes 8, 16, 32 and float)."""
    ints = np.round(np.asarray(samples) * (2 ** 23 - 1)).astype("<i4")
    data = b"".join(int(v).to_bytes(4, "little", signed=True)[:3] for v in ints)
    header = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(data), b"WAVE", b"fmt ", 16, 1, 1, rate,
                         rate * 3, 3, 24, b"data", len(data))
    path.write_bytes(header + data)
    return path


@pytest.mark.parametrize("kind", ["uint8", "int16", "pcm24", "int32", "float32", "float64", "stereo"])
def test_every_common_wav_encoding_reads_as_the_same_tone(kind, tmp_path):
    x = tone(seconds=0.25)
    path = tmp_path / f"{kind}.wav"
    if kind == "pcm24":
        write_pcm24(path, x)
    elif kind == "uint8":
        wavfile.write(path, RATE, np.round(x * 127 + 128).astype(np.uint8))
    elif kind == "stereo":  # the tone on the left, silence on the right: mixed down to half
        wavfile.write(path, RATE, np.stack([np.round(x * 32767), np.zeros_like(x)], 1).astype(np.int16))
    elif kind.startswith("int"):
        wavfile.write(path, RATE, np.round(x * np.iinfo(kind).max).astype(kind))
    else:
        wavfile.write(path, RATE, x.astype(kind))
    read = audio.read_wav(path, RATE)
    expected = x / 2 if kind == "stereo" else x
    np.testing.assert_allclose(read, expected, atol=1 / 100 if kind == "uint8" else 1e-4)


def test_other_sample_rates_are_resampled_to_the_configs(tmp_path):
    pcm = np.round(tone(seconds=0.5, rate=16000) * 32767).astype(np.int16)
    wavfile.write(tmp_path / "16k.wav", 16000, pcm)
    read = audio.read_wav(tmp_path / "16k.wav", RATE)
    assert len(read) == 4000 and abs(peak_hz(read) - 440) <= 2


def bad_wavs(folder):
    """One file of each kind that cannot be used, and the reason it is named with."""
    good = folder / "good.wav"
    wavfile.write(good, RATE, np.round(tone(seconds=0.1) * 32767).astype(np.int16))
    (folder / "text.wav").write_text("hello, not audio")
    (folder / "header.wav").write_bytes(good.read_bytes()[:30])
    wavfile.write(folder / "empty.wav", RATE, np.zeros(0, np.int16))
    wavfile.write(folder / "nan.wav", RATE, np.array([0.1, np.nan, 0.2], np.float32))
    return {"text.wav": "not a readable WAV file (no RIFF/WAVE header)",
            "header.wav": "not a readable WAV file (its header is cut short)",
            "empty.wav": "has no samples", "nan.wav": "has 1 NaN or infinite samples"}


def test_files_that_cannot_be_used_are_named_with_their_reason(tmp_path):
    for name, reason in bad_wavs(tmp_path).items():
        with pytest.raises(audio.AudioError, match=re.escape(reason)):
            audio.read_wav(tmp_path / name, RATE)


def test_a_truncated_file_is_read_as_far_as_it_goes_with_a_note(tmp_path):
    whole = tmp_path / "whole.wav"
    wavfile.write(whole, RATE, np.round(tone(seconds=0.5) * 32767).astype(np.int16))
    (tmp_path / "cut.wav").write_bytes(whole.read_bytes()[:44 + 2 * 1000 + 1])
    with pytest.warns(SeqzooNote, match="cut.wav' is truncated: read the 1000 samples it holds"):
        assert len(audio.read_wav(tmp_path / "cut.wav", RATE)) == 1000


def test_float_samples_beyond_one_are_clipped_with_a_note(tmp_path):
    wavfile.write(tmp_path / "loud.wav", RATE, np.array([0.5, 1.5, -3.0], np.float32))
    with pytest.warns(SeqzooNote, match="clipped 2 float samples beyond"):
        np.testing.assert_allclose(audio.read_wav(tmp_path / "loud.wav", RATE), [0.5, 1.0, -1.0])


def test_a_folder_skips_what_cannot_be_used_and_fails_when_nothing_is_left(tmp_path):
    reasons = bad_wavs(tmp_path)
    with pytest.warns(SeqzooNote, match="skipped 4 of 5 audio files"):
        clips = audio.read_clips(tmp_path, RATE)
    assert clips.names == ["good.wav"] and len(clips.codes[0]) == 800
    (tmp_path / "good.wav").unlink()
    with pytest.raises(UserError, match="no usable audio in .*all 4 files were skipped"):
        audio.read_clips(tmp_path, RATE)
    assert len(reasons) == 4


def test_windows_predict_every_sample_once_from_a_full_receptive_field():
    clips = audio.Clips(["a", "b"], [np.arange(10, 35, dtype=np.uint8), np.arange(100, 107, dtype=np.uint8)])
    windows = list(audio.window_examples(clips, receptive_field=5, window=10).as_numpy_iterator())
    predicted = [y[mask > 0] for _, y, mask in windows]
    np.testing.assert_array_equal(np.concatenate(predicted), np.concatenate(
        [np.arange(10, 35), np.arange(100, 107)]))
    x, y, mask = windows[0]
    np.testing.assert_array_equal(x[:5], [audio.SILENCE] * 5)  # a receptive field of silence first
    assert x.shape == (14,) and mask[:4].sum() == 0 and (y[4:] == np.arange(10, 20)).all()


def test_rendered_chords_sound_at_their_notes():
    roll = np.zeros((4, 88), np.uint8)
    roll[:, 69 - 21] = 1  # A4, held
    roll[2:, 76 - 21] = 1  # E5 from the third quarter
    waveform = audio.render_roll(roll, RATE)
    assert len(waveform) == 4 * 4000 and np.abs(waveform).max() == pytest.approx(0.5)
    assert abs(peak_hz(waveform[:8000]) - 440) <= 2
    spectrum = np.abs(np.fft.rfft(waveform[8000:]))
    assert spectrum[round(659.26 * 8000 / RATE)] > 0.3 * spectrum.max()  # E5's partial sounds too


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """wavenet (tiny) trained on five tones and a file that is no WAV, exported, through the CLI."""
    work = tmp_path_factory.mktemp("wavenet_cli")
    (work / "tones").mkdir()
    for frequency in (220, 330, 440, 550, 660):
        audio.write_wav(work / f"tones/{frequency}.wav", tone(frequency, 0.5), RATE)
    (work / "tones/notes.wav").write_text("not audio")
    trained = cli("train", "wavenet", "--data", "tones", "--preset", "tiny", "--out", "runs/wn", cwd=work)
    assert trained.returncode == 0, trained.stderr
    assert "seqzoo: note: skipped 1 of 6 audio files" in trained.stderr
    export = cli("export", "runs/wn", cwd=work)
    assert export.returncode == 0, export.stderr
    return work, trained.stdout


def test_train_evaluate_export_and_synthesize_through_the_cli(exported):
    work, trained = exported
    assert "val_bits_per_sample=" in trained and "test_bits_per_sample=" in trained
    evaluated = cli("evaluate", "runs/wn", "--data", "tones/440.wav", cwd=work)
    assert evaluated.returncode == 0 and evaluated.stdout.startswith("bits_per_sample"), evaluated.stderr
    assert 0 < float(evaluated.stdout.split()[1]) < 8
    import json

    card = json.loads((work / "saved_models/wavenet/1/seqzoo.json").read_text())
    assert card["task"] == "audio" and card["parity"]["tflite_max_abs_diff"] < 1e-5
    assert card["meta"]["sample_rate"] == RATE and card["meta"]["receptive_field"] == 17
    made = cli("synthesize", "saved_models/wavenet", "--seconds", "0.25", "--prime", "tones/440.wav",
               "--seed", 1, "--out", "out1.wav", cwd=work)
    assert made.returncode == 0, made.stderr
    assert "wrote out1.wav (0.75 s at 8000 Hz: 0.5 s primed, 0.25 s generated) and out1.png" in made.stdout
    rate, pcm = wavfile.read(work / "out1.wav")
    assert rate == RATE and pcm.dtype == np.int16 and len(pcm) == 6000
    np.testing.assert_allclose(pcm[:4000] / 32767, tone(440, 0.5), atol=1e-4)  # the prime, as given
    assert (work / "out1.png").read_bytes()[:4] == b"\x89PNG"


def test_the_same_seed_synthesizes_the_same_audio(exported):
    from seqzoo.exporters import ExportedModel

    model = ExportedModel(exported[0] / "saved_models/wavenet")
    a, b, c = (model.synthesize(0.05, 1.0, seed) for seed in (7, 7, 8))
    np.testing.assert_array_equal(a, b)
    assert len(a) == 400 and not np.array_equal(a, c) and np.abs(a).max() <= 1
    served = model.saved_model.signatures["generate"](samples=tf.constant(400), temperature=tf.constant(1.0),
                                                      seed=tf.constant(7), prime=tf.zeros([0]))
    np.testing.assert_array_equal(model.synthesize(0.05, 1.0, 7, xla=False), served["waveform"].numpy())


@pytest.mark.parametrize("args, message", [
    (["--seconds", "0"], "seconds must be greater than 0, got 0.0"),
    (["--seconds", "0.00001"],
     "seconds must give 1 to 480000 samples (60 s, this model's ceiling), got 1e-05 s = 0 samples"),
    (["--seconds", "1e9"], "seconds must give 1 to 480000 samples (60 s, this model's ceiling)"),
    (["--seconds", "nan"], "seconds must be a finite number"),
    (["--temperature", "inf"], "temperature must be a finite number"),
    (["--prime", "tones/notes.wav"], "--prime 'tones/notes.wav': not a readable WAV file"),
    (["--prime", "nan.wav"], "--prime 'nan.wav': has 1 NaN or infinite samples"),
    (["--prime", "empty.wav"], "--prime 'empty.wav': has no samples"),
    (["--prime", "long.wav"], "the prime is 31 s long; this model takes at most 30 s"),
    (["--prime", "missing.wav"], "--prime 'missing.wav' does not exist"),
    (["--out", "x.mid"], "--out 'x.mid': name a .wav file"),
])
def test_bad_synthesize_requests_are_one_line_and_exit_2(exported, args, message, capsys, monkeypatch):
    from seqzoo.cli import main

    work, _ = exported
    monkeypatch.chdir(work)
    wavfile.write(work / "nan.wav", RATE, np.array([np.nan], np.float32))
    wavfile.write(work / "empty.wav", RATE, np.zeros(0, np.int16))
    wavfile.write(work / "long.wav", RATE, np.zeros(31 * RATE, np.int16))
    out = [] if "--out" in args else ["--out", "x.wav"]
    assert main(["synthesize", "saved_models/wavenet", *args, *out]) == 2
    error = capsys.readouterr().err
    assert message in error and len(error.strip().splitlines()) == 1, error
    assert not (work / "x.wav").exists()


def test_the_warmup_requests_replay_through_every_signature(exported):
    from seqzoo.exporters.warmup import replay_warmup

    assert replay_warmup(exported[0] / "saved_models/wavenet/1") == ["generate", "serving_default", "step"]


def test_the_generate_signature_checks_its_own_limits(exported):
    generate = tf.saved_model.load(str(exported[0] / "saved_models/wavenet/1")).signatures["generate"]
    for samples, prime, message in [(0, [], "samples < 1"), (480001, [], "samples > 480000"),
                                    (5, [np.nan], "prime is not finite"),
                                    (5, np.zeros(30 * RATE + 1), "prime holds more than 240000 samples")]:
        with pytest.raises(tf.errors.InvalidArgumentError, match=message):
            generate(samples=tf.constant(samples), prime=tf.constant(prime, tf.float32),
                     temperature=tf.constant(1.0), seed=tf.constant(0))


def test_training_on_a_folder_of_unusable_files_is_one_line_and_exit_2(tmp_path):
    bad_wavs(tmp_path)
    (tmp_path / "good.wav").unlink()
    result = cli("train", "wavenet", "--data", tmp_path, "--preset", "tiny", "--out", "runs/x", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "no usable audio" in result.stderr and not (tmp_path / "runs/x").exists()


def test_a_speaker_conditioned_wavenet_streams_as_it_reads_and_each_speaker_changes_the_output():
    layer = WaveNet(dilations=[1, 2, 4], residual_channels=6, dilation_channels=5, skip_channels=7,
                    speakers=3, speaker_dim=4)
    codes = np.random.default_rng(1).integers(0, 256, size=(2, 30)).astype("int32")
    speaker = np.array([2, 0], np.int32)
    full = keras.ops.convert_to_numpy(layer(codes, speaker))
    caches, outputs = layer.initial_caches(2), []
    for t in range(30):
        out, caches = layer.step(codes[:, t], caches, speaker)
        outputs.append(keras.ops.convert_to_numpy(out))
    np.testing.assert_allclose(np.stack(outputs, axis=1), full, atol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer.prefill(codes, speaker)[0]), full, atol=1e-5)
    other = keras.ops.convert_to_numpy(layer(codes, np.array([1, 0], np.int32)))
    assert np.abs(other[0] - full[0]).max() > 1e-3 and np.abs(other[1] - full[1]).max() == 0
    with pytest.raises(ValueError, match="a speaker id is given to WaveNet exactly when it has speakers"):
        layer(codes)


@pytest.fixture(scope="module")
def voiced(tmp_path_factory):
    """wavenet (tiny) conditioned on two speakers (a subfolder each: a low and a high tone), exported."""
    work = tmp_path_factory.mktemp("wavenet_speakers")
    for speaker, frequency in (("low", 220), ("high", 660)):
        (work / "voices" / speaker).mkdir(parents=True)
        for i in range(4):
            audio.write_wav(work / f"voices/{speaker}/{i}.wav", tone(frequency * (1 + 0.02 * i), 0.4), RATE)
    trained = cli("train", "wavenet", "--data", "voices", "--preset", "tiny", "--set", "conditioning=speaker",
                  "--out", "runs/voiced", cwd=work)
    assert trained.returncode == 0, trained.stderr
    export = cli("export", "runs/voiced", cwd=work)
    assert export.returncode == 0, export.stderr
    return work


@pytest.mark.large  # the same export path as the unconditioned model's test (the CLI, parity, synthesize)
def test_a_speaker_conditioned_wavenet_exports_and_synthesizes_in_each_voice(voiced):
    import json

    from seqzoo.exporters import ExportedModel

    card = json.loads((voiced / "saved_models/wavenet/1/seqzoo.json").read_text())
    assert card["meta"]["speakers"] == ["high", "low"] and card["parity"]["tflite_max_abs_diff"] < 1e-5
    assert "speaker" in card["saved_model"]["generate"]["inputs"]
    model = ExportedModel(voiced / "saved_models/wavenet")
    served = model.saved_model.signatures["serving_default"](waveform=tf.constant(tone(440, 0.05)[None]))
    assert served["probabilities"].shape == (1, 2, 256)
    high, low = (model.synthesize(0.05, 0.0, 1, speaker=name) for name in ("high", "low"))
    assert len(high) == len(low) == 400 and not np.array_equal(high, low)
    np.testing.assert_array_equal(model.synthesize(0.05, 0.0, 1), high)  # the first speaker, by default
    made = cli("synthesize", "saved_models/wavenet", "--seconds", "0.05", "--speaker", "low", "--out",
               "low.wav", cwd=voiced)
    assert made.returncode == 0, made.stderr
    wrong = cli("synthesize", "saved_models/wavenet", "--speaker", "nobody", "--out", "x.wav",
                cwd=voiced)
    assert wrong.returncode == 2 and wrong.stderr.splitlines()[-1] == (
        "seqzoo: error: speaker 'nobody' is not one this model speaks as: high, low")


def test_conditioning_on_speakers_the_data_does_not_name_is_refused_before_training(tmp_path):
    from seqzoo.errors import UserError

    (tmp_path / "tones").mkdir()
    for frequency in (220, 330, 440):
        audio.write_wav(tmp_path / f"tones/{frequency}.wav", tone(frequency, 0.3), RATE)
    with pytest.raises(UserError, match="audio.conditioning=speaker needs every recording's speaker, and at "
                                        "least two: '.*tones' names 0"):
        seqzoo.train("wavenet", tmp_path / "tones", preset="tiny", overrides={"conditioning": "speaker"},
                     out=tmp_path / "runs/x")
    assert not (tmp_path / "runs/x/model.keras").exists()
