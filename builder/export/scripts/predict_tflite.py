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

import os
import sys
import warnings

import numpy as np
from predict_images import HERE, Model, run

# TensorFlow's C++ start-up log (CUDA probing, CPU features) says nothing about the images.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


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


def load_model() -> Model:
    interpreter = interpreter_class()(model_path=str(HERE / "model.tflite"))
    interpreter.allocate_tensors()
    (source,) = interpreter.get_input_details()
    (target,) = interpreter.get_output_details()

    def predict(pixels: np.ndarray) -> np.ndarray:
        interpreter.set_tensor(source["index"], quantize(pixels, source))
        interpreter.invoke()
        return dequantize(interpreter.get_tensor(target["index"]), target)

    # The interpreter's input has room for one image.
    return Model(int(source["shape"][1]), predict, batch=1)


if __name__ == "__main__":
    sys.exit(run(load_model))
