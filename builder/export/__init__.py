"""`teachkit export`: what a visitor trained in the page, as files other tools read.

One table names every format. A *model* format gets the classifier rebuilt in Keras (the page's
base model, rebuilt in Python from the identity the file carries, with the trained head on top) and
needs a trained dense head; a *data* format gets the trained project as read and works for any file.
Exporters are named by "module:function" and imported only when run, so that this table (which the
CLI reads for its --format choices) costs no TensorFlow, and a format whose module is missing from
this installation is simply not offered.

    model format:  export(classifier: Classifier, trained: TrainedProject, output: Path,
                          progress: Progress) -> ModelFiles
    data format:   export(trained: TrainedProject, output: Path, progress: Progress) -> list[Path]
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from typing import Literal

__all__ = ["FORMATS", "ExportFormat", "available_formats"]


@dataclass(frozen=True)
class ExportFormat:
    kind: Literal["model", "data"]
    target: str  # "module:function", imported when the format is run
    description: str  # one line, for --help

    @property
    def module(self) -> str:
        return self.target.split(":")[0]

    def available(self) -> bool:
        return importlib.util.find_spec(self.module) is not None

    def load(self) -> object:
        module, function = self.target.split(":")
        return getattr(importlib.import_module(module), function)


FORMATS: dict[str, ExportFormat] = {
    "keras": ExportFormat("model", "builder.export.formats:export_keras", "a Keras 3 .keras file"),
    "savedmodel": ExportFormat("model", "builder.export.formats:export_savedmodel", "a TF SavedModel folder"),
    "tflite": ExportFormat("model", "builder.export.formats:export_tflite", "TensorFlow Lite, float32"),
    "tflite-int8": ExportFormat(
        "model",
        "builder.export.formats:export_tflite_int8",
        "TensorFlow Lite, full-integer int8, calibrated on the file's own crops",
    ),
    "embeddings": ExportFormat(
        "data", "builder.export.formats:export_embeddings", "the samples' embeddings (.npz and .csv)"
    ),
    "tensorboard": ExportFormat(
        "data", "builder.export.tensorboard:export_tensorboard", "TensorBoard logs of the training"
    ),
    "tm": ExportFormat(
        "data",
        "builder.export.tm:export_tm",
        "a Teachable Machine image model (TF.js layers model + metadata.json) that ml5 loads too",
    ),
}


def available_formats() -> list[str]:
    """The formats this installation can write, in the table's order."""
    return [name for name, entry in FORMATS.items() if entry.available()]
