"""Classifies images with the exported Keras model, as the page that trained it does.

    python predict.py photo.jpg [more.jpg …] [--json]

Needs keras (with TensorFlow), numpy and Pillow. Each image is prepared as the page prepares camera
frames and uploads: its centred square, resized to the model's input size (bilinear), RGB values
0–255 as floats; the model normalizes them itself. labels.txt next to this script names the outputs.
"""

from __future__ import annotations

import os
import sys

from predict_images import HERE, Model, run

# TensorFlow's C++ start-up log (CUDA probing, CPU features) says nothing about the images.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def load_model() -> Model:
    import keras

    model = keras.saving.load_model(HERE / "model.keras")
    return Model(int(model.input_shape[1]), lambda pixels: model.predict(pixels, verbose=0))


if __name__ == "__main__":
    sys.exit(run(load_model))
