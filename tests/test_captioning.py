"""show_tell / show_attend_tell: digit scenes, readers, image decoding, decoder options, metrics,
export with image bytes in, the CLI, bad images."""

import io
import json
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import seqzoo
from seqzoo.cli import main
from seqzoo.data.captions import digit_scenes, read_captions, scene_captions
from seqzoo.data.images import decode_images, file_problem
from seqzoo.decoding.translator import Translator
from seqzoo.errors import SeqzooNote, UserError
from seqzoo.exporters import ExportedModel
from seqzoo.tasks.captioning import END_ID, START_ID, grounding


def encoded(pixels, fmt="PNG", **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, fmt, **options)
    return buffer.getvalue()


RGB = (np.arange(16 * 16 * 3) % 251).astype(np.uint8).reshape(16, 16, 3)


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    return digit_scenes({"train": 160, "validation": 24, "test": 24}, tmp_path_factory.mktemp("scenes"))


@pytest.fixture(scope="module")
def exported(scenes, tmp_path_factory):
    """A tiny show_attend_tell trained on 160 scenes, and its export."""
    run = seqzoo.train("show_attend_tell", scenes, preset="tiny", out=tmp_path_factory.mktemp("runs") / "sat",
                       verbose=0)
    return run, seqzoo.export_run(run, base=tmp_path_factory.mktemp("saved_models"))


def test_every_caption_names_each_digit_its_size_and_place(scenes):
    boxes = json.loads((scenes / "boxes.json").read_text())
    lines = (scenes / "train.tsv").read_text().splitlines()
    by_image = {}
    for line in lines:
        path, caption = line.split("\t")
        by_image.setdefault(path, []).append(caption)
    assert len(by_image) == 160
    for path, captions in by_image.items():
        scene = boxes[path]
        assert 1 <= len(scene) <= 4
        assert captions == scene_captions(scene)
        for digit in scene:
            assert f"a {digit['size']} {digit['digit']} at the {digit['where']}" in captions[0]
            top, left, bottom, right = digit["box"]
            assert 0 <= top < bottom <= 1 and 0 <= left < right <= 1
        assert Image.open(scenes / path).size == (64, 64)


def test_references_list_rows_then_columns():
    scene = [{"digit": 2, "size": "small", "where": "bottom left"},
             {"digit": 7, "size": "large", "where": "top right"}]
    assert scene_captions(scene) == [
        "a large 7 at the top right and a small 2 at the bottom left",
        "a small 2 at the bottom left and a large 7 at the top right",
    ]


def test_readers_for_coco_flickr_and_tsv_gather_references(tmp_path):
    for name in ("a.png", "b.png"):
        (tmp_path / name).write_bytes(encoded(RGB))
    (tmp_path / "coco.json").write_text(json.dumps({
        "images": [{"id": 1, "file_name": "a.png"}, {"id": 2, "file_name": "b.png"}],
        "annotations": [{"image_id": 1, "caption": "A cat."}, {"image_id": 2, "caption": "a dog"},
                        {"image_id": 1, "caption": "a small cat"}]}))
    (tmp_path / "flickr.txt").write_text("a.png#0\tA cat.\na.png#1\ta small cat\nb.png#0\ta dog\n")
    (tmp_path / "pairs.tsv").write_text("a.png\tA cat.\nb.png\ta dog\na.png\ta small cat\n")
    for name in ("coco.json", "flickr.txt", "pairs.tsv"):
        read = read_captions(tmp_path / name)
        assert [p.rsplit("/", 1)[1] for p in read.paths] == ["a.png", "b.png"]
        assert read.captions == [["A cat.", "a small cat"], ["a dog"]]


def test_missing_and_broken_images_are_skipped_with_a_note_and_none_is_an_error(tmp_path):
    (tmp_path / "a.png").write_bytes(encoded(RGB))
    (tmp_path / "cut.png").write_bytes(encoded(RGB)[:40])
    (tmp_path / "pairs.tsv").write_text("a.png\tone\ncut.png\ttwo\ngone.png\tthree\n")
    with pytest.warns(SeqzooNote, match=r"2 of 3 captions .* skipped: their images are missing.*a cut PNG"):
        read = read_captions(tmp_path / "pairs.tsv")
    assert read.captions == [["one"]]
    (tmp_path / "bad.tsv").write_text("gone.png\tthree\n")
    with pytest.raises(UserError, match=r"no readable image .*gone.png': missing\); give the folder with"):
        read_captions(tmp_path / "bad.tsv")
    (tmp_path / "bad.json").write_text('{"images": []}')
    with pytest.raises(UserError, match="not a COCO captions JSON file .*missing 'annotations'"):
        read_captions(tmp_path / "bad.json")
    (tmp_path / "notab.tsv").write_text("a.png one\n")
    with pytest.raises(UserError, match=r"notab.tsv:1: no tab"):
        read_captions(tmp_path / "notab.tsv")


def test_decode_images_flags_bad_images_and_keeps_the_batch():
    png, jpeg = encoded(RGB), encoded(RGB, "JPEG")
    cases = {
        "png": (png, True), "jpeg": (jpeg, True), "gif": (encoded(RGB, "GIF"), True),
        "bmp": (encoded(RGB, "BMP"), True), "gray": (encoded(RGB[..., 0]), True),
        "rgba": (encoded(np.dstack([RGB, RGB[..., :1]])), True),
        "16-bit": (encoded((np.arange(256).reshape(16, 16) * 200).astype(np.uint16)), True),
        "1x1": (encoded(RGB[:1, :1]), True), "cut jpeg": (jpeg[: len(jpeg) // 2], False),
        "cut png": (png[: len(png) // 2], False), "text": (b"hello", False), "empty": (b"", False),
        "huge header": (png[:16] + (100_000).to_bytes(4, "big") * 2 + png[24:], False),
    }
    images, ok = decode_images(tf.constant([data for data, _ in cases.values()]), 8)
    assert ok.numpy().tolist() == [valid for _, valid in cases.values()]
    assert images.shape == (len(cases), 8, 8, 3)
    assert np.all(images.numpy()[~ok.numpy()] == 0)
    np.testing.assert_allclose(images.numpy()[0], tf.image.resize(RGB.astype("float32"), [8, 8],
                                                                  antialias=True).numpy(), atol=1e-3)
    assert file_problem("/nonexistent") == "cannot read it: No such file or directory"


@pytest.mark.parametrize("options", [{}, {"progressive": True}, {"optimize": True, "subsampling": 0},
                                     {"restart_marker_blocks": 4}])
def test_a_jpeg_cut_mid_scan_with_its_end_marker_put_back_is_flagged(options):
    # libjpeg only warns on such a file and fills the missing blocks with gray: without the probe
    # it was captioned as a valid image.
    photo = np.clip(np.random.default_rng(0).normal(120, 50, (96, 128, 3)), 0, 255).astype(np.uint8)
    whole = encoded(photo, "JPEG", quality=90, **options)
    cuts = [whole[: int(len(whole) * share)] + b"\xff\xd9" for share in (0.5, 0.8, 0.97)]
    images, ok = decode_images(tf.constant([whole, *cuts, encoded(photo[..., 0], "JPEG", **options)]), 8)
    assert ok.numpy().tolist() == [True, False, False, False, True]
    np.testing.assert_allclose(images[0], tf.image.resize(tf.io.decode_jpeg(whole), [8, 8], antialias=True),
                               atol=1e-3)


def test_grounding_counts_digit_words_whose_attention_lies_in_their_box():
    scene = [{"digit": 7, "box": [0.0, 0.0, 0.5, 0.5]}]
    inside, outside = np.zeros((2, 2)), np.zeros((2, 2))
    inside[0, 0], outside[1, 1] = 1.0, 1.0
    tokens = np.array([[b"a", b"7", b""]])
    assert grounding([scene], tokens, np.stack([[np.zeros((2, 2)), inside, outside]])) == 1.0
    assert grounding([scene], tokens, np.stack([[np.zeros((2, 2)), outside, inside]])) == 0.0


def test_the_doubly_stochastic_penalty_is_lambda_times_the_uncovered_mass():
    model = seqzoo.build("show_attend_tell", preset="tiny", gate=True, attention_penalty=2.0)
    images = np.random.default_rng(0).uniform(0, 255, (2, 16, 16, 3)).astype("float32")
    captions = np.array([[START_ID, 5, 6], [START_ID, 7, 0]], np.int32)
    model([images, captions])
    translator = Translator(model, START_ID, END_ID)
    memory, keys, mask, states = translator.encode(tf.constant(images))
    coverage = np.zeros(mask.shape)
    for step in range(captions.shape[1]):
        _, states, weights = translator.step(tf.constant(captions[:, step]), states, memory, keys, mask)
        coverage += weights.numpy() * (captions[:, step] != 0)[:, None]
    expected = 2.0 * np.mean(np.sum((1 - coverage) ** 2, axis=-1))
    np.testing.assert_allclose(float(model.losses[0]), expected, rtol=1e-5)
    assert seqzoo.build("show_attend_tell", preset="tiny").losses == []


def test_options_that_need_attention_are_refused_without_it():
    from seqzoo.layers import RecurrentDecoder

    with pytest.raises(UserError, match="gate and attention_penalty act on attention weights"):
        RecurrentDecoder(40, 8, "lstm", 16, attention=None, gate=True)
    with pytest.raises(UserError, match="summary_first feeds the context once, without attention"):
        RecurrentDecoder(40, 8, "lstm", 16, attention="bahdanau", summary_first=True)
    with pytest.raises(UserError, match="image_size 4 is too small for 3 pooling blocks: it must be at"):
        seqzoo.build("show_attend_tell", image_size=4)


def test_a_keras_applications_backbone_loads_a_local_weights_file(tmp_path):
    weights = tmp_path / "mnv3s.weights.h5"
    backbone = keras.applications.MobileNetV3Small(include_top=False, weights=None, input_shape=(32, 32, 3))
    backbone.save_weights(weights)
    model = seqzoo.build("show_tell", preset="tiny", image_size=32, backbone="mobilenet_v3_small",
                         backbone_weights=str(weights))
    encoder = model.get_layer("encoder")
    np.testing.assert_array_equal(encoder.backbone.weights[0].numpy(), backbone.weights[0].numpy())
    assert encoder.grid() == (1, 1)
    with pytest.raises(UserError, match=r"never downloads: save them on a machine with internet: .*"
                                        r"MobileNetV3Small\(include_top=False\)"):
        seqzoo.build("show_tell", preset="tiny", image_size=32, backbone="mobilenet_v3_small")
    with pytest.raises(UserError, match="backbone 'mobilenet_v3_smal'; did you mean 'mobilenet_v3_small'"):
        seqzoo.build("show_tell", preset="tiny", backbone="mobilenet_v3_smal")


def test_training_reports_bleu_exact_match_by_objects_and_grounding(exported):
    run, _ = exported
    metrics = json.loads((run / "run.json").read_text())["metrics"]
    for key in ("val_loss", "val_bleu1", "val_bleu4", "val_exact_match", "val_grounding"):
        assert np.isfinite(metrics[key]), key
    by_objects = {k for k in metrics if k.startswith("val_exact_match[")}
    assert by_objects <= {f"val_exact_match[{n}]" for n in range(1, 5)} and by_objects
    assert 0.0 <= metrics["val_grounding"] <= 1.0


def test_the_export_captions_image_bytes_and_flags_bad_ones(exported, scenes):
    _, version = exported
    card = json.loads((version / "seqzoo.json").read_text())
    assert card["parity"]["saved_model_max_abs_diff"] <= 1e-5
    assert card["parity"]["tflite_max_abs_diff"] <= 1e-5
    # The caption vectorizer in the task's metadata is its own, not the card's text settings over it.
    assert card["meta"]["text"]["vocabulary"] and card["meta"]["text"] != card["text"]
    good = (scenes / "images/test/00000.png").read_bytes()
    rows = ExportedModel(version).caption([good, b"", b"GIF89a cut", good], beam_width=2, attention=True)
    assert [r["valid"] for r in rows] == [True, False, False, True]
    assert rows[0]["caption"] == rows[3]["caption"] and rows[0]["tokens"] == rows[3]["tokens"]
    # The same image twice in a batch: the same caption, its figures equal to float32 precision.
    assert rows[0]["score"] == pytest.approx(rows[3]["score"], abs=1e-5)
    np.testing.assert_allclose(rows[0]["attention"], rows[3]["attention"], atol=1e-5)
    assert rows[1]["caption"] == "" and rows[1]["score"] == 0.0
    assert len(rows[0]["attention"]) == len(rows[0]["tokens"])
    assert np.array(rows[0]["attention"]).shape[1:] == (4, 4)
    np.testing.assert_allclose(np.array(rows[0]["attention"]).sum(axis=(1, 2)), 1.0, atol=1e-5)
    in_memory = seqzoo.caption(seqzoo.load_run(exported[0]), [str(scenes / "images/test/00000.png")], 2)[0]
    assert in_memory["caption"] == rows[0]["caption"] and in_memory["tokens"] == rows[0]["tokens"]
    np.testing.assert_allclose(in_memory["attention"], rows[0]["attention"], atol=1e-5)
    seqzoo.plot_caption_attention(good, in_memory, scenes.parent / "in_memory.png")
    assert (scenes.parent / "in_memory.png").stat().st_size > 1000


def test_cli_captions_good_files_and_names_each_bad_one(exported, scenes, tmp_path, capsys):
    _, version = exported
    good = str(scenes / "images/test/00001.png")
    (tmp_path / "not.png").write_bytes(b"plain text")
    assert main(["caption", str(version), good, str(tmp_path / "not.png"), str(tmp_path / "gone.png"),
                 "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out.splitlines()[0])["image"] == good and len(out.splitlines()) == 1
    assert f"{tmp_path / 'not.png'}: not a whole PNG, JPEG, GIF or BMP image" in err
    assert f"seqzoo: image '{tmp_path / 'gone.png'}' does not exist" in err
    assert main(["caption", str(version), str(tmp_path / "not.png")]) == 2
    assert capsys.readouterr().err.strip().endswith("seqzoo: error: no image could be captioned")
    assert main(["attention", str(version), good, "--out", str(tmp_path / "a.png")]) == 0
    assert Image.open(tmp_path / "a.png").size[0] > 200
    assert main(["caption", str(version), good, "--beam", "17"]) == 2
    assert "beam width must be between 1 and 16, got 17" in capsys.readouterr().err


HALF_HELD_OUT = {"train.validation_fraction": 0.5}  # a hash split of 6 images: both halves get some


@pytest.mark.large  # two trainings; caption files stream in the default run's test beside it
def test_training_on_a_caption_file_with_an_image_folder(tmp_path):
    images = tmp_path / "pictures"
    images.mkdir()
    lines = []
    for i in range(6):
        (images / f"{i}.jpg").write_bytes(encoded(np.roll(RGB, i, axis=0), "JPEG"))
        lines.append(f"{i}.jpg#0\ta picture number {i}\n{i}.jpg#1\tpicture {i}\n")
    (tmp_path / "tokens.txt").write_text("".join(lines))
    with warnings.catch_warnings():
        warnings.simplefilter("error", SeqzooNote)  # every image was found
        run = seqzoo.train("show_tell", tmp_path / "tokens.txt", preset="tiny", epochs=1, verbose=0,
                           out=tmp_path / "run", images=str(images), overrides=HALF_HELD_OUT)
    assert json.loads((run / "run.json").read_text())["meta"]["image_size"] == 16
    with pytest.warns(SeqzooNote, match=r"3 of 6 training captions have more than text.max_length=2 words "
                                        r"\(the longest 4\) and were cut; --set text.max_length=4"):
        seqzoo.train("show_tell", tmp_path / "tokens.txt", preset="tiny", epochs=1, verbose=0,
                     out=tmp_path / "run-short", images=str(images),
                     overrides={**HALF_HELD_OUT, "text.max_length": 2})
    assert main(["train", "show_tell", "--data", str(tmp_path / "tokens.txt"), "--images",
                 str(tmp_path / "nowhere"), "--out", str(tmp_path / "r2")]) == 2


@pytest.mark.slow
def test_show_attend_tell_small_captions_unseen_handwriting(tmp_path):
    # The README's row: about 10 minutes on 2 cores.
    run = seqzoo.train("show_attend_tell", preset="small", epochs=12, out=tmp_path / "sat", verbose=0)
    metrics = seqzoo.evaluate_run(run, digit_scenes() / "test.tsv")
    assert metrics["exact_match"] >= 0.75, metrics
    assert metrics["grounding"] >= 0.8, metrics
    assert metrics["exact_match[1]"] > metrics["exact_match[4]"], metrics


def test_a_caption_file_streams_split_by_image_and_holds_one_line_at_a_time(tmp_path):
    """Every reference of an image lands in its split (a keyed hash of the image's name); a 4 MB
    caption file is read with a Python peak far below its size."""
    import tracemalloc

    from seqzoo.data.captions import caption_split

    for i in range(30):
        (tmp_path / f"{i}.png").write_bytes(encoded(RGB))
    lines = [f"{i}.png\tcaption {k} of picture {i}\n" for k in range(3) for i in range(30)]  # interleaved
    (tmp_path / "pairs.tsv").write_text("".join(lines) + "gone.png\tnot there\n")
    split, root = caption_split(tmp_path / "pairs.tsv", None, 0.3, seed=7)
    assert root == tmp_path
    scan = split.scan(keep=1000, sample=None)
    splits = {False: set(), True: set()}
    for heldout in (False, True):
        examples = split.examples(lambda n, c: (n, c), heldout, scan)
        names = [n.decode() for n, _ in examples.as_numpy_iterator()]
        assert len(names) == scan.examples[heldout] == 3 * len(set(names))  # all three references, or none
        splits[heldout] = set(names)
    assert splits[False].isdisjoint(splits[True]) and len(splits[False] | splits[True]) == 30
    assert 0.15 < len(splits[True]) / 30 < 0.45
    assert {name for name, _ in scan.heldout} == splits[True]  # the held-out captions kept for the figures

    (tmp_path / "big.tsv").write_text("".join(lines * 1500))
    tracemalloc.start()
    scan = caption_split(tmp_path / "big.tsv", None, 0.3, seed=7)[0].scan(keep=16, sample=None)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert sum(scan.examples) == 135_000 and peak < 1_000_000, peak
