"""The author's own Keras model, cut at a named layer whose output becomes the embedding."""

from __future__ import annotations

import difflib
from pathlib import Path

from ..errors import ModelError
from .base import EmbeddingModel, is_global_average_pooling

INPUT_RANGES = {"0-255": (1.0, 0.0), "0-1": (1 / 255, 0.0), "-1-1": (1 / 127.5, -1.0)}


def _load(path: Path) -> object:
    if path.is_dir():
        # SavedModel directories keep their layers only when written by Keras 2 (tf.keras).
        import tf_keras as loader
    else:
        import keras as loader
    try:
        return loader.models.load_model(str(path), compile=False)
    except Exception as error:
        raise ModelError(
            f"model.path: could not read {path} as a Keras model "
            f"({str(error).strip().splitlines()[0][:300]}).\n"
            "Hint: save the model with model.save('name.keras') (Keras 3), as .h5, "
            "or as a tf.keras SavedModel."
        ) from error


def _keras_of(network: object) -> object:
    """Keras 2 (tf_keras) and Keras 3 layers cannot be mixed in one model."""
    if type(network).__module__.startswith("tf_keras"):
        import tf_keras as keras_module
    else:
        import keras as keras_module
    return keras_module


def build_custom_model(path: Path, cut_layer: str, input_range: str) -> EmbeddingModel:
    network = _load(path)
    names = [layer.name for layer in network.layers]
    if cut_layer not in names:
        close = difflib.get_close_matches(cut_layer, names, n=1)
        hint = f' (did you mean "{close[0]}"?)' if close else ""
        raise ModelError(
            f'model.cut_layer: the model has no layer named "{cut_layer}"{hint}.\n'
            f"Layers of {path.name}, input to output: {', '.join(names)}"
        )
    shape = tuple(network.input_shape)
    if len(shape) != 4 or shape[1] is None or shape[1] != shape[2] or shape[3] != 3:
        raise ModelError(
            f"model.path: {path.name} takes input of shape {shape}; teachkit needs square RGB images "
            "(batch, size, size, 3)."
        )
    keras = _keras_of(network)
    layer = network.get_layer(cut_layer)
    cut = keras.Model(network.inputs, layer.output)
    size = int(shape[1])
    pixels = keras.Input((size, size, 3), name="pixels")
    scale, offset = INPUT_RANGES[input_range]
    scaled = keras.layers.Rescaling(scale, offset)(pixels)
    features = cut(scaled)
    mapped = None
    if len(features.shape) == 4:
        feature_map = features
        features = keras.layers.GlobalAveragePooling2D()(features)
        mapped = keras.Model(pixels, [features, feature_map], name="custom_mapped")
    elif is_global_average_pooling(layer):
        # Cut at the pooling itself: what it pools is the map.
        both = keras.Model(network.inputs, [layer.output, layer.input])
        mapped = keras.Model(pixels, both(scaled), name="custom_mapped")
    elif len(features.shape) != 2:
        features = keras.layers.Flatten()(features)
    model = keras.Model(pixels, features, name="custom_embedding")
    return EmbeddingModel(
        keras_model=model,
        input_size=size,
        embedding_size=int(features.shape[-1]),
        classifier=None,
        description=f"{path.name} cut at {cut_layer}",
        mapped_model=mapped,
    )
