"""What every base model in the registry produces: a Keras model from pixels to one pooled vector."""

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
