"""Classifies images with the exported TensorFlow Lite model (model.tflite), as the page that
trained it does.

    python predict.py photo.jpg [more.jpg …] [--json]

Needs numpy, Pillow and a TensorFlow Lite interpreter: ai-edge-litert, tflite-runtime or tensorflow
(tf.lite.Interpreter), whichever is installed. Each image is prepared as the page prepares camera
frames and uploads: its centred square, resized to the model's input size (bilinear), RGB values
0–255; the model normalizes them itself. A quantized model (int8) takes and gives integers: the
pixels are quantized and the probabilities dequantized with the model's own scale and zero point.
labels.txt next to this script names the outputs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

HERE = Path(__file__).resolve().parent
# TensorFlow's C++ start-up log (CUDA probing, CPU features) says nothing about the images.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def load_pixels(path: Path, size: int) -> np.ndarray:
    """The centred square of the image at size×size, float32 RGB 0–255 (as the page's crop)."""
    with Image.open(path) as image:
        image = ImageOps.exif_transpose(image).convert("RGB")
    width, height = image.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    square = image.crop((left, top, left + side, top + side))
    return np.asarray(square.resize((size, size), Image.Resampling.BILINEAR), dtype=np.float32)


def interpreter_class() -> type:
    """LiteRT's interpreter where installed (tf.lite.Interpreter's successor), else TensorFlow's."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            from tflite_runtime.interpreter import Interpreter
        except ImportError:
            import tensorflow as tf

            warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated")
            Interpreter = tf.lite.Interpreter
    return Interpreter


def quantize(values: np.ndarray, detail: dict) -> np.ndarray:
    """Float values as the tensor's type: integers by its scale and zero point, if it has them."""
    dtype = np.dtype(detail["dtype"])
    if not np.issubdtype(dtype, np.integer):
        return values.astype(dtype)
    scale, zero_point = detail["quantization"]
    limits = np.iinfo(dtype)
    return np.clip(np.round(values / scale + zero_point), limits.min, limits.max).astype(dtype)


def dequantize(values: np.ndarray, detail: dict) -> np.ndarray:
    if not np.issubdtype(np.dtype(detail["dtype"]), np.integer):
        return values.astype(np.float64)
    scale, zero_point = detail["quantization"]
    return (values.astype(np.float64) - zero_point) * scale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Classify images with the exported model.")
    parser.add_argument("images", nargs="+", type=Path, help="image files (JPEG, PNG, …)")
    parser.add_argument("--json", action="store_true", help="one JSON line per image, with every class")
    args = parser.parse_args(argv)

    labels = (HERE / "labels.txt").read_text(encoding="utf-8").splitlines()
    interpreter = interpreter_class()(model_path=str(HERE / "model.tflite"))
    interpreter.allocate_tensors()
    (source,) = interpreter.get_input_details()
    (target,) = interpreter.get_output_details()
    size = int(source["shape"][1])
    failed = 0
    for path in args.images:
        try:
            pixels = load_pixels(path, size)
        except OSError as error:
            print(f"{path}: cannot read the image ({error})", file=sys.stderr)
            failed += 1
            continue
        interpreter.set_tensor(source["index"], quantize(pixels[None], source))
        interpreter.invoke()
        report(path, labels, dequantize(interpreter.get_tensor(target["index"])[0], target), args.json)
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
