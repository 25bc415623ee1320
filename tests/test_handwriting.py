"""Handwriting (Graves 2013): the mixture density head, the window network, the data, `seqzoo write`."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import seqzoo
from seqzoo.cli import main
from seqzoo.data.handwriting import (
    Style,
    cut_into_characters,
    legibility,
    read_iam_line,
    synthetic_lines,
    write_synthetic,
)
from seqzoo.decoding.handwriting_writer import HandwritingWriter
from seqzoo.errors import UserError
from seqzoo.layers.mixture_density import mixture_nll, sample_mixture
from seqzoo.tasks.handwriting import greedy_point


def mixture(end, weights, mu_x, mu_y, sigma_x, sigma_y, rho):
    return np.concatenate([[end], weights, mu_x, mu_y, sigma_x, sigma_y, rho]).astype(np.float32)[None]


def test_the_mixture_nll_is_the_bivariate_gaussian_mixtures_and_the_bernoullis():
    params = mixture(0.2, [0.3, 0.7], [0.5, -1.0], [0.0, 2.0], [1.0, 0.5], [2.0, 0.8], [0.6, -0.3])
    point = np.array([[0.4, 1.1, 1.0]], np.float32)
    density = 0.0
    for k in range(2):
        mx, my, sx, sy, r = (
            params[0, 3 + k],
            params[0, 5 + k],
            params[0, 7 + k],
            params[0, 9 + k],
            params[0, 11 + k],
        )
        zx, zy = (0.4 - mx) / sx, (1.1 - my) / sy
        z = zx**2 + zy**2 - 2 * r * zx * zy
        density += (
            params[0, 1 + k]
            * math.exp(-z / (2 * (1 - r * r)))
            / (2 * math.pi * sx * sy * math.sqrt(1 - r * r))
        )
    expected = -(math.log(density) + math.log(0.2))
    assert float(mixture_nll(point, params)[0]) == pytest.approx(expected, rel=1e-5)


def test_the_nll_stays_finite_for_a_point_far_from_every_component():
    params = mixture(1.0, [1.0], [0.0], [0.0], [math.exp(-10)], [math.exp(-10)], [0.999])
    value = float(mixture_nll(np.array([[1e3, -1e3, 0.0]], np.float32), params)[0])
    assert math.isfinite(value) and value > 1e6


def test_a_large_bias_samples_the_heaviest_components_mean_and_greedy_is_deterministic():
    params = mixture(0.0, [0.2, 0.8], [5.0, -3.0], [1.0, 2.0], [1.0, 1.0], [1.0, 1.0], [0.0, 0.0])
    sampled = sample_mixture(tf.constant(params), 30.0, tf.constant([1, 2])).numpy()[0]
    np.testing.assert_allclose(sampled, [-3.0, 2.0, 0.0], atol=1e-6)
    greedy = sample_mixture(tf.constant(params), 0.0, tf.constant([1, 2]), greedy=True).numpy()[0]
    np.testing.assert_array_equal(greedy, [-3.0, 2.0, 0.0])
    # Unbiased, the samples spread as the mixture does: the heavier component is picked about 80 %
    # of the time.
    many = np.stack(
        [sample_mixture(tf.constant(params), 0.0, tf.constant([7, i])).numpy()[0] for i in range(300)]
    )
    assert 0.7 < np.mean(many[:, 0] < 1.0) < 0.9


def test_the_synthetic_writer_joins_glyphs_and_labels_each_point_with_its_character():
    line = write_synthetic("ab cd", Style("scripts", 0.2, 1.0, 0.5, 0.5, 0.1, 2.5), np.random.default_rng(0))
    assert line.points.shape[1] == 3 and line.points.dtype == np.float32
    assert np.all(np.diff(line.chars) >= 0)  # written left to right, each character once
    assert set(line.chars.tolist()) == {0, 1, 3, 4}  # the space draws nothing
    assert line.points[-1, 2] == 1 and 1 <= line.points[:, 2].sum() < 10  # joined: few pen lifts
    np.testing.assert_array_equal(line.points[0, :2], [0.0, 0.0])


def test_legibility_reads_back_every_letter_the_writers_draw_and_no_other():
    lines = synthetic_lines(6, 6, seed=5)
    for line in lines:
        assert legibility(line.points, line.text, line.chars) == (len(line.text.replace(" ", "")),) * 2
        shifted = "".join(c if c == " " else chr((ord(c) - ord("a") + 1) % 26 + ord("a")) for c in line.text)
        assert legibility(line.points, shifted, line.chars)[0] == 0  # the points of an a are no b
    scribble = np.random.default_rng(0).normal(size=(60, 3)).astype(np.float32)
    assert legibility(scribble, "abc", np.repeat(np.arange(3), 20)) == (0, 3)


def test_the_reader_cuts_a_writing_into_its_characters_without_labels():
    lines = synthetic_lines(8, 8, seed=8)
    cuts = [cut_into_characters(line.points, line.text) for line in lines]
    agreement = np.mean([np.mean(cut == line.chars) for cut, line in zip(cuts, lines, strict=True)])
    assert agreement > 0.93, agreement  # the points given to the character that drew them
    read = np.sum([legibility(line.points, line.text) for line in lines], axis=0)
    assert read[0] / read[1] > 0.9, read
    # Read against another line's text, the cut bends towards the wrong glyphs, and few read back.
    pairs = zip(lines[:4], lines[1:5], strict=True)
    wrong = np.sum([legibility(line.points, other.text) for line, other in pairs], axis=0)
    assert wrong[0] / wrong[1] < 0.25, wrong
    line = lines[0]
    assert set(cuts[0][line.points[:, 2] >= 0].tolist()) == {i for i, c in enumerate(line.text) if c != " "}
    too_few = line.points[:3]  # 3 points cannot hold every letter: nothing is cut, nothing reads back
    assert (cut_into_characters(too_few, line.text) == -1).all()
    assert legibility(too_few, line.text) == (0, len(line.text.replace(" ", "")))


IAM = """<?xml version="1.0" encoding="ISO-8859-1"?>
<WhiteboardCaptureSession><Transcription><TextLine text="hi there"/></Transcription>
<StrokeSet>
<Stroke><Point x="100" y="200" time="0.1"/><Point x="104" y="197" time="0.2"/>
<Point x="109" y="199" time="0.3"/></Stroke>
<Stroke><Point x="120" y="200" time="0.5"/><Point x="121" y="190" time="0.6"/></Stroke>
</StrokeSet></WhiteboardCaptureSession>"""


def test_an_iam_ondb_stroke_file_reads_as_offsets_with_its_text(tmp_path):
    path = tmp_path / "a01-000u-01.xml"
    path.write_text(IAM, encoding="latin-1")
    line = read_iam_line(path)
    assert line.text == "hi there"
    np.testing.assert_array_equal(line.points, [[0, 0, 0], [4, 3, 0], [5, -2, 1], [11, -1, 0], [1, 10, 1]])
    assert (line.chars == -1).all()


@pytest.mark.parametrize(
    "content, message",
    [
        ("<StrokeSet><Stroke><Point x='1' y='2'/>", "is not well-formed XML"),
        ('<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>', "declares a DOCTYPE or entities"),
        ("<StrokeSet><Stroke><Point x='1' y='2'/></Stroke></StrokeSet>", "has a single point"),
        (
            "<StrokeSet><Stroke><Point x='1' y='nan'/><Point x='1' y='2'/></Stroke></StrokeSet>",
            "not a finite number",
        ),
        ("<StrokeSet><Stroke><Point x='a' y='2'/></Stroke></StrokeSet>", "without a numeric x and y"),
        (
            "<StrokeSet><Stroke><Point x='1' y='2'/><Point x='3' y='2'/></Stroke></StrokeSet>",
            "has no transcription",
        ),
        ("<StrokeSet></StrokeSet>", "has no StrokeSet/Stroke/Point"),
    ],
)
def test_a_bad_stroke_file_is_refused_in_one_line_naming_it(tmp_path, content, message):
    path = tmp_path / "line.xml"
    path.write_text(content)
    with pytest.raises(UserError, match=message) as raised:
        read_iam_line(path)
    assert str(path) in str(raised.value) and "\n" not in str(raised.value)


def test_training_and_writing_compute_the_same_network():
    """The scanned call (training) and the writer's step (generation) are one function."""
    model = seqzoo.build("handwriting_synthesis", preset="tiny")
    rng = np.random.default_rng(0)
    points = rng.normal(size=(2, 9, 3)).astype(np.float32)
    chars = np.array([[3, 1, 4, 1, 5], [2, 6, 0, 0, 0]], np.int32)
    whole = keras.ops.convert_to_numpy(model([points, chars]))
    writer, states = HandwritingWriter(model), model.get_layer("rnn").initial_states(2)
    for t in range(9):
        mixture_t, states, _ = writer.step(points[:, t], states, chars)
        np.testing.assert_allclose(mixture_t.numpy(), whole[:, t], atol=1e-5)


def test_writing_stops_for_an_empty_text_and_at_max_points():
    model = seqzoo.build("handwriting_synthesis", preset="tiny")
    points, lengths, window = HandwritingWriter(model).write(tf.constant([[1, 2, 3], [0, 0, 0]]), 0.5, 3, 25)
    assert lengths.numpy()[1] == 0 and 1 <= lengths.numpy()[0] <= 25
    assert points.shape == (2, lengths.numpy()[0], 3) and window.shape == (2, lengths.numpy()[0], 3)
    assert not points.numpy()[1].any()


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("handwriting")
    run = seqzoo.train("handwriting_synthesis", preset="tiny", epochs=1, out=folder / "run", verbose=0)
    return seqzoo.export_run(run, base=folder / "saved_models")


def test_a_trained_run_reports_nats_per_point_and_the_windows_alignment(exported):
    card = seqzoo.exporters.ExportedModel(exported).card
    metrics = card["metrics"]
    assert {"val_nats_per_point", "test_nats_per_point", "val_alignment", "val_legibility"} <= set(metrics)
    assert 0.0 <= metrics["val_alignment"] <= 1.0 and math.isfinite(metrics["val_nats_per_point"])
    assert 0.0 <= metrics["val_legibility"] <= 1.0 and 0.0 <= metrics["val_legibility_of_the_data"] <= 1.0
    assert card["parity"]["saved_model_max_abs_diff"] <= 1e-5


def test_the_tflite_file_writes_the_whole_text_from_the_apps_random_numbers(exported):
    model = seqzoo.exporters.ExportedModel(exported)
    write = model._interpreter().get_signature_runner("write")
    points, width = model.setting("max_points"), model.setting("max_chars")
    assert model.card["tflite"]["signatures"] == "write, step"
    alphabet = model.setting("alphabet")
    chars = np.zeros((1, width), np.int32)
    chars[0, :3] = [alphabet.index(c) + 1 for c in "bad"]
    uniform = np.random.default_rng(5).random((points, 4), dtype=np.float32)
    out = write(chars=chars, bias=np.float32(1.0), uniform=uniform)
    n = int(out["lengths"][0])
    assert 1 <= n <= points and out["strokes"].shape == (1, points, 3) and not out["strokes"][0, n:].any()
    assert out["strokes"][0, n - 1, 2] == 1.0  # the pen lifted at the text's end
    run = seqzoo.load_run(exported.parent.parent.parent / "run")
    expected, lengths, _ = HandwritingWriter(run.model).write(tf.constant(chars), 1.0, None, points,
                                                               uniform=tf.constant(uniform[:, None]))
    scale = np.array([*model.setting("offset_scale"), 1.0], np.float32)
    assert int(lengths[0]) == n
    np.testing.assert_allclose(out["strokes"][0, :n], expected.numpy()[0] * scale, atol=1e-3)
    other = write(chars=chars, bias=np.float32(1.0), uniform=uniform[::-1].copy())
    assert not np.array_equal(other["strokes"], out["strokes"])  # other numbers, another writing
    for bias in (np.nan, -1.0):  # LiteRT cannot raise: a bad bias writes nothing
        assert write(chars=chars, bias=np.float32(bias), uniform=uniform)["lengths"][0] == 0
    assert model.card["parity"]["tflite_max_abs_diff"] <= 1e-3  # greedy steps and sampled writing


def test_write_draws_the_text_and_its_window(exported, tmp_path, capsys):
    out = tmp_path / "hello.svg"
    assert main(["write", str(exported), "bad", "--bias", "1", "--seed", "3", "--out", str(out)]) == 0
    assert out.read_text().startswith("<?xml") and (tmp_path / "hello.window.png").stat().st_size > 1000
    assert "points" in capsys.readouterr().out
    again = seqzoo.exporters.ExportedModel(exported).write("bad", 1.0, 3)
    assert again["strokes"].shape[1] == 3 and again["window"].shape[1] == 3
    np.testing.assert_array_equal(
        again["strokes"], seqzoo.exporters.ExportedModel(exported).write("bad", 1.0, 3)["strokes"]
    )


def test_a_prediction_model_draws_each_points_predicted_distribution_over_its_writing(tmp_path, capsys):
    from seqzoo.tasks.handwriting import in_data_units

    run = seqzoo.train("handwriting_prediction", preset="tiny", epochs=1, out=tmp_path / "run", verbose=0)
    folder = seqzoo.export_run(run, base=tmp_path / "saved_models")
    out = tmp_path / "free.png"
    assert main(["write", str(folder), "--max-points", "40", "--seed", "3", "--out", str(out)]) == 0
    assert capsys.readouterr().out.startswith(f"wrote {out} and {tmp_path / 'free.density.png'} (40 points")
    assert (tmp_path / "free.density.png").stat().st_size > 1000
    exported, model = seqzoo.exporters.ExportedModel(folder), seqzoo.load_run(run).model
    strokes = exported.write(None, 1.0, 3, 40)["strokes"]
    scale = np.array([*exported.setting("offset_scale"), 1.0], np.float32)
    points = np.concatenate([[[0.0, 0.0, 1.0]], strokes[:-1] / scale])[None].astype(np.float32)
    teacher_forced = in_data_units(model(points)[0], tf.constant(scale)).numpy()
    np.testing.assert_allclose(exported.mixtures(strokes), teacher_forced, atol=1e-4)
    with pytest.raises(UserError, match="the strokes are not finite"):
        exported.mixtures(np.full((3, 3), np.nan))


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["", "--out", "x.svg"], "the text is empty"),
        (["b\u00e9d", "--out", "x.svg"], "the model was not trained on '\u00e9'"),
        (["bad", "--bias", "-1", "--out", "x.svg"], "bias must be in \\[0, 100\\], got -1.0"),
        (["bad", "--bias", "nan", "--out", "x.svg"], "bias must be a finite number"),
        (["bad", "--max-points", "0", "--out", "x.svg"], "max points must be between 1 and 4000"),
        (["bad", "--max-points", "99999", "--out", "x.svg"], "max points must be between 1 and 4000"),
        (["a" * 41, "--out", "x.svg"], "the text has 41 characters; this model writes at most 40"),
        (["bad", "--out", "x.txt"], "name an .svg, .png or .pdf file"),
    ],
)
def test_write_refuses_bad_input_in_one_line_with_exit_2(
    exported, tmp_path, monkeypatch, capsys, arguments, message
):
    monkeypatch.chdir(tmp_path)
    assert main(["write", str(exported), *arguments]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("seqzoo: error:")
    assert __import__("re").search(message, err), err
    assert not list(tmp_path.iterdir())


def _iam_file(line, path):
    """A line written as an IAM-OnDB stroke file (y grows downwards there)."""
    xy = np.cumsum(line.points[:, :2], axis=0) * [1.0, -1.0]
    strokes = np.split(xy, np.flatnonzero(line.points[:, 2] > 0.5)[:-1] + 1)
    body = "".join("<Stroke>" + "".join(f'<Point x="{x:.4f}" y="{y:.4f}" time="0"/>' for x, y in stroke)
                   + "</Stroke>" for stroke in strokes)
    path.write_text('<?xml version="1.0"?><WhiteboardCaptureSession><Transcription>'
                    f'<TextLine text="{line.text}"/></Transcription><StrokeSet>{body}</StrokeSet>'
                    "</WhiteboardCaptureSession>")
    return path


def test_priming_reads_the_writers_points_before_writing_on():
    model = seqzoo.build("handwriting_synthesis", preset="tiny")
    prime = np.random.default_rng(1).normal(size=(1, 7, 3)).astype(np.float32)
    chars = np.array([[3, 1, 4, 1, 5, 2]], np.int32)
    points, lengths, _ = HandwritingWriter(model).write(tf.constant(chars), 0.0, 0, 1, greedy=True,
                                                        prime=tf.constant(prime))
    read = keras.ops.convert_to_numpy(model([np.concatenate([[[[0.0, 0.0, 1.0]]], prime], axis=1), chars]))
    assert int(lengths[0]) == 1  # only the new point is returned
    np.testing.assert_allclose(points.numpy()[0, 0], greedy_point(read[0, -1]), atol=1e-5)


def test_write_in_the_style_of_a_writers_line(exported, tmp_path, capsys):
    slanted = Style("scripts", 0.45, 1.0, 0.5, 0.5, 0.1, 2.5)
    style = _iam_file(write_synthetic("dab", slanted, np.random.default_rng(0)), tmp_path / "writer.xml")
    out = tmp_path / "styled.svg"
    arguments = ["bad", "--style-of", str(style), "--seed", "3", "--out", str(out)]
    assert main(["write", str(exported), *arguments]) == 0
    assert out.read_text().startswith("<?xml") and "points" in capsys.readouterr().out
    model, line = seqzoo.exporters.ExportedModel(exported), read_iam_line(style)
    styled = model.write("bad", 1.0, 3, style=line)
    assert styled["window"].shape[1] == len("dab bad")  # the window runs over the style's text too
    assert not np.array_equal(styled["strokes"][:5], model.write("bad", 1.0, 3)["strokes"][:5])
    run = seqzoo.load_run(exported.parent.parent.parent / "run")
    scale = np.array([*model.setting("offset_scale"), 1.0], np.float32)
    alphabet = model.setting("alphabet")
    chars = tf.constant([[alphabet.index(c) + 1 for c in "dab bad"]])
    prime = tf.constant((line.points / scale)[None])
    expected, lengths, _ = tf.function(HandwritingWriter(run.model).write)(
        chars, tf.constant(1.0), 3, model.setting("max_points"), prime=prime)
    np.testing.assert_allclose(styled["strokes"], expected.numpy()[0, : int(lengths[0])] * scale, atol=1e-4)


def test_a_bad_style_is_refused_in_one_line(exported, tmp_path, capsys):
    unknown = write_synthetic("dab", Style("scripts", 0.2, 1.0, 0.5, 0.5, 0.1, 2.5), np.random.default_rng(0))
    unknown.text = "d\u00e9b"
    cases = [(tmp_path / "broken.xml", "is not well-formed XML"),
             (_iam_file(unknown, tmp_path / "accent.xml"), "the style's text holds '\u00e9'")]
    cases[0][0].write_text("<WhiteboardCaptureSession><StrokeSet>")
    for path, message in cases:
        out = str(tmp_path / "x.svg")
        assert main(["write", str(exported), "bad", "--style-of", str(path), "--out", out]) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and message in err, err
    assert not (tmp_path / "x.svg").exists()


@pytest.mark.parametrize("content, message", [
    (b"hello world", "is not a seqzoo handwriting .npz \\(This file contains pickled \\(object\\) data\\)"),
    (b"PK\x03\x04" + b"\x00" * 40, "is not a seqzoo handwriting .npz"),
])
def test_a_damaged_handwriting_npz_is_refused_in_one_line(tmp_path, content, message):
    from seqzoo.data.handwriting import read_lines

    path = tmp_path / "lines.npz"
    path.write_bytes(content)
    with pytest.raises(UserError, match=message) as raised:
        read_lines(path)
    assert "\n" not in str(raised.value)


def test_too_few_writers_for_a_split_is_refused_naming_writers(tmp_path):
    for i in range(2):
        (tmp_path / f"line{i}.xml").write_text(IAM.replace("hi there", f"line {i}"), encoding="latin-1")
    with pytest.raises(UserError, match="at least 3 usable writers are needed"):
        seqzoo.train("handwriting_synthesis", tmp_path, preset="tiny", out=tmp_path / "run", verbose=0)
