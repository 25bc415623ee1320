"""Reads an exported version back: predictions from its SavedModel or its TFLite file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import tensorflow as tf

from seqzoo.exporters.exporter import latest_version
from seqzoo.text import Vectorizer


class ExportedModel:
    """One exported version folder, read the way a server or an app would read it.

    Args:
        path: str. `saved_models/<name>` (the newest version is taken) or a version folder.

    Example:
    ```python
    exported = ExportedModel("saved_models/sentiment")
    exported.predict(["a gorgeous film"])            # through the SavedModel
    exported.predict(["a gorgeous film"], "tflite")  # through LiteRT, ids from vocabulary.json
    ```
    """

    def __init__(self, path: str | Path):
        self.path = latest_version(path)
        self.card = self._read_json("seqzoo.json")
        self.labels: list[str] = self.card["labels"]

    def predict(self, texts: list[str], runtime: str = "saved_model") -> list[dict]:
        """[{'text', 'label', 'probability', 'probabilities': {label: p}}] per text."""
        if runtime == "saved_model":
            serve = tf.saved_model.load(str(self.path)).signatures["serving_default"]
            probabilities = serve(text=tf.constant(texts, tf.string))["probabilities"].numpy()
        elif runtime == "tflite":
            probabilities = self._tflite_probabilities(texts)
        else:
            raise ValueError(f"unknown runtime {runtime!r}")
        return [self._row(text, p) for text, p in zip(texts, probabilities, strict=True)]

    def _tflite_probabilities(self, texts: list[str]) -> np.ndarray:
        from ai_edge_litert.interpreter import Interpreter

        # Tokenize as the card tells an app to: the text settings and the vocabulary files.
        vocabulary = self._read_json(self.card["tflite"]["vocabulary_file"])
        wordpiece_file = self.card["tflite"]["wordpiece_vocabulary_file"]
        vectorizer = Vectorizer(
            **self.card["text"], vocabulary=vocabulary[2:],
            wordpiece_vocabulary=self._read_json(wordpiece_file) if wordpiece_file else None,
        )
        tflite_path = self.path / self.card["tflite"]["file"]
        runner = Interpreter(model_path=str(tflite_path)).get_signature_runner("serving_default")
        return np.concatenate(
            [runner(token_ids=vectorizer([text]).numpy())["probabilities"] for text in texts]
        )

    def _read_json(self, name: str):
        return json.loads((self.path / name).read_text(encoding="utf-8"))

    def _row(self, text: str, probabilities: np.ndarray) -> dict:
        best = int(np.argmax(probabilities))
        return {
            "text": text,
            "label": self.labels[best],
            "probability": float(probabilities[best]),
            "probabilities": {label: float(p) for label, p in zip(self.labels, probabilities, strict=True)},
        }
