"""saved_models/models.config: the TF Serving model_config_list of every exported model."""

from __future__ import annotations

from pathlib import Path

from seqzoo.files import write_text


def write_models_config(base: Path) -> Path:
    """Lists every model folder under `base` that holds a numbered version, written through the
    `ModelServerConfig` proto's text format (never by pasting strings: a base path holding quotes
    or braces stays one path)."""
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    config = model_server_config_pb2.ModelServerConfig()
    for model_dir in sorted(p for p in base.iterdir() if p.is_dir() and not p.is_symlink()):
        if any(v.is_dir() and v.name.isdigit() for v in model_dir.iterdir()):
            model = config.model_config_list.config.add()
            model.name = model_dir.name
            model.base_path = str(model_dir.resolve())
            model.model_platform = "tensorflow"
    return write_text(base / "models.config", text_format.MessageToString(config))
