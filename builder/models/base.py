"""What every base model in the registry produces: a Keras model from pixels to one pooled vector."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class EmbeddingModel:
    """A base model cut to its pooled embedding.

    `keras_model` takes float32 RGB pixels in 0–255 shaped [batch, input_size, input_size, 3] and
    does its own normalization, so the browser only has to resize and feed raw pixels.
    """

    keras_model: object
    input_size: int
    embedding_size: int
    # ImageNet logits = embedding @ kernel + bias, when the base model has such a classifier; used
    # to report top-1 agreement of a quantized model with the float one.
    classifier: tuple[np.ndarray, np.ndarray] | None
    description: str
    # The same pixels → [embedding, feature map], sharing keras_model's layers: the map is the last
    # one before global average pooling, [batch, rows, cols, channels], whose mean over the cells is
    # the embedding. It is what the page explains a prediction with (where in the image the
    # evidence is). None when the embedding is not such a mean (a custom cut at a flattened or
    # dense layer). keras_model stays single-output: the exports build on it.
    mapped_model: object | None = None

    @property
    def converted_model(self) -> object:
        """What the build converts for the browser: both outputs when there is a map."""
        return self.mapped_model if self.mapped_model is not None else self.keras_model

    @property
    def feature_map_shape(self) -> tuple[int, int, int] | None:
        """(rows, cols, channels) of the map, or None without one."""
        if self.mapped_model is None:
            return None
        _, rows, cols, channels = self.mapped_model.outputs[1].shape
        return int(rows), int(cols), int(channels)


def is_global_average_pooling(layer: object) -> bool:
    """A layer whose output is the mean over the cells of its 4-D input, and nothing else."""
    return type(layer).__name__ == "GlobalAveragePooling2D" and not getattr(layer, "keepdims", False)


def pooling_input(network: object) -> object | None:
    """The feature map `network` pools into its output, if its output is a global average pooling's;
    else None. Keras `applications` with pooling="avg" end so."""
    output = network.outputs[0]
    for layer in reversed(network.layers):
        if is_global_average_pooling(layer) and layer.output is output:
            return layer.input
    return None
