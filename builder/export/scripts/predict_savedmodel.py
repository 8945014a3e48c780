"""Classifies images with the exported TensorFlow SavedModel (saved_model/), as the page that
trained it does.

    python predict.py photo.jpg [more.jpg …] [--json]

Needs tensorflow, numpy and Pillow (not Keras: the SavedModel is a plain TensorFlow graph). Each
image is prepared as the page prepares camera frames and uploads: its centred square, resized to the
model's input size (bilinear), RGB values 0–255 as floats; the model normalizes them itself.
labels.txt next to this script names the outputs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

HERE = Path(__file__).resolve().parent
# TensorFlow's C++ start-up log (CUDA probing, CPU features) says nothing about the images.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
BATCH = 32


def load_pixels(path: Path, size: int) -> np.ndarray:
    """The centred square of the image at size×size, float32 RGB 0–255 (as the page's crop)."""
    with Image.open(path) as image:
        image = ImageOps.exif_transpose(image).convert("RGB")
    width, height = image.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    square = image.crop((left, top, left + side, top + side))
    return np.asarray(square.resize((size, size), Image.Resampling.BILINEAR), dtype=np.float32)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Classify images with the exported model.")
    parser.add_argument("images", nargs="+", type=Path, help="image files (JPEG, PNG, …)")
    parser.add_argument("--json", action="store_true", help="one JSON line per image, with every class")
    args = parser.parse_args(argv)

    import tensorflow as tf

    labels = (HERE / "labels.txt").read_text(encoding="utf-8").splitlines()
    serve = tf.saved_model.load(str(HERE / "saved_model")).signatures["serving_default"]
    ((name, spec),) = serve.structured_input_signature[1].items()
    size = int(spec.shape[1])
    failed = 0
    for start in range(0, len(args.images), BATCH):
        batch, paths = [], []
        for path in args.images[start : start + BATCH]:
            try:
                batch.append(load_pixels(path, size))
                paths.append(path)
            except OSError as error:
                print(f"{path}: cannot read the image ({error})", file=sys.stderr)
                failed += 1
        if not batch:
            continue
        (output,) = serve(**{name: tf.constant(np.stack(batch))}).values()
        for path, row in zip(paths, output.numpy()):
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


if __name__ == "__main__":
    sys.exit(main())
