"""Classifies images with the exported TensorFlow SavedModel (saved_model/), as the page that
trained it does.

    python predict.py photo.jpg [more.jpg …] [--json]

Needs tensorflow, numpy and Pillow (not Keras: the SavedModel is a plain TensorFlow graph). Each
image is prepared as the page prepares camera frames and uploads: its centred square, resized to the
model's input size (bilinear), RGB values 0–255 as floats; the model normalizes them itself.
labels.txt next to this script names the outputs.
"""

from __future__ import annotations

import os
import sys

from predict_images import HERE, Model, run

# TensorFlow's C++ start-up log (CUDA probing, CPU features) says nothing about the images.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def load_model() -> Model:
    import tensorflow as tf

    serve = tf.saved_model.load(str(HERE / "saved_model")).signatures["serving_default"]
    ((name, spec),) = serve.structured_input_signature[1].items()

    def predict(pixels):
        (output,) = serve(**{name: tf.constant(pixels)}).values()
        return output.numpy()

    return Model(int(spec.shape[1]), predict)


if __name__ == "__main__":
    sys.exit(run(load_model))
