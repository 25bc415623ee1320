"""Exports to TF Serving (SavedModel, strings in) and LiteRT (.tflite, builtin ops)."""

from seqzoo.exporters.exported import ExportedModel
from seqzoo.exporters.exporter import export, export_run
from seqzoo.exporters.integrity import latest_version

__all__ = ["ExportedModel", "export", "export_run", "latest_version"]
