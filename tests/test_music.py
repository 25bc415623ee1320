"""Music: piano rolls from scores, the next-frame models, composing in the graph, the CLI."""

import shutil
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf
from command import cli

import seqzoo
from seqzoo.data import music
from seqzoo.decoding import generator_for
from seqzoo.errors import SeqzooNote, UserError
from seqzoo.losses import frame_nll
from seqzoo.tasks import get_task

CADENCE = [[48, 60, 64, 67], [53, 60, 65, 69], [55, 59, 62, 67], [48, 60, 64, 72]]  # I IV V I in C


def score(events, percussion=()):
    """A music21 score of (offset, quarter length, MIDI numbers) events, plus unpitched hits."""
    from music21 import chord, note, stream

    part = stream.Part()
    for offset, length, pitches in events:
        element = note.Note(pitches[0]) if len(pitches) == 1 else chord.Chord(pitches)
        element.quarterLength = length
        part.insert(offset, element)
    for offset in percussion:
        part.insert(offset, note.Unpitched(quarterLength=1))
    whole = stream.Score()
    whole.insert(0, part)
    return whole


def write_midi(whole, path):
    whole.write("midi", fp=str(path))
    return path


@pytest.fixture(scope="session")
def chorales(tmp_path_factory):
    """Eight of music21's Bach chorales, a damaged file, an empty one and a percussion-only MIDI."""
    folder = tmp_path_factory.mktemp("chorales")
    for path in sorted(music.bach_chorales().glob("*.mxl"))[:8]:
        shutil.copy(path, folder)
    (folder / "damaged.mxl").write_bytes(b"PK\x03\x04 not a zip")
    (folder / "empty.mid").write_bytes(b"")
    write_midi(score([], percussion=[0, 1, 2, 3]), folder / "drums.mid")
    return folder


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQZOO_CACHE", str(tmp_path / "cache"))


def test_piano_roll_samples_the_sounding_pitches_at_each_quarter_note():
    whole = score([(0, 2, [60, 64]), (1, 0.5, [67]), (1.5, 0.5, [69]), (2, 1, [110]), (3, 1, [21, 108])],
                  percussion=[0, 4, 5])
    roll, outside = music.piano_roll(whole)
    assert music.roll_chords(roll) == [[60, 64], [60, 64, 67], [], [21, 108]]  # 69 starts off the beat
    assert outside == 1  # MIDI 110; the drums after beat 4 are neither notes nor trailing frames


def test_damaged_empty_and_percussion_only_files_are_skipped_with_a_count(chorales):
    with pytest.warns(SeqzooNote, match=r"skipped 3 of 11 score files that cannot be used \(first: "
                                        r"'damaged.mxl': "):
        rolls = music.read_rolls(chorales)
    assert len(rolls.rolls) == 8
    assert dict(rolls.skipped)["drums.mid"] == "no pitched notes"
    assert all(r.dtype == np.uint8 and r.shape[1] == 88 and set(np.unique(r)) <= {0, 1} for r in rolls.rolls)


def test_rolls_are_cached_as_npz_without_pickle_and_read_back_without_parsing(chorales, monkeypatch,
                                                                              tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SeqzooNote)
        first = music.read_rolls(chorales)
        [cached] = (tmp_path / "cache" / "music").glob("*.npz")
        with np.load(cached, allow_pickle=False) as arrays:
            assert arrays["frames"].dtype == np.uint8 and arrays["lengths"].sum() == first.frames
        monkeypatch.setattr(music, "parse_score", lambda *a: pytest.fail("parsed again"))
        again = music.read_rolls(chorales)
    assert again.names == first.names
    assert all((a == b).all() for a, b in zip(again.rolls, first.rolls, strict=True))


def test_a_damaged_cache_is_parsed_again(chorales, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SeqzooNote)
        first = music.read_rolls(chorales)
        [cached] = (tmp_path / "cache" / "music").glob("*.npz")
        cached.write_bytes(cached.read_bytes()[:100])
        assert music.read_rolls(chorales).frames == first.frames


def test_transposing_to_c_moves_each_score_by_its_key(chorales):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SeqzooNote)
        plain, moved = music.read_rolls(chorales), music.read_rolls(chorales, transpose="c")
    from music21 import converter

    key = converter.parse(str(chorales / plain.names[0])).analyze("key")
    shift = (-key.tonic.pitchClass + 6) % 12 - 6
    np.testing.assert_array_equal(np.roll(plain.rolls[0], shift, axis=1), moved.rolls[0])


def test_a_folder_with_no_usable_score_is_one_clear_error(tmp_path):
    write_midi(score([], percussion=[0, 1]), tmp_path / "drums.mid")
    with pytest.raises(UserError, match=r"no usable scores in .*: all 1 files were skipped \(first: "
                                        r"'drums.mid': no pitched notes\)"), pytest.warns(SeqzooNote):
        music.read_rolls(tmp_path)
    with pytest.raises(UserError, match="holds no score files"):
        music.read_rolls(tmp_path / "none*.mid")


def test_split_keeps_whole_scores_in_the_jsb_proportions():
    rolls = music.Rolls([str(i) for i in range(382)], [np.zeros((4, 88), np.uint8)] * 382)
    train, validation, test = music.split_rolls(rolls, 0.2, 0.2, seed=1)
    assert (len(train.names), len(validation.names), len(test.names)) == (230, 76, 76)
    assert len(set(train.names) | set(validation.names) | set(test.names)) == 382
    assert music.split_rolls(rolls, 0.2, 0.2, seed=1)[1].names == validation.names
    with pytest.raises(UserError, match="at least 3 usable scores"):
        music.split_rolls(music.Rolls(["a", "b"], [np.zeros((4, 88))] * 2), 0.2, 0.2, 1)


def test_padded_batches_weigh_only_real_frames_so_the_loss_is_the_per_frame_mean():
    rolls = music.Rolls(["a", "b"], [np.eye(88, dtype=np.uint8)[:4], np.eye(88, dtype=np.uint8)[:6]])
    x, y, weights = next(iter(music.frame_batches(music.next_frame_examples(rolls), 2)))
    assert x.shape == (2, 5, 88)
    np.testing.assert_allclose(weights.numpy(), [[10 / 8] * 3 + [0] * 2, [10 / 8] * 5])
    probabilities = tf.fill(y.shape, 0.3)
    per_frame = frame_nll(y, probabilities).numpy()
    expected = -(np.log(0.3) + 87 * np.log(0.7))  # one note on per frame
    np.testing.assert_allclose(per_frame[0, :3], expected, rtol=1e-5)
    # Keras' reduction, sum(loss * weight) / (batch * time), is then the mean over the 8 real frames.
    from keras.src.losses.losses import LossFunctionWrapper  # what compile(loss=frame_nll) makes

    loss = LossFunctionWrapper(frame_nll)
    np.testing.assert_allclose(float(loss(y, probabilities, sample_weight=weights)), expected, rtol=1e-5)


@pytest.mark.parametrize("text, midi", [("C4 E4 G4 C5", [60, 64, 67, 72]), ("Bb3, F#4 60", [58, 66, 60]),
                                        ("A0 C8", [21, 108])])
def test_note_names_and_numbers(text, midi):
    assert music.parse_notes(text) == midi


@pytest.mark.parametrize("text, message", [
    ("H4", "'H4' is not a note: use a name with its octave"),
    ("C", "'C' is not a note"),
    ("  ", "the start chord is empty"),
    ("C9", r"note 'C9' \(MIDI 120\) is outside the piano's range"),
    ("20", r"note '20' \(MIDI 20\) is outside"),
])
def test_bad_start_notes_name_the_problem(text, message):
    with pytest.raises(UserError, match=message):
        music.parse_notes(text)


@pytest.mark.parametrize("name", ["tcn_music", "lstm_music", "gru_music", "rnn_music"])
def test_the_streaming_step_gives_the_models_own_outputs(name):
    keras.utils.set_random_seed(1)
    model = seqzoo.build(name, preset="tiny")
    frames = np.random.default_rng(0).integers(0, 2, (2, 9, 88)).astype("float32")
    expected = keras.ops.convert_to_numpy(model(frames))
    generator = generator_for(model)
    states = generator.initial_states(2)
    for t in range(9):
        probabilities, states = generator.step(tf.constant(frames[:, t]), states)
        np.testing.assert_allclose(probabilities.numpy(), expected[:, t], atol=1e-5)


@pytest.mark.parametrize("name", ["tcn_music", "lstm_music"])
def test_default_sizes_are_the_papers_300k(name):
    assert 250_000 < seqzoo.build(name).count_params() < 300_000


@pytest.fixture(scope="module")
def cadence_model():
    """lstm_music trained on the I-IV-V-I cadence, repeated: it must have learned what follows what."""
    keras.utils.set_random_seed(0)
    model = seqzoo.build("lstm_music", preset="tiny", units=32, learning_rate=0.02)
    roll = music.chord_frames(CADENCE * 6)
    model.fit(roll[None, :-1], roll[None, 1:], epochs=150, verbose=0)
    config = seqzoo.get_config("lstm_music", preset="tiny")
    from seqzoo.tasks.music import music_meta

    meta = music_meta(config, {})
    function, signature = get_task("music").endpoints(model, None, meta)["generate"]
    return model, tf.function(function, input_signature=signature)


def test_greedy_generation_reproduces_the_cadence_it_was_trained_on(cadence_model):
    _, generate = cadence_model
    roll = generate(start=tf.constant([CADENCE[0]]), frames=tf.constant(11), temperature=tf.constant(0.0),
                    seed=tf.constant(0))["piano_roll"].numpy()
    assert music.roll_chords(roll) == CADENCE * 3


def test_sampling_is_seeded_and_every_frame_is_binary_within_the_piano(cadence_model):
    _, generate = cadence_model
    args = dict(start=tf.constant([[60, 64, 0], [62, 0, 0]]), frames=tf.constant(20),
                temperature=tf.constant(1.5))
    first, again, other = (generate(**args, seed=tf.constant(s))["piano_roll"].numpy() for s in (3, 3, 4))
    assert first.shape == (22, 88) and set(np.unique(first)) <= {0.0, 1.0}
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert music.roll_chords(first[:2]) == [[60, 64], [62]]


@pytest.mark.parametrize("args, message", [
    (dict(start=[[60, 200]], frames=4), "start notes must be MIDI 21 to 108"),
    (dict(start=np.zeros((0, 2), np.int32), frames=4), "start holds no frame"),
    (dict(start=[[60]], frames=0), "frames < 1"),
    (dict(start=[[60]], frames=2001), "frames > 2000"),
])
def test_the_generate_graph_refuses_bad_requests(cadence_model, args, message):
    _, generate = cadence_model
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        generate(start=tf.constant(args["start"], tf.int32), frames=tf.constant(args["frames"]),
                 temperature=tf.constant(1.0), seed=tf.constant(0))


def test_a_generated_roll_written_as_midi_or_musicxml_reads_back_the_same(cadence_model, tmp_path):
    _, generate = cadence_model
    roll = generate(start=tf.constant([CADENCE[0]]), frames=tf.constant(15), temperature=tf.constant(1.0),
                    seed=tf.constant(5))["piano_roll"].numpy()
    roll[4] = 0  # a rest inside
    for name in ("out.mid", "out.musicxml"):
        back, outside = music.parse_score(music.write_score(roll, tmp_path / name))
        np.testing.assert_array_equal(back, roll[: len(back)])
        assert not roll[len(back):].any() and outside == 0  # only trailing silence is not kept


@pytest.fixture(scope="module")
def exported(chorales, tmp_path_factory):
    """tcn_music trained (tiny) on the chorales folder and exported, through the CLI."""
    work = tmp_path_factory.mktemp("music_cli")
    trained = cli("train", "tcn_music", "--data", chorales, "--preset", "tiny", "--out", "runs/tcn", cwd=work)
    assert trained.returncode == 0, trained.stderr
    assert "seqzoo: note: skipped 3 of 11 score files" in trained.stderr
    export = cli("export", "runs/tcn", cwd=work)
    assert export.returncode == 0, export.stderr
    return work, trained.stdout, export.stdout


def test_train_evaluate_and_export_through_the_cli(exported, chorales):
    work, trained, export = exported
    assert "val_nll_per_frame=" in trained and "test_nll_per_frame=" in trained
    assert not (work / "runs/tcn/vectorizer.json").exists()
    evaluated = cli("evaluate", "runs/tcn", "--data", chorales, cwd=work)
    assert evaluated.returncode == 0 and evaluated.stdout.startswith("nll_per_frame"), evaluated.stderr
    nll = float(evaluated.stdout.split()[1])
    assert 1 < nll < 88 * np.log(2)  # better than a coin per note, worse than perfect
    import json

    card = json.loads((work / "saved_models/tcn_music/1/seqzoo.json").read_text())
    assert card["task"] == "music" and card["parity"]["tflite_max_abs_diff"] < 1e-5
    assert "vocabulary_file" not in card["tflite"]
    assert not (work / "saved_models/tcn_music/1/vocabulary.json").exists()


def test_compose_writes_midi_and_a_piano_roll_png(exported):
    work, _, _ = exported
    composed = cli("compose", "saved_models/tcn_music", "--start", "C4 E4 G4 C5", "--frames", "12",
                   "--temperature", "0.9", "--seed", "3", "--out", "chorale.mid", cwd=work)
    assert composed.returncode == 0, composed.stderr
    assert "wrote chorale.mid (13 frames: 1 given, 12 generated) and chorale.png" in composed.stdout
    back, _ = music.parse_score(work / "chorale.mid")
    assert music.roll_chords(back[:1]) == [[60, 64, 67, 72]]
    assert (work / "chorale.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("args, message", [
    (["--start", "H4"], "'H4' is not a note"),
    (["--start", ""], "the start chord is empty"),
    (["--start", "C4", "--frames", "0"], "frames must be between 1 and 2000"),
    (["--start", "C4", "--frames", "2001"], "frames must be between 1 and 2000"),
    (["--start", "C4", "--temperature", "nan"], "temperature must be a finite number"),
    (["--start", "silence.mid"], "cannot use start score 'silence.mid': no pitched notes"),
    (["--start", "missing.mid"], "start score 'missing.mid' does not exist"),
    (["--start", "C4", "--out", "x.wav"], "--out 'x.wav': name a .mid or .musicxml file"),
])
def test_bad_compose_requests_are_one_line_and_exit_2(exported, args, message, capsys, monkeypatch):
    from seqzoo.cli import main

    work, _, _ = exported
    monkeypatch.chdir(work)
    write_midi(score([], percussion=[0, 1]), work / "silence.mid")
    out = [] if "--out" in args else ["--out", "x.mid"]
    assert main(["compose", "saved_models/tcn_music", *args, *out]) == 2
    error = capsys.readouterr().err
    assert message in error and len(error.strip().splitlines()) == 1, error


def test_training_on_a_folder_of_percussion_only_midi_is_one_line_and_exit_2(tmp_path):
    write_midi(score([], percussion=[0, 1, 2]), tmp_path / "drums.mid")
    result = cli("train", "lstm_music", "--data", tmp_path, "--preset", "tiny", "--out", "runs/x",
                 cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "no usable scores" in result.stderr and not (tmp_path / "runs/x").exists()


def test_the_jsb_row_trains_matched_models_and_reads_finished_runs_back(chorales, tmp_path, monkeypatch):
    from seqzoo import paper

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SeqzooNote)
        runs = paper.run_jsb(["tcn", "rnn"], epochs=1, out=tmp_path, data=chorales)
    assert [(r.model, r.epochs) for r in runs] == [("tcn", 1), ("rnn", 1)]
    assert abs(runs[1].parameters - runs[0].parameters) / runs[0].parameters < 0.01  # matched size
    assert all(0 < r.value < 88 for r in runs) and runs[0].published == 8.10
    table = paper.markdown(runs, quick=False).splitlines()
    assert table[2].startswith("| jsb | - | test NLL per frame | tcn | 269,938 |")
    assert table[2].endswith(f"| 8.10 | 1 | {table[2].split(' | ')[8]} | {paper.device()} | finished |")
    monkeypatch.setattr(seqzoo, "train", lambda *a, **k: pytest.fail("a finished run was trained again"))
    again = paper.run_jsb(["tcn", "rnn"], epochs=1, out=tmp_path, data=chorales)
    assert [r.value for r in again] == [r.value for r in runs]


def test_paper_jsb_refuses_a_sequence_length(capsys):
    from seqzoo.cli import main

    assert main(["paper", "--task", "jsb", "--T", "100"]) == 2
    assert "--T is for adding and copy_memory; jsb has its own lengths" in capsys.readouterr().err
