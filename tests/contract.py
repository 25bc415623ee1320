"""The contract every zoo entry meets, as helpers the parametrised tests call.

An entry is tested the moment it registers: tiny preset, forward on two lengths,
fit lowers the loss, `.keras` round trip, SavedModel in a clean process, TFLite.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from ai_edge_litert.interpreter import Interpreter

import seqzoo
from seqzoo.registry import get_entry
from seqzoo.text import Vectorizer

# Per task: texts and targets small enough to learn in a few steps.
TASK_EXAMPLES = {
    "classification": (
        ["a gorgeous film", "dull and tedious", "wonderful cast", "a tedious mess",
         "moving and gorgeous", "boring and dull", "", "unseen words entirely"],
        np.array([1, 0, 1, 0, 1, 0, 0, 1]),
    ),
}


@dataclass
class Trained:
    name: str
    model: keras.Model
    vectorizer: Vectorizer
    texts: list[str]
    targets: np.ndarray
    losses: list[float]


def train_tiny(name: str, steps: int = 8) -> Trained:
    """Builds the tiny preset, adapts a vectorizer, and fits a few full-batch steps."""
    texts, targets = TASK_EXAMPLES[get_entry(name).task]
    config = seqzoo.get_config(name, preset="tiny")
    vectorizer = Vectorizer(**config["text"]).adapt(texts)
    keras.utils.set_random_seed(0)
    model = seqzoo.build(name, preset="tiny", max_tokens=vectorizer.vocabulary_size())
    history = model.fit(vectorizer(texts), targets, batch_size=len(texts), epochs=steps, verbose=0)
    return Trained(name, model, vectorizer, texts, targets, history.history["loss"])


def saved_model_outputs_in_clean_process(path: Path, texts: list[str]) -> dict[str, np.ndarray]:
    """serving_default(text) run by a Python that imports tensorflow only."""
    script = (
        "import json, sys, tensorflow as tf\n"
        "serve = tf.saved_model.load(sys.argv[1]).signatures['serving_default']\n"
        "out = serve(text=tf.constant(json.loads(sys.stdin.read())))\n"
        "loaded = [m for m in sys.modules if m.startswith(('seqzoo', 'tensorflow_text'))]\n"
        "print(json.dumps({'loaded': loaded, 'outputs': {k: v.numpy().tolist() "
        "for k, v in out.items() if v.dtype != tf.string}}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(path)], input=json.dumps(texts),
        capture_output=True, text=True, check=True,
    )
    reply = json.loads(result.stdout.strip().splitlines()[-1])
    assert reply["loaded"] == [], f"the clean process imported {reply['loaded']}"
    return {k: np.array(v) for k, v in reply["outputs"].items()}


def tflite_outputs(path: Path, vectorizer: Vectorizer, texts: list[str], output: str) -> np.ndarray:
    """The .tflite file run by LiteRT, one text at a time (batch 1), as an app calls it."""
    runner = Interpreter(model_path=str(path)).get_signature_runner("serving_default")
    return np.concatenate([runner(token_ids=vectorizer([t]).numpy())[output] for t in texts])
