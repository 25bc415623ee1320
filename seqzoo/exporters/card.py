"""The model card, seqzoo.json: what an export is, how to call it, how it scored."""

from __future__ import annotations

import datetime
import platform

import keras
import tensorflow as tf

from seqzoo.tasks import Task
from seqzoo.text import Vectorizer

# The vectorizer settings an app needs to tokenize for the TFLite file.
TEXT_SETTINGS = ("tokenizer", "lowercase", "strip_punctuation", "max_tokens", "max_length")


def model_card(
    *, name: str, entry: str, task: Task, version: int, config: dict | None, meta: dict,
    vectorizer: Vectorizer | None, metrics: dict | None, parity: dict, tflite_file: str,
    quantized: dict | None = None,
) -> dict:
    import seqzoo

    calling = task.card(meta)
    return {
        "name": name,
        "version": version,
        "model": entry,
        "task": task.name,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "config": config,
        "meta": meta,  # the task's serving metadata (label names, search settings, ...), as run.json has it
        "metrics": metrics or {},
        "parity": parity,
        **(_text_card(vectorizer) if vectorizer is not None else {}),
        "saved_model": calling["saved_model"],
        "tflite": {
            "file": tflite_file,
            "ops": "TFLite builtins only",
            **calling["tflite"],
            **(_tokenization(vectorizer) if vectorizer is not None else {}),
            **({"quantized": quantized} if quantized else {}),
        },
        "versions": {
            "seqzoo": seqzoo.__version__,
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "python": platform.python_version(),
        },
    }


def card_meta(card: dict) -> dict:
    """The task's metadata in a model card: under `meta`, or, in cards written before it had its own
    key, spread over the card's top level."""
    return card["meta"] if isinstance(card.get("meta"), dict) else card


def _text_card(vectorizer: Vectorizer) -> dict:
    """The text settings and vocabulary an entry that reads text serves with."""
    return {
        "text": {key: vectorizer.get_config()[key] for key in TEXT_SETTINGS},
        "vocabulary_size": vectorizer.vocabulary_size(),
        "requires_tensorflow_text": vectorizer.needs_tensorflow_text,
    }


def _tokenization(vectorizer: Vectorizer) -> dict:
    """How an app tokenizes for the TFLite file."""
    return {
        "vocabulary_file": "vocabulary.json",
        "wordpiece_vocabulary_file": (
            "wordpiece_vocabulary.json" if vectorizer.tokenizer == "wordpiece" else None
        ),
        "tokenization": (
            "apply the `text` settings: replace invalid UTF-8 with U+FFFD, "
            "lowercase and strip ASCII punctuation if set, split by `tokenizer`, keep "
            "`max_length` tokens, id = index in vocabulary.json (0 padding, 1 unknown); "
            "an empty text is [1]"
        ),
    }
