"""A model in the browser: seqzoo's page (LiteRT.js 2.5.3, WebAssembly, headless Chromium) vs the
Python LiteRT interpreter, on the same browser-ready file and the same inputs.

    python bench/bench_web.py saved_models/seq2seq_attn [--rounds 20] [--screenshot page.png]

Needs an export with a page (`seqzoo export RUN --web`, or `seqzoo demo` once LiteRT.js is fetched),
Chromium (`SEQZOO_CHROMIUM` or `chromium` on PATH) and Playwright. Prints:

- page weight: the bytes a browser loads (the card's `web.bytes_loaded`: the page, the model, LiteRT.js
  and one wasm pair);
- page load to first result: a fresh browser context (empty cache), navigation start to the first
  answer of the page's main call, in ms;
- per call, the median of `--rounds` after as many to warm up (the browser compiles wasm in tiers:
  its first calls are slower): the page's main call as a user triggers it (JavaScript tokenizing
  included) vs the interpreter's call of the same signature with the same ids, and their ratio.

The main call: `translate` (the demo's dates, beam width 1 and 4) for translation, `classify` /
`tag` for text classifiers and taggers, one `step` for the step-driven pages.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from ai_edge_litert.interpreter import Interpreter  # noqa: E402
from timing import timed  # noqa: E402  (bench/timing.py, beside this script)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from browser import chromium, opened  # noqa: E402  (tests/browser.py: the system Chromium, served)

from seqzoo.demo import DATES, SENTENCES  # noqa: E402
from seqzoo.exporters.integrity import latest_version  # noqa: E402
from seqzoo.text import Vectorizer  # noqa: E402


def calls(card: dict, page: dict) -> list[tuple[str, str, object, str, dict]]:
    """(what, the page's JavaScript, its argument, the signature, the interpreter's inputs) per call."""
    kind = page["page"]
    if "step" in page["signatures"]:  # zeros: the time of a step does not depend on its values
        details = page["signatures"]["step"]["inputs"]
        inputs = {name: np.zeros(d["shape"], d["dtype"]) for name, d in details.items()}
        return [("one step", "x => seqzoo.run('step', x)", {k: v.ravel().tolist() for k, v in inputs.items()},
                 "step", inputs)]
    vectorizer = Vectorizer.from_config(card["config"]["text"] | {"max_length": page["text"]["max_length"]})
    vectorizer.set_vocabulary(page["vocabulary"][2:])

    def ids(text):
        row = vectorizer([text]).numpy()[0]
        return np.pad(row, (0, page["text"]["max_length"] - len(row)))[None].astype(np.int32)

    if kind == "translation":
        return [(f"translate, beam {beam}: {text!r}", "([t, b]) => seqzoo.translate(t, b)", [text, beam],
                 "translate", {"token_ids": ids(text), "beam_width": np.int32(beam)})
                for beam in (1, 4) for text in DATES[:4]]
    function = {"classification": "classify", "tagging": "tag"}[kind]
    return [(f"{function}: {text!r}", f"t => seqzoo.{function}(t)", text, "serving_default",
             {"token_ids": ids(text)}) for text in SENTENCES[:2]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", help="saved_models/NAME (its newest version) or a version, exported --web")
    parser.add_argument("--rounds", type=int, default=50, help="calls timed, after as many to warm up")
    parser.add_argument("--screenshot", help="save a screenshot of the page answering its example here")
    args = parser.parse_args()
    version = latest_version(args.model)
    card = json.loads((version / "seqzoo.json").read_text())
    folder = version / "web"
    page_config = json.loads((folder / "model.json").read_text())
    interpreter = Interpreter(model_path=str(folder / "model.tflite"))
    web = card["web"]
    print(f"{card['name']} ({page_config['page']} page), LiteRT.js {page_config['litertjs']}; page weight "
          f"{web['bytes_loaded'] / 1e6:.2f} MB loaded ({web['bytes'] / 1e6:.2f} MB in the folder, with the "
          "second wasm pair for browsers without relaxed SIMD)")
    rows = calls(card, page_config)
    with chromium() as browser:
        context = browser.new_context()  # an empty cache
        with opened(context, folder) as (page, errors):
            first = page.evaluate(f"async a => {{ await ({rows[0][1]})(a); return performance.now(); }}",
                                  rows[0][2])
            loaded = page.evaluate("seqzoo.loadMs")
            print(f"page load to first result: {first:.0f} ms (model loaded at {loaded:.0f} ms)")
            if args.screenshot:  # the page as a user sees it after pressing its button on its example
                page.click("form button[type=submit]")
                page.wait_for_timeout(2000)
                page.screenshot(path=args.screenshot, full_page=True)
            print(f"{'call':48s} {'browser ms':>11s} {'python ms':>10s} {'ratio':>6s}")
            ratios = []
            for what, script, argument, signature, inputs in rows:
                call = functools.partial(interpreter.get_signature_runner(signature), **inputs)
                call()  # warm, as the page is below
                python = statistics.median(timed(call) for _ in range(args.rounds)) * 1e3
                browser_ms = page.evaluate(
                    f"async ([a, n]) => {{ const f = {script}; for (let i = 0; i < n; i++) await f(a); "
                    "const t = []; for (let i = 0; i < n; i++) { "
                    "const s = performance.now(); await f(a); t.push(performance.now() - s); } "
                    "t.sort((x, y) => x - y); return t[Math.floor(n / 2)]; }", [argument, args.rounds])
                ratios.append(browser_ms / python)
                print(f"{what[:48]:48s} {browser_ms:11.2f} {python:10.2f} {browser_ms / python:6.2f}")
            print(f"browser / python per call, median over the calls: {statistics.median(ratios):.2f}x")
            assert not errors, errors
        context.close()


if __name__ == "__main__":
    main()
