"""Keras `applications` base models: ImageNet weights downloaded by Keras, or a local weights file."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelError
from .base import EmbeddingModel, pooling_input


@dataclass(frozen=True)
class KerasApp:
    constructor: str
    # Scale/offset that turn 0–255 pixels into what the network expects; None when the Keras model
    # already contains its own preprocessing layers.
    rescale: tuple[float, float] | None
    takes_alpha: bool


KERAS_APPS = {
    "mobilenet_v1": KerasApp("MobileNet", (1 / 127.5, -1.0), True),
    "mobilenet_v2": KerasApp("MobileNetV2", (1 / 127.5, -1.0), True),
    "mobilenet_v3_small": KerasApp("MobileNetV3Small", None, True),
    "mobilenet_v3_large": KerasApp("MobileNetV3Large", None, True),
    "efficientnet_b0": KerasApp("EfficientNetB0", None, False),
}


def build_keras_app(
    base: str, alpha: float | None, input_size: int | None, weights: Path | None
) -> EmbeddingModel:
    import keras

    app = KERAS_APPS[base]
    size = input_size or 224
    options: dict = {"input_shape": (size, size, 3), "include_top": False, "pooling": "avg"}
    if app.takes_alpha and alpha is not None:
        options["alpha"] = alpha
    options["weights"] = str(weights) if weights else "imagenet"
    constructor = getattr(keras.applications, app.constructor)
    try:
        network = constructor(**options)
    except Exception as error:
        raise _weights_error(base, weights, error) from error

    pixels = keras.Input((size, size, 3), name="pixels")
    scaled = pixels if app.rescale is None else keras.layers.Rescaling(*app.rescale)(pixels)
    embedding = network(scaled)
    model = keras.Model(pixels, embedding, name=f"{base}_embedding")
    return EmbeddingModel(
        keras_model=model,
        input_size=size,
        embedding_size=int(embedding.shape[-1]),
        classifier=None,
        description=f"{app.constructor} (Keras applications, ImageNet)",
        mapped_model=_with_map(keras, network, pixels, scaled, f"{base}_mapped"),
    )


def _with_map(keras: object, network: object, pixels: object, scaled: object, name: str) -> object | None:
    """pixels → [embedding, the map `network` pools], a second call of the same layers."""
    feature_map = pooling_input(network)
    if feature_map is None:
        return None
    both = keras.Model(network.inputs, [network.outputs[0], feature_map])
    return keras.Model(pixels, both(scaled), name=name)


def _weights_error(base: str, weights: Path | None, error: Exception) -> ModelError:
    text = str(error)
    if weights is not None:
        return ModelError(
            f"model.weights: Keras could not load {weights} into {base} ({_first_line(text)}).\n"
            "Hint: the file must hold the ImageNet weights of this network *without* its top "
            "classifier (a file whose name ends in _no_top.h5 or _notop.h5), "
            "for the same alpha and input size."
        )
    url = re.search(r"https?://\S+?(?=[:\s]|$)", text)
    if url is None:
        return ModelError(f'model.base = "{base}": Keras could not build the model ({_first_line(text)}).')
    file_name = url.group(0).rsplit("/", 1)[-1]
    return ModelError(
        f'model.base = "{base}" needs ImageNet weights that Keras downloads from the internet, '
        f"and the download failed ({_first_line(text)}).\n"
        f"Hint: on a machine with internet, download\n  {url.group(0)}\n"
        f"then either put it at ~/.keras/models/{file_name}\n"
        f'or set model.weights = "path/to/{file_name}" in the project file.'
    )


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:300] if text.strip() else "no details"
