"""What every exported predict.py shares: the command line, reading each image as the page that
trained the model does, and printing one answer per image. The export writes it into predict.py in
place of the line of predict_*.py that imports it (builder/export/formats.py), so an author gets one
file; labels.txt beside it names the model's outputs."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

HERE = Path(__file__).resolve().parent

# pixels (N×size×size×3 float32, RGB 0–255) → one row of outputs per image
Predict = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Model:
    size: int  # the model's input: size×size pixels
    predict: Predict
    batch: int = 32  # images per call


def load_pixels(path: Path, size: int) -> np.ndarray:
    """The centred square of the image at size×size, float32 RGB 0–255 (as the page's crop)."""
    with Image.open(path) as image:
        image = ImageOps.exif_transpose(image).convert("RGB")
    width, height = image.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    square = image.crop((left, top, left + side, top + side))
    return np.asarray(square.resize((size, size), Image.Resampling.BILINEAR), dtype=np.float32)


def run(load_model: Callable[[], Model], argv: list[str] | None = None) -> int:
    """Parses the command line first (so --help needs no model runtime), then classifies. Exit 1
    when any image could not be read; the others are still answered."""
    parser = argparse.ArgumentParser(description="Classify images with the exported model.")
    parser.add_argument("images", nargs="+", type=Path, help="image files (JPEG, PNG, …)")
    parser.add_argument("--json", action="store_true", help="one JSON line per image, with every class")
    args = parser.parse_args(argv)

    labels = (HERE / "labels.txt").read_text(encoding="utf-8").splitlines()
    model = load_model()
    failed = 0
    for start in range(0, len(args.images), model.batch):
        batch, paths = [], []
        for path in args.images[start : start + model.batch]:
            try:
                batch.append(load_pixels(path, model.size))
                paths.append(path)
            except OSError as error:
                print(f"{path}: cannot read the image ({error})", file=sys.stderr)
                failed += 1
        if not batch:
            continue
        for path, row in zip(paths, model.predict(np.stack(batch))):
            report(path, labels, np.asarray(row, dtype=np.float64), args.json)
    return 1 if failed else 0


def report(path: Path, labels: list[str], probabilities: np.ndarray, as_json: bool) -> None:
    if len(probabilities) == 1:  # a regression model: its one output is the number labels.txt names
        value = float(probabilities[0])
        print(
            json.dumps({"file": str(path), labels[0]: value}, ensure_ascii=False)
            if as_json
            else f"{path}: {labels[0]} {value:.4g}"
        )
        return
    best = int(np.argmax(probabilities))
    if as_json:
        line = {
            "file": str(path),
            "label": labels[best],
            "probability": float(probabilities[best]),
            "probabilities": {label: float(p) for label, p in zip(labels, probabilities)},
        }
        print(json.dumps(line, ensure_ascii=False))
    else:
        print(f"{path}: {labels[best]} {probabilities[best]:.3f}")
