"""Each task's tiny data for the zoo contract (tests/contract.py), one module a task.

`tiny_task(name)` is the `TinyTask` of the task `name` registers under; a task without a
module here fails the contract until it supplies one. A text task takes `TinyTask`'s defaults
for everything but its data.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from seqzoo.text import Vectorizer, string_tensor

TEXTS = ["a gorgeous film", "dull and tedious", "wonderful cast", "a tedious mess",
         "moving and gorgeous", "boring and dull", "", "unseen words entirely"]


@dataclass
class Tiny:
    """A tiny task: what a few full-batch fit steps read, and what its export serves."""

    vectorizer: Vectorizer | None
    inputs: object  # what `fit` reads (and the `.keras` round trip compares on)
    targets: np.ndarray
    meta: dict  # the task's serving metadata, as `prepare` makes it
    served: list | np.ndarray = None  # what serving_default takes (default: TEXTS)
    heldout: list | None = None  # what the export's parity check takes, when not `served`

    def __post_init__(self):
        self.served = TEXTS if self.served is None else self.served


class TinyTask:
    """The contract's per-task pieces; the defaults are a text task's (ids in, a softmax out)."""

    independent_outputs = False  # True: a sigmoid per output (music's notes), else a softmax

    def check_outputs(self, outputs: np.ndarray) -> None:
        """Asserts the forward pass's outputs are what the head makes: a softmax sums to 1, a sigmoid
        per output lies in (0, 1)."""
        if self.independent_outputs:
            assert ((outputs > 0) & (outputs < 1)).all()
        else:
            np.testing.assert_allclose(outputs.sum(axis=-1), 1.0, atol=1e-5)

    def data(self, config: dict) -> Tiny:
        """The tiny data, sizing `config` to it (vocabulary, classes) as `prepare` does."""
        raise NotImplementedError

    def forward_inputs(self, ids: np.ndarray, model: keras.Model):
        """What the model takes for random token ids [batch, time] (the forward test)."""
        return ids

    def output_shape(self, batch: int, length: int, model: keras.Model) -> tuple:
        """The model's output shape for `forward_inputs` of `length` steps."""
        return (batch, model.output_shape[-1])

    def served_from(self, items: list) -> object:
        """Arbitrary texts and bytes (hypothesis) as serving_default's input."""
        return string_tensor(items)

    def request_values(self, input_name: str, folder: Path) -> list[str]:
        """What a user of `seqzoo request` names for the input: texts, one not ASCII."""
        return ["a gorgeous film", "naïve café, dull"]

    def page_refusals(self) -> list[tuple[str, object, str]]:
        """Bad input a user gives the page (a JavaScript function of one argument that returns the message
        shown, `tiny.SUBMIT` for a field), its argument, and how the message starts: an empty text."""
        return [(SUBMIT, ["input[type=text], textarea", ""], "Type a text to ")]

    def page_checks(self, interpreter, data: Tiny) -> list[tuple[str, object, dict]]:
        """What the task's browser page is asked (a JavaScript function of one argument that calls
        `window.seqzoo`), the argument, and what the Python LiteRT interpreter gives for the same from
        the page's own file (`interpreter`)."""
        raise NotImplementedError


# Sets a page's field (selector, value), presses its button, and returns the message the page shows.
SUBMIT = """async ([selector, value]) => {
  document.querySelector(selector).value = value;
  document.querySelector('form button[type=submit]').click();
  await new Promise((resolve) => setTimeout(resolve, 300));
  return document.getElementById('message').textContent;
}"""
PAGE_TEXTS = ["a gorgeous film", "naïve café, DULL!", "unseen words entirely and more"]


def padded_ids(vectorizer: Vectorizer, text: str) -> np.ndarray:
    """A text's ids as the browser-ready file takes them: [1, max_length], 0 after the text."""
    ids = vectorizer([text]).numpy()[0]
    return np.pad(ids, (0, vectorizer.max_length - len(ids)))[None].astype(np.int32)


def greedy_steps(interpreter, input_name: str, inputs: list, count: int, choose) -> tuple[np.ndarray, list]:
    """Drives the file's `step` from zero states: each of `inputs`, then `count` times what `choose`
    picks from the probabilities. Returns the probabilities after `inputs` and the picks."""
    step = interpreter.get_signature_runner("step")
    details = step.get_input_details()
    states = {name: np.zeros(d["shape"], d["dtype"]) for name, d in details.items() if name != input_name}
    shape, dtype = details[input_name]["shape"], details[input_name]["dtype"]

    def feed(value):
        nonlocal states
        out = step(**{input_name: np.asarray(value, dtype).reshape(shape)}, **states)
        states = {name: out[name] for name in states}
        return out["probabilities"][0]

    for value in inputs:
        probabilities = first = feed(value)
    picks = []
    for _ in range(count):
        picks.append(choose(probabilities))
        probabilities = feed(picks[-1])
    return first, picks


def tiny_task(task: str) -> TinyTask:
    """The `TinyTask` of a task, from `tests/tiny/<task>.py`."""
    try:
        module = importlib.import_module(f"tiny.{task}")
    except ModuleNotFoundError as err:
        raise NotImplementedError(f"task {task!r} supplies no tiny data for the contract: add "
                                  f"tests/tiny/{task}.py with a TinyTask") from err
    return module.TINY


def per_step_shape(batch: int, length: int, model: keras.Model) -> tuple:
    """An output per input step (taggers, language models, music, audio)."""
    return (batch, length, model.output_shape[-1])


def byte_rows(items: list) -> list[bytes]:
    """Texts and bytes as bytes (texts as UTF-8, lone surrogates kept)."""
    return [t.encode("utf-8", "surrogatepass") if isinstance(t, str) else t for t in items]
