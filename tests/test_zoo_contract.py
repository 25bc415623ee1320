"""Every registered entry meets the zoo contract (see tests/contract.py)."""

import functools
import json

import keras
import numpy as np
import pytest
from browser import assert_page_gives, opened, web_runtime_missing
from contract import (
    reference,
    requests_in_clean_process,
    saved_model_outputs_in_clean_process,
    task_of,
    tflite_outputs,
    tiny_of,
    train_tiny,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import seqzoo

ENTRIES = seqzoo.list_models()
WEB_MISSING = web_runtime_missing()  # exports get a browser page where LiteRT.js has been fetched


def _page_entries() -> list:
    """Every entry with a page, each opened in Chromium: by default one a task (one that attends, where
    the task has one: its page draws the attention), the others in the large tier."""
    first = {}
    for name in ENTRIES:
        task = task_of(name)
        attends = bool(seqzoo.get_config(name)["model"].get("attention"))
        if task.web_page and (task.name not in first or attends and not first[task.name][1]):
            first[task.name] = (name, attends)
    chosen = {name for name, _ in first.values()}
    return [pytest.param(name, marks=[] if name in chosen else [pytest.mark.large])
            for name in ENTRIES if task_of(name).web_page]


PAGE_ENTRIES = _page_entries()
# The browser file is checked for every entry: the page's entries by default, the others in the large tier
# (an entry whose task has no page yet says why by default).
WEB_ENTRIES = [param if task_of(param.values[0]).web_page else param.values[0] for param in PAGE_ENTRIES] + [
    name for name in ENTRIES if not task_of(name).web_page]
WEB_TESTS = ("test_every_export_has_a_browser_page_that_agrees_with_its_tflite_file_or_says_why_not",
             "test_the_page_tokenizes_and_answers_as_the_python_litert_interpreter_does")
WEB_EXPORTS: set[str] = set()  # the entries exported with a browser page: those the selected web tests read


@functools.cache
def trained(name):
    return train_tiny(name)


@functools.cache
def exported(name, base):
    data = trained(name).data
    return seqzoo.export(trained(name).model, data.vectorizer, name=name, meta=data.meta, base=base,
                         heldout_texts=data.served if data.heldout is None else data.heldout,
                         web=WEB_MISSING is None and name in WEB_EXPORTS)


@pytest.fixture(scope="module")
def export_base(request, tmp_path_factory):
    WEB_EXPORTS.update(item.callspec.params["name"] for item in request.session.items
                       if item.originalname in WEB_TESTS)
    return str(tmp_path_factory.mktemp("contract_exports"))


@pytest.mark.parametrize("name", ENTRIES)
def test_tiny_preset_forward_on_two_sequence_lengths(name):
    model, tiny = seqzoo.build(name, preset="tiny"), tiny_of(name)
    for length in (3, 17):
        ids = np.random.default_rng(length).integers(1, 50, size=(2, length)).astype("int32")
        outputs = keras.ops.convert_to_numpy(model(tiny.forward_inputs(ids, model)))
        assert outputs.shape == tiny.output_shape(2, length, model)
        tiny.check_outputs(outputs)


@pytest.mark.parametrize("name", ENTRIES)
def test_a_few_fit_steps_lower_the_loss(name):
    losses = trained(name).losses
    assert losses[-1] < losses[0] * 0.95, losses


@pytest.mark.parametrize("name", ENTRIES)
def test_keras_file_round_trip_gives_identical_outputs(name, tmp_path):
    t = trained(name)
    t.model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
    inputs = t.data.inputs
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded(inputs)),
                                  keras.ops.convert_to_numpy(t.model(inputs)))


@pytest.fixture(scope="module")
def served(request, export_base):
    """The selected entries' SavedModels, all run in one clean process (TensorFlow's import is slow)."""
    names = [item.callspec.params["name"] for item in request.session.items
             if item.originalname == "test_saved_model_in_a_clean_process_matches_keras"]
    return saved_model_outputs_in_clean_process(
        {name: (exported(name, export_base), task_of(name).serving.input, trained(name).data.served)
         for name in names}
    )


@pytest.mark.parametrize("name", ENTRIES)
def test_saved_model_in_a_clean_process_matches_keras(name, served):
    reply = served[name]
    assert "error" not in reply, reply.get("error")
    assert reply["loaded"] == [], f"the clean process imported {reply['loaded']}"
    expected = reference(trained(name))
    served = [output for output in expected if output in reply["outputs"]]  # some only the .tflite file gives
    assert served, sorted(reply["outputs"])
    for output in served:
        np.testing.assert_allclose(np.array(reply["outputs"][output]), expected[output], atol=1e-5)


@pytest.mark.parametrize("name", ENTRIES)
def test_tflite_matches_keras_at_batch_one_within_the_tasks_tolerance(name, export_base):
    t = trained(name)
    expected = reference(t)
    # Three passes: a graph that reads memory a previous invoke left (deep_rnn's masked
    # TFLite loop did, 1 run in 30) gives a different answer on some pass.
    for _ in range(3):
        got = tflite_outputs(t, exported(name, export_base) / f"{name}.tflite")
        for output in expected:
            np.testing.assert_allclose(got[output], expected[output], atol=task_of(name).parity_tolerance)


@pytest.mark.parametrize("name", ENTRIES)
def test_every_tflite_signature_gives_finite_outputs_for_all_padding_inputs(name, export_base):
    # What an app may feed: ids that are all padding (0), zero states and masks. Masked pooling
    # once divided 0 by 0 here.
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(exported(name, export_base) / f"{name}.tflite"))
    for key in interpreter.get_signature_list():
        runner = interpreter.get_signature_runner(key)
        inputs = {
            input_name: np.full([size if size > 0 else 3 for size in detail["shape_signature"]],
                                1 if input_name == "beam_width" else 0, detail["dtype"])
            for input_name, detail in runner.get_input_details().items()
        }
        for output_name, value in runner(**inputs).items():
            if np.issubdtype(value.dtype, np.floating):
                assert np.isfinite(value).all(), f"{key}: {output_name} is not finite for all-padding inputs"


@pytest.mark.parametrize("name", WEB_ENTRIES)
def test_every_export_has_a_browser_page_that_agrees_with_its_tflite_file_or_says_why_not(name, export_base):
    if WEB_MISSING:
        pytest.skip(WEB_MISSING)
    version = exported(name, export_base)
    web = json.loads((version / "seqzoo.json").read_text())["web"]
    task = task_of(name)
    if task.web_page is None:
        assert web == {"folder": None, "reason": f"task {task.name!r} has no browser page yet"}
        assert not (version / "web").exists()
        return
    parity = web["parity"]
    assert parity["max_abs_diff_vs_tflite"] <= task.parity_tolerance and parity["diverged"] < parity["calls"]
    page = json.loads((version / "web" / "model.json").read_text())
    assert page["page"] == task.web_page and page["signatures"] == web["signatures"]
    for signature, sides in page["signatures"].items():  # what LiteRT.js takes: fixed shapes, three dtypes
        for tensor, detail in {**sides["inputs"], **sides["outputs"]}.items():
            assert all(size > 0 for size in detail["shape"]), (signature, tensor, detail)
            assert detail["dtype"] in ("int32", "float32", "uint8"), (signature, tensor, detail)
    for file in ("index.html", "page.js", "seqzoo.js", "model.tflite", "litert/core/index.js",
                 "litert/wasm-utils/index.js", "litert/wasm/litert_wasm_internal.wasm", "litert/LICENSE"):
        assert (version / "web" / file).is_file(), file
    assert 9e6 < web["bytes_loaded"] < 11e6, web["bytes_loaded"]  # one wasm pair, the model, the page


@pytest.mark.parametrize("name", PAGE_ENTRIES)
def test_the_page_tokenizes_and_answers_as_the_python_litert_interpreter_does(name, export_base, browser):
    """In Chromium, on LiteRT.js: the page's ids for the parity texts are the vectorizer's, and its answers
    the Python interpreter's from the same file (ids identical, numbers within 1e-5); the console shows no
    error."""
    from ai_edge_litert.interpreter import Interpreter

    folder = exported(name, export_base) / "web"
    data = trained(name).data
    interpreter = Interpreter(model_path=str(folder / "model.tflite"))
    with opened(browser, folder) as (page, errors):
        if data.vectorizer is not None and task_of(name).serving.input == "text":
            for text in task_of(name).parity_inputs(data.served):
                expected = data.vectorizer.lookup([text]).to_list()[0][: data.vectorizer.max_length]
                assert page.evaluate("t => seqzoo.encode(t).ids", text) == expected, repr(text)
        checks = tiny_of(name).page_checks(interpreter, data)
        for expression, argument, expected in checks:
            assert_page_gives(page.evaluate(expression, argument), expected,
                              f"{expression} on {argument!r:.60}")
        for script, argument, message in tiny_of(name).page_refusals():  # a message, and the page goes on
            assert page.evaluate(script, argument).startswith(message), (argument, message)
        expression, argument, expected = checks[0]
        assert_page_gives(page.evaluate(expression, argument), expected, "after bad input")
        assert not errors, errors


@functools.cache
def exported_model(name, base):
    """The entry's export, its SavedModel loaded once for every test that runs it in this process."""
    from seqzoo.exporters import ExportedModel

    return ExportedModel(exported(name, base))


def loaded_saved_model(name, base):
    return exported_model(name, base).saved_model.signatures["serving_default"]


@pytest.mark.parametrize("name", ENTRIES)
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.one_of(st.text(max_size=30), st.binary(max_size=30)), min_size=1, max_size=4))
def test_any_text_through_the_saved_model_and_the_tflite_file_gives_finite_outputs(name, export_base, texts):
    from ai_edge_litert.interpreter import Interpreter

    task = task_of(name)
    served = tiny_of(name).served_from(texts)  # the texts' bytes as the task's input: images, notes, samples
    outputs = loaded_saved_model(name, export_base)(**{task.serving.input: served})
    for output_name, value in outputs.items():
        if value.dtype.is_floating:
            assert np.isfinite(value.numpy()).all(), f"serving_default: {output_name} is not finite"
    data = trained(name).data
    interpreter = Interpreter(model_path=str(exported(name, export_base) / f"{name}.tflite"))
    inputs = served if isinstance(served, np.ndarray) else served.numpy().tolist()
    for output_name, value in task.tflite_outputs(interpreter, data.vectorizer, inputs, data.meta).items():
        if np.issubdtype(value.dtype, np.floating):
            assert np.isfinite(value).all(), f"tflite: {output_name} is not finite"


@pytest.mark.parametrize("name", ENTRIES)
def test_serving_default_answers_an_empty_batch_with_empty_outputs(name, export_base):
    import tensorflow as tf

    serve = loaded_saved_model(name, export_base)
    spec = serve.structured_input_signature[1][task_of(name).serving.input]
    empty = tf.zeros([0, *[size or 1 for size in spec.shape[1:]]], spec.dtype) if spec.dtype != tf.string \
        else tf.constant([], tf.string)
    outputs = serve(**{task_of(name).serving.input: empty})
    assert {key: value.shape[0] for key, value in outputs.items()} == {key: 0 for key in outputs}


@pytest.mark.parametrize("name", ENTRIES)
def test_every_export_carries_warmup_requests_that_replay_through_every_signature(name, export_base):
    """TF Serving replays `assets.extra/tf_serving_warmup_requests` when it loads a version: one
    PredictionLog per signature, addressed to this model, each run here as the server runs it."""
    from seqzoo.exporters.warmup import replay_warmup

    loaded = exported_model(name, export_base).saved_model
    assert replay_warmup(exported(name, export_base), loaded) == sorted(loaded.signatures)


# One entry a task, the one with the most signatures: a request is rendered from a signature's specs.
REQUEST_ENTRIES = ["sentiment", "bilstm_tagger", "char_lm", "seq2seq_attn", "show_attend_tell", "lstm_music",
                   "wavenet", "ctc_recognizer"]
FORMS = ("rest", "columnar", "grpc")


@pytest.fixture(scope="module")
def requested(export_base, tmp_path_factory):
    """Every signature of REQUEST_ENTRIES as `seqzoo request` renders it (the REST body in the row format
    where the inputs allow it, else columnar; columnar; the gRPC PredictRequest), then run in one clean
    process that converts them as TF Serving does. Returns (replies, the values sent to serving_default)."""
    from seqzoo.exporters.requests import predict_request, request_inputs, rest_body, row_format_problem

    folder = tmp_path_factory.mktemp("requests")
    files, sent = {}, {}
    for name in REQUEST_ENTRIES:
        version, model = exported(name, export_base), exported_model(name, export_base)
        task = task_of(name)
        for signature in sorted(model.saved_model.signatures):
            specs = model.saved_model.signatures[signature].structured_input_signature[1]
            main = task.request_input(signature, specs)
            values = tiny_of(name).request_values(main, folder) if main else []
            inputs, _ = request_inputs(model, signature, values, {})
            if signature == "serving_default":
                sent[name] = task.request_values(main, values, model.meta)
            paths = {form: folder / f"{name}-{signature}-{form}.{'pb' if form == 'grpc' else 'json'}"
                     for form in FORMS}
            for form in ("rest", "columnar"):
                columnar = form == "columnar" or row_format_problem(inputs) is not None
                body = rest_body(inputs, signature, columnar=columnar, binary=task.serving.binary_inputs)
                paths[form].write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
            paths["grpc"].write_bytes(predict_request(inputs, name, signature, 1).SerializeToString())
            files.update({f"{name}/{signature}/{form}": (version, signature, paths[form]) for form in FORMS})
    return requests_in_clean_process(files), sent


@pytest.mark.parametrize("name", REQUEST_ENTRIES)
def test_rest_bodies_and_grpc_requests_reach_every_signature_as_tf_serving_converts_them(
        name, requested, export_base):
    replies, sent = requested
    card = json.loads((exported(name, export_base) / "seqzoo.json").read_text())
    signatures = sorted(card["saved_model"])
    assert {key.split("/")[1] for key in replies if key.startswith(f"{name}/")} == set(signatures)
    for signature in signatures:
        forms = {form: replies[f"{name}/{signature}/{form}"] for form in FORMS}
        for form, reply in forms.items():
            assert "error" not in reply, f"{signature} ({form}): {reply.get('error')}"
        assert forms["grpc"]["model_spec"] == [name, 1, signature]
        outputs = forms["rest"]["outputs"]
        documented = set(card["saved_model"][signature]["outputs"]) - {"search", "states", "<states>"}
        assert {key for key in outputs if not key.startswith(("state_", "cache_"))} == documented, signature
        for form in ("columnar", "grpc"):
            assert forms[form]["outputs"].keys() == outputs.keys()
            for key, value in outputs.items():
                if value and isinstance(np.ravel(value)[0], str):
                    assert forms[form]["outputs"][key] == value, (signature, form, key)
                else:
                    np.testing.assert_array_equal(forms[form]["outputs"][key], value,
                                                  err_msg=f"{signature} {key}")
    t = trained(name)  # serving_default, from the REST body, is what Keras gives for the values sent
    for key, expected in task_of(name).reference_outputs(t.model, t.data.vectorizer, sent[name],
                                                         t.data.meta).items():
        got = replies[f"{name}/serving_default/rest"]["outputs"][key]
        np.testing.assert_allclose(np.array(got), expected, atol=1e-5, err_msg=key)


@pytest.mark.slow
@pytest.mark.parametrize("name", ENTRIES)
def test_every_entry_exports_quantized_files_or_lists_why_not(name, tmp_path):
    """float16 and dynamic-range files are made for every entry; full int8 is made or listed with the
    converter's reason; every made file is measured against float32 in the task's terms."""
    import math

    from seqzoo.exporters.tflite import QUANTIZATIONS

    t = trained(name)
    version = seqzoo.export(t.model, t.data.vectorizer, name=name, meta=t.data.meta, base=tmp_path,
                            heldout_texts=t.data.served if t.data.heldout is None else t.data.heldout,
                            quantize="float16,dynamic,int8")
    report = json.loads((version / "seqzoo.json").read_text())["tflite"]["quantized"]
    assert report["float16"]["made"] and report["dynamic"]["made"], report
    for kind in QUANTIZATIONS:
        variant = report[kind]
        if not variant["made"]:
            assert variant["reason"].startswith(f"model '{t.model.name}' does not convert to int8"), variant
            continue
        assert (version / variant["file"]).stat().st_size == variant["bytes"] and variant["latency_ms"] > 0
        assert variant["agreement"] and all(math.isfinite(v) for v in variant["agreement"].values()), variant
