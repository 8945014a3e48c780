"""One export: read the file, check everything that can be checked before writing, rebuild the
classifier for a model format, then write the format into a staging folder and move it into place."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from ..progress import NO_PROGRESS, Progress
from ..trained import TrainedProject, read_trained
from . import FORMATS, available_formats
from .output import ExportError, check_output, staged_output, write_marker

# Bytes; smaller files are only named: labels.txt, and predict.py (about 10 kB with --explain).
SIZE_SHOWN_FROM = 50_000


@dataclass(frozen=True)
class ExportReport:
    format: str
    output: Path
    files: list[Path]  # every file or folder the format wrote, inside output
    sizes: dict[str, int]  # bytes of each top-level entry of output that the format wrote
    note: str | None  # about the first entry, e.g. how int8 was calibrated
    elapsed_seconds: float

    def summary(self) -> str:
        """One line: the format, where, how long, and each entry written (with its size if large)."""
        parts = []
        for index, (name, size) in enumerate(self.sizes.items()):
            text = f"{name} {_size(size)}" if size >= SIZE_SHOWN_FROM else name
            if index == 0 and self.note:
                text += f" ({self.note})"
            parts.append(text)
        return f"Exported {self.format} to {self.output} in {self.elapsed_seconds:.1f} s: {', '.join(parts)}."


def _top_level(staging: Path, files: list[Path]) -> dict[str, int]:
    """Each top-level entry the files are in ("saved_model/", "labels.txt"), with its size."""
    sizes: dict[str, int] = {}
    for path in files:
        first = path.relative_to(staging).parts[0]
        entry = staging / first
        name = f"{first}/" if entry.is_dir() else first
        if name not in sizes:
            sizes[name] = _bytes(entry)
    return sizes


def _size(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.0f} kB"


def _bytes(path: Path) -> int:
    if path.is_dir():
        return sum(item.stat().st_size for item in path.rglob("*") if item.is_file())
    return path.stat().st_size


def refuse_without_network(trained: TrainedProject, format_name: str) -> None:
    """A model format needs a trained dense head: layers to put on top of the base model."""
    head = trained.head
    if head is not None and head.kind == "regression" and format_name == "tflite-int8":
        raise ExportError(
            f"{trained.source}: the trained head predicts a number, and --format tflite-int8 is checked "
            "by how often its class agrees with the float model's, which a number has not.\n"
            "Hint: --format tflite gives the same model in float32."
        )
    if head is None:
        raise ExportError(
            f"{trained.source}: nothing is trained in this project file, so there is no model to export "
            f"as {format_name}.\nHint: train it in the page first and save the project file again; "
            "--format embeddings works without training."
        )
    if head.kind == "knn":
        k = head.config.get("k")
        raise ExportError(
            f"{trained.source}: the trained head is k-nearest neighbours (k = {k}), which cannot be "
            f"exported as {format_name}: a kNN head is its {len(trained.samples)} stored samples voting "
            "by cosine similarity, not a network of layers.\nHint: export the samples with "
            "--format embeddings, or choose the dense head in the page's settings, train and save again."
        )


def export_project(
    source: Path,
    format_name: str,
    output: Path,
    progress: Progress = NO_PROGRESS,
    base_model: Path | None = None,
) -> ExportReport:
    """Exports the file the page saved as `format_name` into `output`; every failure is a
    TeachkitError, and a failure writes nothing."""
    started = time.perf_counter()
    if format_name not in available_formats():
        raise ExportError(
            f'unknown export format "{format_name}"; choose one of {", ".join(available_formats())}.'
        )
    entry = FORMATS[format_name]
    source = Path(source)
    trained = read_trained(source)
    check_output(output, source)
    classifier = None
    if entry.kind == "model":
        from .network import build_classifier
        from .rebuild import check_base, rebuild_base

        refuse_without_network(trained, format_name)
        recipe = check_base(trained, base_model)
        classifier = build_classifier(rebuild_base(trained, recipe, progress), trained.head, source)
    exporter = entry.load()
    note = None
    with staged_output(output) as staging:
        if classifier is not None:
            written = exporter(classifier, trained, staging, progress)
            files, note = written.files, written.note
        else:
            files = exporter(trained, staging, progress)
        write_marker(staging, format_name, source)  # after: an exporter gets an empty folder
        names = [path.relative_to(staging) for path in files]
        sizes = _top_level(staging, files)
    return ExportReport(
        format=format_name,
        output=output,
        files=[output / name for name in names],
        sizes=sizes,
        note=note,
        elapsed_seconds=time.perf_counter() - started,
    )
