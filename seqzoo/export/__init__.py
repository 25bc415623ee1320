"""Exports to TF Serving (SavedModel, strings in) and LiteRT (.tflite, builtin ops)."""

from seqzoo.export.exported import ExportedModel
from seqzoo.export.exporter import export, export_run, latest_version

__all__ = ["ExportedModel", "export", "export_run", "latest_version"]
