"""Language models: the lecture's "hello" check, in-graph generation, export, bad input."""

import json
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import seqzoo
from seqzoo.cli import main
from seqzoo.data import window_dataset
from seqzoo.data.language_modeling import carried_rows, windows
from seqzoo.exporters import ExportedModel
from seqzoo.tasks.language_model import BOS_ID, lm_meta, lm_vectorizer, token_stream
from seqzoo.zoo import stateful_twin


@pytest.fixture(scope="module", params=["char_lm", "transformer_lm", "tcn_lm"])
def hello(request):
    """A character LM over {h, e, l, o} trained on "hello": the RNN, the transformer, the TCN."""
    config = seqzoo.get_config(request.param, preset="tiny")
    vectorizer = lm_vectorizer(config["text"], ["hello"])
    keras.utils.set_random_seed(0)
    model = seqzoo.build(request.param, preset="tiny", vectorizer=vectorizer, learning_rate=0.02)
    stream = token_stream(vectorizer, ["hello"] * 64)
    model.fit(window_dataset(stream, 12, 8, shuffle_seed=0), epochs=40, verbose=0, shuffle=False)
    return model, vectorizer, lm_meta(config, vectorizer)


@pytest.fixture(scope="module")
def hello_export(hello, tmp_path_factory):
    model, vectorizer, meta = hello
    return seqzoo.export(model, vectorizer, name=model.name, meta=meta,
                         base=tmp_path_factory.mktemp("lm"), heldout_texts=["hel", "h"])


def next_char_probability(model, vectorizer, prefix, char):
    ids = np.array([[BOS_ID, *vectorizer.lookup([prefix]).to_list()[0]]], np.int32)
    probabilities = keras.ops.convert_to_numpy(model(ids))[0, -1]
    return probabilities[vectorizer.get_vocabulary().index(char)]


@pytest.mark.parametrize("prefix, char", [("h", "e"), ("he", "l"), ("hel", "l"), ("hell", "o")])
def test_hello_the_lecture_check(hello, prefix, char):
    model, vectorizer, _ = hello
    assert next_char_probability(model, vectorizer, prefix, char) > 0.9


def generate(path, prompts, **options):
    defaults = {"max_new_tokens": 4, "temperature": 0.0, "top_k": 0, "top_p": 1.0, "seed": 0,
                "stop": []}
    return ExportedModel(path).generate(prompts, **{**defaults, **options})


def test_greedy_generation_continues_the_word(hello_export):
    assert generate(hello_export, ["h", "hel"], max_new_tokens=2) == ["hel", "hello"]
    assert generate(hello_export, ["h"], max_new_tokens=4) == ["hello"]


def test_an_empty_prompt_generates_from_the_start_of_a_document(hello_export):
    assert generate(hello_export, [""], max_new_tokens=5) == ["hello"]


def test_top_k_1_and_a_tiny_top_p_are_greedy(hello_export):
    greedy = generate(hello_export, ["h"], max_new_tokens=8)
    assert generate(hello_export, ["h"], max_new_tokens=8, temperature=1.5, top_k=1) == greedy
    assert generate(hello_export, ["h"], max_new_tokens=8, temperature=1.5, top_p=0.01) == greedy


def test_the_same_seed_gives_the_same_text_and_seeds_differ(hello_export):
    hot = {"max_new_tokens": 30, "temperature": 3.0}
    assert generate(hello_export, ["h"], seed=7, **hot) == generate(hello_export, ["h"], seed=7, **hot)
    assert len({generate(hello_export, ["h"], seed=s, **hot)[0] for s in range(5)}) > 1


def test_unseen_characters_are_oov_and_zero_tokens_returns_the_prompt(hello_export):
    assert generate(hello_export, ["xyz"], max_new_tokens=0) == ["xyz"]
    assert len(generate(hello_export, ["xyz"], max_new_tokens=3)[0]) == 6


def test_stop_strings_cut_the_continuation(hello_export):
    assert generate(hello_export, ["h"], max_new_tokens=8, stop=["ll"]) == ["he"]


def test_max_new_tokens_beyond_the_ceiling_is_refused(hello_export):
    with pytest.raises(ValueError, match=r"max_new_tokens must be between 0 and 5000 .*got 5001"):
        generate(hello_export, ["h"], max_new_tokens=5001)
    signature = tf.saved_model.load(str(hello_export)).signatures["generate"]
    with pytest.raises(tf.errors.InvalidArgumentError, match="max_new_tokens > 5000"):
        signature(prompt=tf.constant(["h"]), max_new_tokens=tf.constant(5001),
                  temperature=tf.constant(0.0), top_k=tf.constant(0), top_p=tf.constant(1.0),
                  seed=tf.constant(0), stop=tf.constant([], tf.string))


@pytest.mark.parametrize("option, value, message", [
    ("temperature", float("nan"), "temperature must be a finite number, got nan"),
    ("temperature", 1e300, "temperature must be at most 3.4028234663852886e+38, got 1e+300"),
    ("top_p", float("nan"), "top_p must be a finite number, got nan"),
    ("top_p", 0.0, "top_p must be greater than 0, got 0.0"),
    ("seed", 2**40, "seed must be at most 2147483647, got 1099511627776"),
    ("top_k", "3", "top_k expects int, got str ('3')"),
])
def test_sampling_controls_that_would_silently_mean_something_else_are_refused(hello_export, option,
                                                                               value, message):
    with pytest.raises(ValueError) as err:
        generate(hello_export, ["h"], **{option: value})
    assert str(err.value) == message


def test_the_served_generate_signature_refuses_a_nan_temperature_itself(hello_export):
    signature = tf.saved_model.load(str(hello_export)).signatures["generate"]
    with pytest.raises(tf.errors.InvalidArgumentError, match="temperature is not finite"):
        signature(prompt=tf.constant(["h"]), max_new_tokens=tf.constant(3),
                  temperature=tf.constant(float("nan")), top_k=tf.constant(0), top_p=tf.constant(1.0),
                  seed=tf.constant(0), stop=tf.constant([], tf.string))


def test_a_prompt_holding_undecodable_bytes_generates_with_replacement(hello_export):
    assert generate(hello_export, ["h\udcff"], max_new_tokens=0) == ["h\ufffd"]


def test_the_step_signature_carries_states_like_the_full_model(hello, hello_export):
    model, vectorizer, _ = hello
    step = tf.saved_model.load(str(hello_export)).signatures["step"]
    states = {name: tf.zeros(spec.shape.as_list()[1:], spec.dtype)[None]
              for name, spec in step.structured_input_signature[1].items() if name != "token_ids"}
    ids = [BOS_ID, *vectorizer.lookup(["hel"]).to_list()[0]]
    for token in ids:
        out = step(token_ids=tf.constant([token]), **states)
        states = {name: out[name] for name in states}
    full = keras.ops.convert_to_numpy(model(np.array([ids], np.int32)))[0, -1]
    np.testing.assert_allclose(out["probabilities"].numpy()[0], full, atol=1e-6)


def test_the_served_step_refuses_an_id_outside_the_vocabulary_and_a_state_that_is_not_finite(hello,
                                                                                             hello_export):
    _, vectorizer, _ = hello
    step = tf.saved_model.load(str(hello_export)).signatures["step"]
    states = {name: tf.zeros(spec.shape.as_list()[1:], spec.dtype)[None]
              for name, spec in step.structured_input_signature[1].items() if name != "token_ids"}
    size = vectorizer.vocabulary_size()
    with pytest.raises(tf.errors.InvalidArgumentError, match=f"token_ids >= {size}: outside the vocabulary"):
        step(token_ids=tf.constant([size]), **states)
    with pytest.raises(tf.errors.InvalidArgumentError, match="token_ids < 0"):
        step(token_ids=tf.constant([-1]), **states)
    floating = [name for name, state in states.items() if state.dtype.is_floating]
    if floating:  # the RNN's and the TCN's states; the transformer's are ids and a length
        poisoned = {**states, floating[0]: tf.fill(tf.shape(states[floating[0]]), float("nan"))}
        with pytest.raises(tf.errors.InvalidArgumentError, match=f"{floating[0]} is not finite"):
            step(token_ids=tf.constant([BOS_ID]), **poisoned)


def test_the_card_documents_the_tflite_step_contract(hello_export):
    card = json.loads((hello_export / "seqzoo.json").read_text())
    assert card["task"] == "language_model" and card["tflite"]["signature"] == "step"
    assert set(card["saved_model"]) == {"serving_default", "generate", "step"}
    assert card["parity"]["tflite_max_abs_diff"] <= 1e-5


def test_tied_embeddings_share_the_table_and_need_matching_sizes():
    untied = seqzoo.build("word_lm", preset="tiny")
    tied = seqzoo.build("word_lm", preset="tiny", tie_embeddings=True)
    assert untied.count_params() - tied.count_params() == 16 * 200 + 200  # the logits' kernel, bias
    with pytest.raises(ValueError, match=r"tie_embeddings needs rnn.units \(32\) equal to "
                                         r"embedding.dim \(16\)"):
        seqzoo.build("word_lm", preset="tiny", tie_embeddings=True, units=32)


@pytest.mark.parametrize("cell", ["gru", "simple_rnn"])
def test_every_cell_kind_generates_by_stepping_as_the_model_runs(cell):
    """The Bai et al. table's RNN and GRU rows are char_lm with another cell: generation steps them too."""
    from seqzoo.decoding import RNNGenerator

    model = seqzoo.build("char_lm", preset="tiny", cell=cell, layers=2)
    ids = tf.constant([[BOS_ID, 5, 6, 7, 7, 3]])
    probabilities, states = RNNGenerator(model).prefill(ids)
    np.testing.assert_allclose(probabilities, model(ids)[:, -1], atol=1e-6)
    assert len(states) == 2  # h of each layer


def test_residual_connections_join_the_layers_after_the_first():
    model = seqzoo.build("char_lm", preset="tiny", layers=3)
    assert [layer.name for layer in model.layers if layer.name.startswith("residual")] == [
        "residual_1", "residual_2"]


def test_train_evaluate_and_generate_from_the_command_line(tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    # Distinct lines: copies of one line always fall in the same split (a hash of the line decides).
    corpus.write_text("".join(f"the minister said on day {i}\nthe government would act {i}\n"
                              for i in range(20)))
    assert main(["train", "char_lm", "--data", str(corpus), "--preset", "tiny",
                 "--out", str(tmp_path / "run")]) == 0
    metrics = json.loads((tmp_path / "run" / "run.json").read_text())["metrics"]
    assert metrics["val_bits_per_character"] == pytest.approx(metrics["val_loss"] / math.log(2))
    assert main(["evaluate", str(tmp_path / "run"), "--data", str(corpus)]) == 0
    assert main(["export", str(tmp_path / "run"), "--base", str(tmp_path / "sm")]) == 0
    capsys.readouterr()
    assert main(["generate", str(tmp_path / "sm" / "char_lm"), "--prompt", "The minister",
                 "--max-new-tokens", "20", "--temperature", "0.8", "--top-p", "0.9",
                 "--seed", "7"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("The minister") and len(out.rstrip("\n")) == len("The minister") + 20


def test_carried_lanes_continue_each_other_across_batches():
    stream = np.arange(1, 103, dtype=np.int32)
    x, y = carried_rows(*windows(stream, 5), batch=3)  # 20 windows: 3 lanes of 6, 2 left out
    assert x.shape == y.shape == (6, 3, 5)
    np.testing.assert_array_equal(x[1:, :, 0], y[:-1, :, -1])  # each batch's row goes on in the next
    np.testing.assert_array_equal(x[:, 1].ravel(), stream[30:60])  # lane 1: windows 6 to 11
    np.testing.assert_array_equal(y, x + 1)
    assert carried_rows(*windows(stream[:12], 5), batch=3)[0].shape == (1, 2, 5)  # fewer windows than lanes


def pretrained_word_lm():
    from gensim.test.utils import datapath

    config = seqzoo.get_config("word_lm", preset="tiny")
    vectorizer = lm_vectorizer(config["text"], ["the people said on tuesday", "of the people"])
    return seqzoo.build("word_lm", preset="tiny", vectorizer=vectorizer, dim=50,
                        embeddings={"path": datapath("test_glove.txt"), "trainable": "oov_only"})


@pytest.mark.parametrize("model", [
    lambda: seqzoo.build("char_lm", preset="tiny", layers=2),
    lambda: seqzoo.build("char_lm", preset="tiny", cell="gru", units=8, dim=8, tie_embeddings=True),
    pretrained_word_lm,
], ids=["lstm", "gru_tied", "word_lm_oov_only"])
def test_a_stateful_twin_reads_a_text_in_pieces_as_the_model_reads_it_whole(model):
    model = model()
    twin = stateful_twin(model, 2)
    assert twin.input_shape == (2, None) and len(twin.weights) == len(model.weights)
    ids = tf.constant(np.random.default_rng(0).integers(3, model.output_shape[-1], (2, 12)), tf.int32)
    pieces = np.concatenate([twin(ids[:, :5]), twin(ids[:, 5:9]), twin(ids[:, 9:])], axis=1)
    np.testing.assert_allclose(pieces, model(ids), atol=1e-6)


def test_carry_state_trains_on_lanes_resumes_exactly_and_finishes_a_plain_model(tmp_path):
    from seqzoo.training.callbacks import WallClockBudget

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("".join(f"the minister said on day {i}\nthe government would act {i}\n"
                              for i in range(40)))
    options = dict(preset="tiny", overrides={"carry_state": True, "batch_size": 4, "patience": 5},
                   epochs=2, verbose=0)
    whole = seqzoo.train("char_lm", corpus, out=tmp_path / "whole", **options)
    stopped = seqzoo.train("char_lm", corpus, out=tmp_path / "resumed", callbacks=[WallClockBudget(1e-9)],
                           **options)
    assert not (stopped / "run.json").exists()
    resumed = seqzoo.train("char_lm", corpus, out=stopped, **options)
    history = [np.loadtxt(run / "history.csv", delimiter=",", skiprows=1, usecols=(2, 4), ndmin=2)
               for run in (whole, resumed)]
    np.testing.assert_allclose(history[1], history[0], rtol=1e-5)  # loss, val_loss by epoch
    run = seqzoo.load_run(whole)
    # Validation in training carries the states along the held-out lanes: the best epoch's figure.
    assert run.metrics["val_loss_carried"] == pytest.approx(history[0][:, 1].min(), rel=1e-5)
    assert run.metrics["val_bits_per_character_carried"] == pytest.approx(
        run.metrics["val_loss_carried"] / math.log(2))
    assert run.model.input_shape == (None, None)  # the finished model reads any batch, from zero states
    assert not any(layer.stateful for layer in run.model.layers if isinstance(layer, keras.layers.RNN))


def test_carry_state_carries_as_many_lanes_as_the_smaller_split_has_windows(tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("".join(f"line {i} of the text\n" for i in range(30)))
    out = tmp_path / "run"
    assert main(["train", "char_lm", "--data", str(corpus), "--preset", "tiny", "--out", str(out),
                 "--set", "train.carry_state=true", "--set", "train.batch_size=64"]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if "carry_state" in line]
    assert notes == ["seqzoo: note: train.carry_state: the held-out text makes 2 window(s) of 16 tokens, "
                     "fewer than train.batch_size (64): 2 lane(s) carry the states"]
    assert seqzoo.load_run(out).metrics["val_loss_carried"] > 0


def test_table_options_for_a_language_model_are_named(tmp_path, capsys):
    (tmp_path / "c.txt").write_text("one\ntwo\n")
    assert main(["train", "char_lm", "--data", str(tmp_path / "c.txt"), "--text-column", "body",
                 "--out", str(tmp_path / "run")]) == 2
    assert capsys.readouterr().err == ("seqzoo: error: char_lm data takes no option text_column "
                                       "(language_model takes no reading options)\n")


def test_a_corpus_of_one_line_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "one.txt").write_text("only one line\n")
    assert main(["train", "char_lm", "--data", str(tmp_path / "one.txt"), "--preset", "tiny",
                 "--out", str(tmp_path / "run")]) == 2
    assert capsys.readouterr().err == (f"seqzoo: error: '{tmp_path / 'one.txt'}': the validation split is "
                                       "empty (1 non-empty lines, validation_fraction=0.1; each example's "
                                       "split is a hash of it, so copies land together: more distinct "
                                       "non-empty lines or a larger train.validation_fraction fill both)\n")


@pytest.mark.parametrize("tie", [False, True])
def test_word_lm_starts_from_pretrained_vectors(tie):
    from gensim.test.utils import datapath

    from seqzoo import embeddings

    config = seqzoo.get_config("word_lm", preset="tiny")
    vectorizer = lm_vectorizer(config["text"], ["the people said on tuesday", "of the people"])
    model = seqzoo.build("word_lm", preset="tiny", vectorizer=vectorizer, dim=50, units=50,
                         tie_embeddings=tie,
                         embeddings={"path": datapath("test_glove.txt"), "trainable": "frozen"})
    table = keras.ops.convert_to_numpy(model.get_layer("embedding").embeddings)
    glove = embeddings.load(datapath("test_glove.txt"))
    np.testing.assert_array_equal(table[vectorizer.get_vocabulary().index("said")], glove["said"])
    assert not model.get_layer("embedding").trainable


def test_quantized_lm_files_are_compared_with_float32_in_bits_per_token(hello, tmp_path):
    """The step-driven files are compared on the held-out prompts' own next tokens: bits per token."""
    model, vectorizer, meta = hello
    if model.name != "char_lm":
        pytest.skip("one LM is enough: the comparison is the step driver's, shared by every LM")
    version = seqzoo.export(model, vectorizer, name=model.name, meta=meta, base=tmp_path,
                            heldout_texts=["hel", "hell", "h"], quantize="dynamic,int8")
    report = json.loads((version / "seqzoo.json").read_text())["tflite"]["quantized"]
    for kind in ("dynamic", "int8"):
        if not report[kind]["made"]:  # a converter that cannot: its reason is the card's
            assert report[kind]["reason"].startswith(f"model '{model.name}' does not convert")
            continue
        agreement = report[kind]["agreement"]
        assert set(agreement) == {"bits_per_token", "bits_per_token_delta"}
        assert 0 < agreement["bits_per_token"] < 50, agreement
        if kind == "dynamic":  # int8 weights only: the probabilities stay float
            assert abs(agreement["bits_per_token_delta"]) < 0.2, agreement
        # full int8 is not held to it: its softmax has 256 levels, and a token below 1/512 gets p = 0
        assert (version / report[kind]["file"]).stat().st_size == report[kind]["bytes"]
