"""seq2seq / seq2seq_attn: attention, search, the date task, export, the CLI, bad input."""

import collections
import itertools
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

import seqzoo
from seqzoo.cli import main
from seqzoo.data.translation import date_pairs, dates_corpus, read_pairs, write_pairs
from seqzoo.decoding.translator import Translator
from seqzoo.errors import UserError
from seqzoo.exporters import ExportedModel
from seqzoo.layers.attention import ATTENTIONS, Attention
from seqzoo.metrics import translation_report
from seqzoo.tasks.translation import END_ID, START_ID


@pytest.fixture(scope="module")
def dates_file(tmp_path_factory):
    return write_pairs(tmp_path_factory.mktemp("dates") / "dates.tsv", date_pairs(800, seed=7))


@pytest.fixture(scope="module")
def attn_export(dates_file, tmp_path_factory):
    """A tiny seq2seq_attn trained a few epochs on 800 dates, and its export."""
    out = tmp_path_factory.mktemp("runs") / "seq2seq_attn"
    run = seqzoo.train("seq2seq_attn", dates_file, preset="tiny", epochs=3, out=out, verbose=0)
    return run, seqzoo.export_run(run, base=tmp_path_factory.mktemp("saved_models"))


def memory_and_mask(batch=2, source=5, size=6, valid=(5, 3)):
    memory = np.random.default_rng(0).normal(size=(batch, source, size)).astype("float32")
    mask = np.arange(source)[None, :] < np.array(valid)[:, None]
    return memory, mask


@pytest.mark.parametrize("kind", ATTENTIONS)
def test_attention_weights_sum_to_one_over_the_source_and_skip_padding(kind):
    memory, mask = memory_and_mask()
    attention = Attention(kind, units=6, heads=2)
    query = np.random.default_rng(1).normal(size=(2, 6)).astype("float32")
    context, weights = attention(query, attention.keys(memory), memory, mask)
    weights = keras.ops.convert_to_numpy(weights)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-6)
    assert np.all(weights[1, 3:] == 0.0)
    assert context.shape == (2, 6)


def test_bahdanau_scores_are_the_lectures_formula():
    memory, mask = memory_and_mask(batch=1, valid=(5,))
    attention = Attention("bahdanau", units=4)
    query = np.random.default_rng(2).normal(size=(1, 6)).astype("float32")
    context, weights = attention(query, attention.keys(memory), memory, mask)
    w_a = np.concatenate([attention.query_dense.kernel.numpy(), attention.key_dense.kernel.numpy()])
    v_a = attention.score_dense.kernel.numpy()[:, 0]
    relevance = np.array([v_a @ np.tanh(w_a.T @ np.concatenate([query[0], z])) for z in memory[0]])
    alpha = np.exp(relevance) / np.exp(relevance).sum()
    np.testing.assert_allclose(keras.ops.convert_to_numpy(weights)[0], alpha, atol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(context)[0], alpha @ memory[0], atol=1e-5)


def test_luong_dot_needs_states_of_one_size():
    memory, mask = memory_and_mask(size=6)
    attention = Attention("luong_dot", units=6)
    with pytest.raises(UserError, match="luong_dot attention needs decoder and encoder states of one size"):
        attention(np.zeros((2, 4), "float32"), memory, memory, mask)


@pytest.fixture(scope="module")
def untrained():
    keras.utils.set_random_seed(3)
    model = seqzoo.build("seq2seq_attn", preset="tiny", target_vocab_size=8)
    source = np.array([[5, 6, 7, 8], [9, 10, 0, 0]], np.int32)
    return model, Translator(model, START_ID, END_ID), source


def teacher_forced_log_p(model, source, tokens):
    """log p(tokens | source) by one teacher-forced pass."""
    decoder_in = np.array([[START_ID, *tokens[:-1]]], np.int32)
    probabilities = keras.ops.convert_to_numpy(model([source[None], decoder_in]))[0]
    return float(sum(np.log(probabilities[i, t]) for i, t in enumerate(tokens)))


def test_greedy_search_follows_the_argmax_of_the_teacher_forced_model(untrained):
    model, translator, source = untrained
    result = translator.search(source, beam_width=1, max_steps=6)
    for row in range(2):
        length = int(result.lengths[row])
        tokens = result.token_ids[row, :length].numpy().tolist()
        decoder_in = np.array([[START_ID, *tokens]], np.int32)
        probabilities = keras.ops.convert_to_numpy(model([source[row : row + 1], decoder_in]))[0]
        probabilities[:, [0, START_ID]] = 0  # never produced
        chosen = probabilities.argmax(-1).tolist()
        assert chosen[:length] == tokens
        if length < 6:
            assert chosen[length] == END_ID
        expected = teacher_forced_log_p(model, source[row], tokens + ([END_ID] if length < 6 else []))
        assert float(result.scores[row]) == pytest.approx(expected, abs=1e-4)


def test_a_beam_as_wide_as_the_vocabulary_finds_the_best_two_step_translation(untrained):
    model, translator, source = untrained
    allowed = [t for t in range(8) if t not in (0, START_ID)]
    candidates = [[END_ID]] + [[a, b] for a, b in itertools.product(allowed, allowed) if a != END_ID]
    for row in range(2):
        best = max(candidates, key=lambda tokens: teacher_forced_log_p(model, source[row], tokens))
        result = translator.search(source[row : row + 1], beam_width=8, max_steps=2)
        found = result.token_ids[0].numpy().tolist()
        expected = [t for t in best if t != END_ID] + [0] * (2 - len([t for t in best if t != END_ID]))
        assert found == expected
        assert float(result.scores[0]) == pytest.approx(
            teacher_forced_log_p(model, source[row], best), abs=1e-4)


def test_batched_search_equals_one_text_at_a_time(untrained):
    _, translator, source = untrained
    for width in (1, 3):
        batched = translator.search(source, beam_width=width, max_steps=6, length_penalty=0.6)
        for row in range(2):
            alone = translator.search(source[row : row + 1, : 4 if row == 0 else 2], width, 6, 0.6)
            np.testing.assert_array_equal(batched.token_ids[row], alone.token_ids[0])
            assert float(batched.scores[row]) == pytest.approx(float(alone.scores[0]), abs=1e-5)


def test_dates_cover_the_locales_and_never_give_one_source_two_targets():
    pairs = date_pairs(5000, seed=0)
    assert date_pairs(50, seed=0).sources == date_pairs(50, seed=0).sources != date_pairs(50, seed=1).sources
    targets = collections.defaultdict(set)
    for source, target in zip(pairs.sources, pairs.targets, strict=True):
        targets[source.lower()].add(target)
    assert all(len(t) == 1 for t in targets.values())
    text = " ".join(pairs.sources)
    for word in ("March", "mars", "März", "marzo", "março", "maart", " of ", "le "):
        assert word in text, word
    assert all(len(t) == 10 and t[4] == "-" and t[7] == "-" for t in pairs.targets)


def test_the_date_corpus_holds_out_sources_never_seen_in_training():
    folder = dates_corpus()
    train, test = read_pairs(folder / "train.tsv"), read_pairs(folder / "test.tsv")
    assert len(train) == 20000 and len(test) == 1959
    assert not set(train.sources) & set(test.sources)


@pytest.mark.parametrize("content, message", [
    ("3 March 2021\t2021-03-03\n4 March 2021 2021-03-04\n", r"pairs.tsv:2: no tab"),
    ("3 March 2021\t2021-03-03\n\t2021-03-04\n", r"pairs.tsv:2: empty source"),
    ("\n\n", r"has no source<TAB>target lines"),
])
def test_read_pairs_names_the_bad_line(tmp_path, content, message):
    path = tmp_path / "pairs.tsv"
    path.write_text(content)
    with pytest.raises(UserError, match=message):
        read_pairs(path)


def test_read_pairs_ignores_tatoeba_attribution_columns(tmp_path):
    path = tmp_path / "fra.txt"
    path.write_text("Go.\tVa !\tCC-BY 2.0 (France) Attribution: tatoeba.org #2877272\n")
    pairs = read_pairs(path)
    assert (pairs.sources, pairs.targets, pairs.lines) == (["Go."], ["Va !"], [1])


def test_translation_report_scores_bleu_chrf_and_exact_match_by_band():
    report = translation_report(["2021-03-03", "1989-07-14"], ["2021-03-03", "1989-07-15"], [12, 25],
                                characters=True)
    assert report["exact_match"] == 0.5
    assert report["exact_match[11-20]"] == 1.0 and report["exact_match[21-30]"] == 0.0
    assert "exact_match[1-10]" not in report
    assert 0 < report["bleu"] < 100 and 0 < report["chrf"] < 100


def test_trained_run_reports_bleu_chrf_and_exact_match(attn_export):
    run, _ = attn_export
    metrics = seqzoo.load_run(run).metrics
    assert {"val_loss", "val_accuracy", "val_bleu", "val_chrf", "val_exact_match"} <= set(metrics)
    assert metrics["val_accuracy"] > 0.5  # three tiny epochs: the digits' shape, not yet the dates


def test_export_has_the_signatures_and_a_tflite_translate(attn_export):
    _, path = attn_export
    exported = ExportedModel(path)
    assert set(exported.saved_model.signatures) == {
        "serving_default", "translate", "translate_with_attention", "encode", "decode_step"}
    assert exported.card["parity"]["saved_model_max_abs_diff"] <= 1e-5
    from ai_edge_litert.interpreter import Interpreter

    signatures = Interpreter(model_path=str(path / "seq2seq_attn.tflite")).get_signature_list()
    assert set(signatures) == {"translate", "encode", "decode_step"}


def test_the_tflite_file_translates_as_the_saved_model_does(attn_export):
    _, path = attn_export
    exported = ExportedModel(path)
    texts = ["3rd of March, 2021", "le 14 juillet 1989", "", "3 March ☃☃ 2021"]
    for beam_width in (1, 3):
        served = exported.translate(texts, beam_width=beam_width)
        app = exported.translate(texts, beam_width=beam_width, runtime="tflite")
        # The same translation with the same score; but this briefly trained model has near-ties on
        # some dates, which the two runtimes' last-bit differences may break apart, and a search
        # that takes the other branch of a tie ends on another path with another score (seen in CI:
        # one text of four; once on another path to the same string, its score 0.1 apart). A broken
        # runtime would differ on most texts.
        same = [a["translation"] == s["translation"] and abs(a["score"] - s["score"]) <= 1e-4
                for a, s in zip(app, served, strict=True)]
        assert sum(same) >= len(texts) - 1, (beam_width, app, served)
    with pytest.raises(UserError, match="beam width must be between 1 and 16, got 17"):
        exported.translate(texts, beam_width=17, runtime="tflite")


def test_the_warmup_requests_replay_through_every_signature(attn_export):
    from seqzoo.exporters.warmup import replay_warmup

    assert replay_warmup(attn_export[1]) == ["decode_step", "encode", "serving_default", "translate",
                                             "translate_with_attention"]


def test_empty_long_and_unseen_sources_have_defined_outcomes(attn_export):
    _, path = attn_export
    rows = ExportedModel(path).translate(["", "3 March 2021 " * 10, "3 March ☃☃ 2021"], beam_width=2)
    assert rows[0]["translation"] == "" and rows[0]["score"] == 0.0
    assert rows[1]["truncated"] and not rows[0]["truncated"]
    assert rows[2]["unknown_tokens"] == 2 and rows[1]["unknown_tokens"] == 0


def test_the_serving_loop_driven_by_hand_gives_the_greedy_translation(attn_export):
    _, path = attn_export
    model = ExportedModel(path)
    texts = ["3 March 2021", "le 14 juillet 1989"]
    expected = model.saved_model.signatures["translate"](text=tf.constant(texts), beam_width=tf.constant(1))
    state = model.saved_model.signatures["encode"](text=tf.constant(texts))
    step = model.saved_model.signatures["decode_step"]
    tokens, produced = tf.constant([START_ID, START_ID]), []
    for _ in range(expected["token_ids"].shape[1]):
        out = step(token_ids=tokens, **state)
        probabilities = out["probabilities"].numpy()
        probabilities[:, [0, START_ID]] = 0
        tokens = tf.constant(probabilities.argmax(-1).astype("int32"))
        produced.append(tokens.numpy())
        state = {**state, **{k: v for k, v in out.items() if k.startswith("state_")}}
    produced = np.stack(produced, axis=1)
    for row in range(2):
        ends = list(produced[row]).index(END_ID) if END_ID in produced[row] else produced.shape[1]
        got = produced[row, :ends].tolist()
        assert got == expected["token_ids"][row, :ends].numpy().tolist()


def test_cli_translate_and_attention(attn_export, tmp_path, capsys):
    _, path = attn_export
    assert main(["translate", str(path), "3rd of March, 2021", "le 14 juillet 1989", "--beam", "4"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[1] for line in lines] == ["3rd of March, 2021", "le 14 juillet 1989"]
    out = tmp_path / "maps" / "attention.png"
    assert main(["attention", str(path), "3rd of March, 2021", "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("argv, message", [
    (["--beam", "0"], "beam width must be between 1 and 16, got 0"),
    (["--beam", "17"], "beam width must be between 1 and 16, got 17"),
])
def test_cli_translate_refuses_a_bad_beam(attn_export, capsys, argv, message):
    _, path = attn_export
    assert main(["translate", str(path), "3 March 2021", *argv]) == 2
    assert message in capsys.readouterr().err


def test_cli_attention_refuses_an_unknown_image_format(attn_export, tmp_path, capsys):
    _, path = attn_export
    assert main(["attention", str(path), "3 March 2021", "--out", str(tmp_path / "map.txt")]) == 2
    assert "use .png, .svg or .pdf" in capsys.readouterr().err
    assert not (tmp_path / "map.txt").exists()


def test_cli_train_names_the_line_without_a_tab(tmp_path, capsys):
    path = tmp_path / "pairs.tsv"
    path.write_text("3 March 2021\t2021-03-03\nno tab here\n")
    argv = ["train", "seq2seq", "--data", str(path), "--preset", "tiny", "--out", str(tmp_path / "r")]
    assert main(argv) == 2
    assert "pairs.tsv:2: no tab" in capsys.readouterr().err


def test_translate_from_python_gives_rows_with_attention(attn_export):
    run, _ = attn_export
    row = seqzoo.translate(seqzoo.load_run(run), ["3 March 2021"], beam_width=2)[0]
    assert len(row["attention"]) == len(row["target_tokens"])
    assert all(len(r) == len(row["source_tokens"]) == len("3 march 2021") for r in row["attention"])
    np.testing.assert_allclose(np.sum(row["attention"], axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_seq2seq_attn_normalises_held_out_dates(tmp_path):
    """The README's run: the base preset on the date task (about 8 minutes on 2 cores)."""
    run = seqzoo.train("seq2seq_attn", out=tmp_path / "run", verbose=0)
    metrics = seqzoo.evaluate_run(run, dates_corpus() / "test.tsv")
    assert metrics["exact_match"] >= 0.99, metrics


def test_a_fresh_process_loads_the_run_and_evaluates_it(attn_export):
    run, _ = attn_export  # the layers must register themselves on import, not because a test imported them
    script = "import sys; from seqzoo.cli import main; raise SystemExit(main(['evaluate', sys.argv[1]]))"
    result = subprocess.run([sys.executable, "-c", script, str(run)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "exact_match" in result.stdout and "chrf" in result.stdout


def test_detokenize_joins_characters_words_and_wordpieces():
    from seqzoo.tasks.encoder_decoder import detokenize

    vocabulary = tf.constant(["", "[UNK]", "[START]", "[END]", "play", "##ing", "now", "2", "-"])
    ids = tf.constant([[4, 5, 6, 0], [7, 8, 7, 0]])
    assert detokenize(vocabulary, ids, " ").numpy().tolist() == [b"playing now", b"2 - 2"]
    assert detokenize(vocabulary, ids[1:], "").numpy().tolist() == [b"2-2"]


def test_quantized_translations_are_compared_by_exact_match_and_bleu_against_float32():
    from seqzoo.tasks.encoder_decoder import sequence_agreement

    float32 = np.array([[5, 6, 7, 8, 9, 3, 0], [5, 6, 7, 8, 3, 0, 0]])
    assert sequence_agreement(float32, float32.copy()) == {"exact_match": 1.0, "bleu_vs_float32": 100.0}
    changed = float32.copy()
    changed[1, 3] = 11
    agreement = sequence_agreement(float32, changed)
    assert agreement["exact_match"] == 0.5 and 30 < agreement["bleu_vs_float32"] < 100, agreement
