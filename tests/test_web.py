"""Browser pages: what makes a `.tflite` file browser-ready, LiteRT.js found and checked, `seqzoo export
--web` and `seqzoo web`, and a page's answer to bad input. (Every entry's page against the Python
interpreter: tests/test_zoo_contract.py.)"""

import json
import shutil
import urllib.request

import numpy as np
import pytest
import tensorflow as tf
from browser import opened, web_runtime_missing

import seqzoo
from seqzoo.cli import main
from seqzoo.errors import SeqzooNote, UserError
from seqzoo.exporters.web import browser_file
from seqzoo.exporters.web import runtime as web_runtime
from seqzoo.exporters.web.model import NotBrowserReady, browser_ready
from seqzoo.exporters.web.serve import page_folder, serving
from seqzoo.tasks import get_task
from seqzoo.text import Vectorizer


def cli(capsys, *argv):
    try:
        code = main(list(argv))
    except SystemExit as exited:
        code = exited.code
    out, err = capsys.readouterr()
    return code, out, err


def test_browser_ready_fixes_every_variable_length_and_passes_bools_as_int32():
    def step(ids, memory, mask):
        return {"sum": tf.reduce_sum(memory, axis=[1, 2]), "kept": mask & (ids > 0)}

    specs = [tf.TensorSpec([None, None], tf.int32, name="ids"), tf.TensorSpec([None, None, 4], tf.float32,
                                                                              name="memory"),
             tf.TensorSpec([None, None], tf.bool, name="mask")]
    function, fixed = browser_ready({"step": (step, specs)}, length=6)["step"]
    assert [(s.name, s.shape.as_list(), s.dtype) for s in fixed] == [
        ("ids", [1, 6], tf.int32), ("memory", [1, 6, 4], tf.float32), ("mask", [1, 6], tf.int32)]
    out = function(tf.constant([[3, 0, 1, 0, 0, 0]]), tf.ones([1, 6, 4]), tf.constant([[1, 1, 0, 0, 0, 0]]))
    assert out["kept"].dtype == tf.int32 and out["kept"].numpy().tolist() == [[1, 0, 0, 0, 0, 0]]
    assert out["sum"].numpy().tolist() == [24.0]


def test_browser_ready_names_what_liteRT_js_cannot_take():
    variable = {"score": (lambda ids: {"n": ids}, [tf.TensorSpec([None, None], tf.int32, name="ids")])}
    with pytest.raises(NotBrowserReady, match=r"^signature 'score': input 'ids' \[None, None\] has a "
                                              r"variable length, and the task fixes none$"):
        browser_ready(variable, length=None)
    strings = {"serve": (lambda text: {"n": text}, [tf.TensorSpec([None], tf.string, name="text")])}
    with pytest.raises(NotBrowserReady, match="input 'text' is string, which LiteRT.js does not take"):
        browser_ready(strings, length=8)


def test_an_entry_without_a_page_or_with_a_tokenizer_the_page_lacks_is_named_in_a_note():
    with pytest.warns(SeqzooNote, match="^demo gets no browser page: the page tokenizes 'word' and 'char' "
                                        "text, not 'wordpiece'$"):
        reason = browser_file(get_task("classification"), None, {}, Vectorizer(tokenizer="wordpiece"), "demo")
    assert reason == "the page tokenizes 'word' and 'char' text, not 'wordpiece'"
    pageless = type("Pageless", (type(get_task("classification")),), {"web_page": None})()
    with pytest.warns(SeqzooNote, match="^demo gets no browser page: task 'classification' has no browser "
                                        "page yet$"):
        browser_file(pageless, None, {}, None, "demo")


def test_export_web_without_litertjs_says_how_to_get_it_and_writes_nothing(
        sentiment_run, tmp_path, monkeypatch):
    monkeypatch.setenv("SEQZOO_LITERTJS", str(tmp_path / "empty"))
    with pytest.raises(UserError, match=r"^seqzoo export --web needs LiteRT.js 2\.5\.3, and '.*empty' lacks "
                                        r"litertjs-core-2\.5\.3\.tgz, litertjs-wasm-utils-2\.5\.3\.tgz: run "
                                        r"`seqzoo web --fetch-runtime` \(npm\), or download https://registry"):
        seqzoo.export_run(sentiment_run, base=tmp_path / "saved_models", web=True)
    assert not (tmp_path / "saved_models").exists()


def test_an_altered_litertjs_package_is_refused(tmp_path, monkeypatch):
    if web_runtime_missing():
        pytest.skip(web_runtime_missing())
    source = web_runtime.checked_runtime()
    for name in web_runtime.TARBALLS:
        shutil.copyfile(source / name, tmp_path / name)
    with open(tmp_path / "litertjs-core-2.5.3.tgz", "r+b") as tarball:
        tarball.truncate(1000)
    monkeypatch.setenv("SEQZOO_LITERTJS", str(tmp_path))
    with pytest.raises(UserError, match=r"litertjs-core-2\.5\.3\.tgz' is not the LiteRT.js 2\.5\.3 package "
                                        r"\(its sha256 differs\); delete it and run `seqzoo web "
                                        r"--fetch-runtime`"):
        web_runtime.checked_runtime()


def test_fetching_litertjs_without_npm_names_the_urls(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQZOO_LITERTJS", str(tmp_path))
    monkeypatch.setattr(web_runtime.shutil, "which", lambda name: None)
    with pytest.raises(UserError, match=r"^npm is not installed: download https://registry\.npmjs\.org/@litertjs/"
                                        r"core/-/core-2\.5\.3\.tgz and .*wasm-utils-2\.5\.3\.tgz into"):
        web_runtime.fetch_runtime()


@pytest.mark.parametrize("argv, message", [
    (["web"], "name an export to serve (saved_models/NAME), or pass --fetch-runtime"),
    (["web", "nowhere/model"], "'nowhere/model' holds no exported versions"),
    (["web", "saved_models_x", "--port", "70000"], "--port must be from 0 to 65535, got 70000"),
])
def test_seqzoo_web_refuses_in_one_line(capsys, argv, message):
    code, _, err = cli(capsys, *argv)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err


def test_seqzoo_web_names_a_version_without_a_page(capsys, exported_sentiment):
    code, _, err = cli(capsys, "web", str(exported_sentiment))
    assert code == 2
    assert err.strip() == (f"seqzoo: error: '{exported_sentiment}' has no browser page: export it with "
                           "`seqzoo export RUN --web`")


@pytest.fixture(scope="module")
def web_export(sentiment_run, tmp_path_factory):
    """`seqzoo export RUN --web` of the tiny sentiment run, and what it printed."""
    if web_runtime_missing():
        pytest.skip(web_runtime_missing())
    base = tmp_path_factory.mktemp("web_exports")
    code = main(["export", str(sentiment_run), "--base", str(base), "--web"])
    assert code in (0, None)
    return base / "sentiment" / "1"


def test_export_web_writes_a_page_listed_in_the_card_and_verified(web_export, capsys):
    card = json.loads((web_export / "seqzoo.json").read_text())
    web = card["web"]
    assert web["folder"] == "web" and web["page"] == "classification" and web["litertjs"] == "2.5.3"
    assert web["signatures"] == {"serving_default": {
        "inputs": {"token_ids": {"shape": [1, card["text"]["max_length"]], "dtype": "int32"}},
        "outputs": {"probabilities": {"shape": [1, 2], "dtype": "float32"}}}}
    assert web["parity"]["max_abs_diff_vs_tflite"] <= 1e-5
    assert {"web/model.tflite", "web/litert/wasm/litert_wasm_internal.wasm"} <= set(card["files"])
    assert page_folder(web_export.parent) == web_export / "web"
    code, out, _ = cli(capsys, "verify", str(web_export))
    assert code in (0, None), out


def test_the_page_is_served_with_the_types_a_browser_needs(web_export):
    with serving(web_export / "web") as url:
        for path, kind in (("", "text/html"), ("page.js", "text/javascript"),
                           ("model.json", "application/json"),
                           ("litert/wasm/litert_wasm_internal.wasm", "application/wasm")):
            with urllib.request.urlopen(url + path) as reply:
                assert reply.headers["Content-Type"].startswith(kind), path
        page = json.loads(urllib.request.urlopen(url + "model.json").read())
        assert page["vocabulary"][:2] == ["", "[UNK]"] and page["meta"] == {"labels": ["neg", "pos"]}


def test_a_page_answers_bad_input_with_a_message_and_keeps_working(web_export, browser):
    with opened(browser, web_export / "web") as (page, errors):
        page.fill("textarea", "   ")
        page.click("button[type=submit]")
        assert page.inner_text("#message") == "Type a text to classify."
        page.fill("textarea", "a gorgeous and moving film")
        page.click("button[type=submit]")
        page.wait_for_function("document.querySelector('.output').textContent !== ''")
        assert page.inner_text(".output") in ("neg", "pos") and page.is_hidden("#message")
        message = page.evaluate("seqzoo.run('serving_default', {token_ids: [1, 2]}).catch(e => e.message)")
        assert message.startswith("serving_default: 'token_ids' has 2 values; the model takes")
        assert page.evaluate("seqzoo.run('generate', {}).catch(e => e.message)") == (
            "the model has no signature 'generate'")
        probabilities = page.evaluate("seqzoo.classify('a gorgeous and moving film')")["probabilities"]
        np.testing.assert_allclose(sum(probabilities), 1.0, atol=1e-6)
        assert not errors, errors
