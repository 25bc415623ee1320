"""saved_models/models.config: the TF Serving model_config_list of every exported model."""

from __future__ import annotations

from pathlib import Path


def write_models_config(base: Path) -> Path:
    """Lists every model folder under `base` that holds a numbered version."""
    entries = []
    for model_dir in sorted(p for p in base.iterdir() if p.is_dir()):
        if any(v.is_dir() and v.name.isdigit() for v in model_dir.iterdir()):
            entries.append(
                "  config {\n"
                f'    name: "{model_dir.name}"\n'
                f'    base_path: "{model_dir.resolve()}"\n'
                '    model_platform: "tensorflow"\n'
                "  }\n"
            )
    path = base / "models.config"
    tmp = base / ".models.config.tmp"
    tmp.write_text("model_config_list {\n" + "".join(entries) + "}\n")
    tmp.replace(path)
    return path
