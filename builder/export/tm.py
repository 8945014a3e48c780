"""The `tm` export: the trained classifier as a Teachable Machine image model folder.

`model.json` + `weights.bin` (a TF.js *layers* model, float32) and `metadata.json`, the three files
Teachable Machine's "Export model → TensorFlow.js" gives, so that `tmImage.load(model.json,
metadata.json)` of `@teachablemachine/image` and `ml5.imageClassifier(".../model.json")` load it
unchanged. Both feed the model `pixel / 127 - 1` (@teachablemachine/image `capture`, ml5
`imgToTensor`), so the model starts by mapping that back to the 0–255 pixels teachkit's base model
takes, then runs the base and the page's dense head with its softmax. @teachablemachine/image draws
the centre square at metadata's imageSize, as the page does; ml5 resizes the whole image to
224×224, so it squeezes an image that is not square where the page crops it.

The model must be one that TF.js 1.3.1 reads, the version @teachablemachine/image is built against:
Keras 3's layer JSON is not (tensorflow/tfjs#8328, #8494), and neither Keras 2's `Functional` class
name, the `Rescaling` layer nor float16 weights are known to 1.3.1. So the Keras 3 classifier (the
base rebuilt in Python with the head on top, as for the other model formats) is rebuilt layer by
layer in tf_keras, with its nested models flattened into one graph, dropout removed and every input
scaling (the client's, then the base's Rescaling or Normalization layers) composed into one affine
map, a 1×1 depthwise convolution; only layers that tfjs-layers 1.3.1 knows are written, and
anything else is refused by name. The weights stay float32, as in Teachable Machine's own exports.
"""

from __future__ import annotations

import contextlib
import json
import logging
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..errors import ConversionError, TrainedFileError
from ..progress import Progress
from ..tensorflowjs_import import prepare_tensorflowjs_import
from ..trained import TrainedProject

log = logging.getLogger(__name__)

__all__ = ["export_tm", "write_tm"]

# What a Teachable Machine image model says about itself (@teachablemachine/image's Metadata):
# which library reads it, the version it was made for and checked with, the TF.js version.
TM_PACKAGE = "@teachablemachine/image"
TM_PACKAGE_VERSION = "0.8.5"
TFJS_VERSION = "1.3.1"
# The clients feed pixel / 127 - 1; this gives the pixel back.
CLIENT_SCALE = 127.0
CLIENT_OFFSET = 127.0
ML5_IMAGE_SIZE = 224  # ml5's imageClassifier resizes every image to this, whatever the model takes
CHECKED_CROPS = 8
MAX_DIFFERENCE = 1e-3  # largest probability difference allowed between the translation and Keras 3

# Keras activation names → what tfjs-layers 1.3.1 computes the same way. Not here: hard_sigmoid
# (TF.js keeps Keras 2's 0.2·x + 0.5, Keras 3 computes relu6(x + 3) / 6), gelu, leaky_relu.
ACTIVATIONS = ("linear", "relu", "relu6", "sigmoid", "tanh", "softmax", "elu", "selu", "softplus", "softsign")
SWISH = ("silu", "swish")  # x·sigmoid(x), written as Activation("sigmoid") and Multiply
# Layers that do nothing at prediction time.
IDENTITY = (
    "Dropout",
    "SpatialDropout2D",
    "GaussianDropout",
    "GaussianNoise",
    "AlphaDropout",
    "ActivityRegularization",
)
MERGES = ("Add", "Multiply", "Average", "Maximum", "Minimum")


def export_tm(
    trained: TrainedProject, output: Path, progress: Progress, base_model: Path | None = None
) -> list[Path]:
    """Writes the Teachable Machine folder for a project file with a trained dense head into the
    empty folder `output`; returns the files written. `base_model` is the author's own model or
    weights file, for a base that is not part of teachkit (as `--base-model`)."""
    from .network import build_classifier
    from .rebuild import check_base, rebuild_base

    refuse_without_dense_head(trained)
    recipe = check_base(trained, base_model)
    classifier = build_classifier(rebuild_base(trained, recipe, progress), trained.head, trained.source)
    return write_tm(classifier, trained, output, progress)


def refuse_without_dense_head(trained: TrainedProject) -> None:
    head = trained.head
    if head is None:
        raise TrainedFileError(
            f"{trained.source}: nothing is trained in this project file, so there is no model to export "
            "as tm.\nHint: train it in the page first and save the project file again; "
            "--format embeddings works without training."
        )
    if head.kind == "regression":
        raise TrainedFileError(
            f"{trained.source}: the trained head predicts a number (a regression head), which cannot be "
            "exported as tm: a Teachable Machine image model is a classifier, and its library and ml5 "
            "read its outputs as class probabilities.\nHint: export it with --format keras or "
            "--format tflite instead."
        )
    if head.kind != "dense":
        raise TrainedFileError(
            f"{trained.source}: the trained head is k-nearest neighbours (k = {head.config.get('k')}), "
            "which cannot be exported as tm: a Teachable Machine model is a network of layers, and a kNN "
            f"head is its {len(trained.samples)} stored samples voting by similarity.\n"
            "Hint: export the samples with --format embeddings, or choose the dense head in the page's "
            "settings, train and save again."
        )


def write_tm(classifier: Any, trained: TrainedProject, output: Path, progress: Progress) -> list[Path]:
    """The folder for an already rebuilt classifier (builder.export.network.Classifier)."""
    size = classifier.input_size
    if size != ML5_IMAGE_SIZE:
        log.warning(
            "the base model takes %d-pixel images; @teachablemachine/image follows metadata.json, but "
            "ml5's imageClassifier always feeds %d×%d, so ml5 cannot run this export",
            size,
            ML5_IMAGE_SIZE,
            ML5_IMAGE_SIZE,
        )
    progress.start("Rebuilding the classifier in TF.js layers", 2)
    model = translate(classifier.keras_model, size, classifier.base.recipe.describe())
    progress.advance()
    difference, checked = _check(classifier.keras_model, model, trained, size)
    progress.advance()
    log.info(
        "The TF.js layers model computes the Keras model's probabilities: largest difference %.1e on %s.",
        difference,
        checked,
    )
    if difference > MAX_DIFFERENCE:
        raise ConversionError(
            f"{trained.source}: the rebuilt TF.js layers model does not compute what the Keras model "
            f"does (probabilities differ by up to {difference:.3f} on {checked}); this is "
            "a bug in teachkit, please report it."
        )
    progress.start("Writing model.json and weights.bin", 1)
    files = _write_layers_model(model, output)
    files.append(_write_metadata(output, trained, classifier, size))
    progress.advance()
    return files


# --- Keras 3 → tf_keras, one graph, only layers TF.js 1.3.1 knows ---------------------------------


@dataclass(frozen=True)
class _Affine:
    """x · scale + offset, per channel (arrays broadcast against the last axis)."""

    scale: np.ndarray
    offset: np.ndarray

    def then(self, scale: Any, offset: Any) -> _Affine:
        scale = np.asarray(scale, dtype=np.float64)
        return _Affine(self.scale * scale, self.offset * scale + np.asarray(offset, dtype=np.float64))


@dataclass(frozen=True)
class _Value:
    """A tf_keras tensor, and the affine map still to be applied to it (composed lazily, so that
    consecutive scalings become one layer)."""

    tensor: Any
    affine: _Affine | None = None


class _Unsupported(Exception):
    pass


class _Translator:
    def __init__(self) -> None:
        import tf_keras

        self.keras = tf_keras
        self.layers = tf_keras.layers
        self.names: set[str] = set()
        self.weights: list[tuple[Any, list[np.ndarray]]] = []  # set once the graph is built
        self.materialized: dict[int, Any] = {}

    def name(self, wanted: str) -> str:
        name, count = wanted, 1
        while name in self.names:
            count += 1
            name = f"{wanted}_{count}"
        self.names.add(name)
        return name

    # A model: its configuration is the Keras serialization format, which names every layer's
    # inputs as (layer name, node index, tensor index) within that model.
    def model(self, model: Any, inputs: list[_Value]) -> list[_Value]:
        if type(model).__name__ == "Sequential":
            value = inputs[0]
            for layer in model.layers:
                (value,) = self.layer(layer, [value])
            return [value]
        config = model.get_config()
        values: dict[tuple[str, int, int], _Value] = {}
        calls: dict[str, int] = {}  # layer name → how often it is called in this model

        def find(key: tuple[str, int, int]) -> _Value:
            if key in values:
                return values[key]
            # Keras 3 writes a nested model's own output into output_layers with its node index
            # in the whole program, not in this model; a layer called once has one node here.
            name, _, tensor = key
            if calls.get(name) == 1 and (name, 0, tensor) in values:
                return values[(name, 0, tensor)]
            raise _Unsupported(f'a connection to layer "{name}" that cannot be followed')

        for key, value in zip(_history_list(config["input_layers"]), inputs, strict=True):
            values[key] = value
        for entry in config["layers"]:
            if entry["class_name"] == "InputLayer":
                continue
            layer = model.get_layer(entry["name"])
            calls[entry["name"]] = len(entry["inbound_nodes"])
            for node_index, node in enumerate(entry["inbound_nodes"]):
                if _histories(node.get("kwargs", {})):
                    raise _Unsupported(f'layer "{entry["name"]}" takes tensors as keyword arguments')
                arguments = [find(key) for key in _histories(node["args"])]
                for tensor_index, value in enumerate(self.layer(layer, arguments)):
                    values[(entry["name"], node_index, tensor_index)] = value
        return [find(key) for key in _history_list(config["output_layers"])]

    def layer(self, layer: Any, inputs: list[_Value]) -> list[_Value]:
        kind = type(layer).__name__
        if kind in ("Functional", "Sequential"):
            return self.model(layer, inputs)
        if kind in IDENTITY:
            return inputs
        if kind == "Rescaling":
            return [self.affine(inputs[0], layer.scale, layer.offset)]
        if kind == "Normalization":
            return [self.affine(inputs[0], *_normalization(layer))]
        tensors = [self.materialize(value) for value in inputs]
        if kind == "Activation" and layer.get_config()["activation"] in SWISH:
            return [_Value(self.activation(tensors[0], "swish", self.name(layer.name)))]
        return [_Value(self.computed(layer, kind, tensors))]

    def affine(self, value: _Value, scale: Any, offset: Any) -> _Value:
        start = value.affine or _Affine(np.float64(1.0), np.float64(0.0))
        return _Value(value.tensor, start.then(scale, offset))

    def materialize(self, value: _Value) -> Any:
        """The tensor with its pending affine map applied: a 1×1 depthwise convolution, which every
        TF.js version runs (Rescaling is not in 1.3.1); exact, padding included."""
        affine = value.affine
        if affine is None or (np.all(affine.scale == 1.0) and np.all(affine.offset == 0.0)):
            return value.tensor
        key = id(value)
        if key in self.materialized:
            return self.materialized[key]
        shape = value.tensor.shape
        if len(shape) != 4 or shape[-1] is None:
            raise _Unsupported("an input scaling that is not on an image (a 4-d tensor)")
        channels = int(shape[-1])
        scale = np.broadcast_to(affine.scale, (channels,)).astype(np.float32)
        offset = np.broadcast_to(affine.offset, (channels,)).astype(np.float32)
        layer = self.layers.DepthwiseConv2D(1, use_bias=True, name=self.name("input_scaling"))
        self.weights.append((layer, [scale.reshape(1, 1, channels, 1), offset]))
        self.materialized[key] = layer(value.tensor)
        return self.materialized[key]

    def computed(self, layer: Any, kind: str, tensors: list[Any]) -> Any:
        config = layer.get_config()
        name = self.name(layer.name)
        weights = [np.asarray(w, dtype=np.float32) for w in layer.get_weights()]
        made, activation = self.make(kind, config, name)
        x = made(tensors if kind in MERGES or kind == "Concatenate" else tensors[0])
        if weights:
            self.weights.append((made, weights))
        return self.activation(x, activation, name)

    def make(self, kind: str, c: dict[str, Any], name: str) -> tuple[Any, str]:
        """The tf_keras layer for one Keras 3 layer (with its activation left out when that has to
        be written as layers of its own), and that activation."""
        layers = self.layers
        activation = c.get("activation", "linear")
        if not isinstance(activation, str):
            raise _Unsupported(f'layer "{c.get("name")}" has an activation that is not a built-in one')
        inner = activation if activation in ACTIVATIONS else "linear"
        if c.get("data_format", "channels_last") != "channels_last":
            raise _Unsupported(f'layer "{c.get("name")}" is channels_first')
        if kind == "Conv2D":
            if c.get("groups", 1) != 1:
                raise _Unsupported(f'grouped convolution "{c["name"]}"')
            common = {k: c[k] for k in ("kernel_size", "strides", "padding", "dilation_rate", "use_bias")}
            return layers.Conv2D(c["filters"], activation=inner, name=name, **common), activation
        if kind == "DepthwiseConv2D":
            keys = ("kernel_size", "strides", "padding", "dilation_rate", "use_bias", "depth_multiplier")
            return layers.DepthwiseConv2D(activation=inner, name=name, **{k: c[k] for k in keys}), activation
        if kind == "Dense":
            return layers.Dense(c["units"], use_bias=c["use_bias"], activation=inner, name=name), activation
        if kind == "Activation":
            return layers.Activation(inner, name=name), activation
        if kind == "Softmax" and c.get("axis", -1) in (-1, [-1]):
            return layers.Activation("softmax", name=name), "linear"
        if kind == "ReLU":
            if c.get("negative_slope") or c.get("threshold"):
                raise _Unsupported(f'ReLU "{c["name"]}" with a negative slope or threshold')
            return layers.ReLU(max_value=c.get("max_value"), name=name), "linear"
        if kind == "BatchNormalization":
            if c["axis"] not in (-1, 3, [-1], [3]):
                raise _Unsupported(f'batch normalization "{c["name"]}" over axis {c["axis"]}')
            keys = ("epsilon", "center", "scale")
            return layers.BatchNormalization(axis=-1, name=name, **{k: c[k] for k in keys}), "linear"
        if kind in ("GlobalAveragePooling2D", "GlobalMaxPooling2D"):
            if c.get("keepdims"):
                raise _Unsupported(f'{kind} "{c["name"]}" with keepdims')
            return getattr(layers, kind)(name=name), "linear"
        if kind in ("MaxPooling2D", "AveragePooling2D"):
            keys = ("pool_size", "strides", "padding")
            return getattr(layers, kind)(name=name, **{k: c[k] for k in keys}), "linear"
        if kind == "ZeroPadding2D":
            return layers.ZeroPadding2D(c["padding"], name=name), "linear"
        if kind == "Reshape":
            return layers.Reshape(c["target_shape"], name=name), "linear"
        if kind == "Flatten":
            return layers.Flatten(name=name), "linear"
        if kind in MERGES:
            return getattr(layers, kind)(name=name), "linear"
        if kind == "Concatenate":
            return layers.Concatenate(axis=c.get("axis", -1), name=name), "linear"
        raise _Unsupported(f'layer "{c.get("name")}" of type {kind}')

    def activation(self, x: Any, activation: str, name: str) -> Any:
        if activation in ACTIVATIONS:
            return x  # computed by the layer itself
        if activation in SWISH:
            sigmoid = self.layers.Activation("sigmoid", name=self.name(f"{name}_sigmoid"))(x)
            return self.layers.Multiply(name=self.name(f"{name}_swish"))([x, sigmoid])
        raise _Unsupported(f'the activation "{activation}" of layer "{name}"')


def _histories(structure: Any) -> list[tuple[str, int, int]]:
    """Every (layer name, node index, tensor index) a node's serialized arguments refer to."""
    found: list[tuple[str, int, int]] = []
    if isinstance(structure, dict):
        if structure.get("class_name") == "__keras_tensor__":
            name, node, tensor = structure["config"]["keras_history"]
            return [(name, node, tensor)]
        for value in structure.values():
            found += _histories(value)
    elif isinstance(structure, (list, tuple)):
        for value in structure:
            found += _histories(value)
    return found


def _history_list(entries: list) -> list[tuple[str, int, int]]:
    """A model's input_layers / output_layers: one [name, node, tensor] or a list of them."""
    if entries and isinstance(entries[0], str):
        entries = [entries]
    return [(name, node, tensor) for name, node, tensor in entries]


def _normalization(layer: Any) -> tuple[np.ndarray, np.ndarray]:
    """Keras 3's Normalization as x · scale + offset: (x − mean) / max(√variance, ε)."""
    import keras

    if getattr(layer, "invert", False) or tuple(np.atleast_1d(layer.axis)) not in ((-1,), (3,)):
        raise _Unsupported(f'normalization "{layer.name}" that is inverted or not per channel')
    mean = np.asarray(keras.ops.convert_to_numpy(layer.mean), dtype=np.float64).reshape(-1)
    variance = np.asarray(keras.ops.convert_to_numpy(layer.variance), dtype=np.float64).reshape(-1)
    scale = 1.0 / np.maximum(np.sqrt(variance), keras.backend.epsilon())
    return scale, -mean * scale


def translate(keras_model: Any, size: int, base: str) -> Any:
    """The Keras 3 classifier (pixels 0–255 → probabilities) as one flat tf_keras model taking
    what Teachable Machine and ml5 feed, pixel / 127 − 1; unsupported layers raise
    TrainedFileError naming them."""
    translator = _Translator()
    inputs = translator.layers.Input((size, size, 3), name=translator.name("image"))
    start = _Value(inputs, _Affine(np.float64(CLIENT_SCALE), np.float64(CLIENT_OFFSET)))
    try:
        (output,) = translator.model(keras_model, [start])
        tensor = translator.materialize(output)
    except _Unsupported as problem:
        raise TrainedFileError(
            f"the base model ({base}) cannot be written as a TF.js layers model that Teachable Machine's "
            f"TF.js 1.3.1 reads: {problem}.\nHint: export it with --format keras, savedmodel or tflite."
        ) from None
    model = translator.keras.Model(inputs, tensor, name="teachkit_tm")
    for layer, weights in translator.weights:
        layer.set_weights(weights)
    return model


def _check(keras_model: Any, model: Any, trained: TrainedProject, size: int) -> tuple[float, str]:
    """Largest difference of any probability between the Keras 3 classifier on stored crops (or
    random pixels) and the translation on what the clients would feed for them; and on what."""
    from .rebuild import crop_pixels, spread

    chosen = [index for index in spread(trained, CHECKED_CROPS) if trained.samples[index].image]
    if not chosen:  # a model download has no crops
        rng = np.random.default_rng(0)
        pixels = rng.integers(0, 256, (2, size, size, 3)).astype(np.float32)
        checked = "2 images of random pixels (the file holds no crops)"
    else:
        pixels = crop_pixels(trained, chosen, size)
        checked = f"{len(chosen)} stored crops"
    expected = np.asarray(keras_model.predict(pixels, verbose=0))
    found = np.asarray(model.predict(pixels / CLIENT_SCALE - 1.0, verbose=0))
    return float(np.max(np.abs(expected - found))), checked


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """tf_keras warns that HDF5 (the converter's way in) is a legacy format and that an uncompiled
    model has no metrics; neither concerns a model written for TF.js."""
    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            yield
    finally:
        logger.setLevel(level)


def _write_layers_model(model: Any, output: Path) -> list[Path]:
    """model.json + one weights.bin, float32, as Teachable Machine's own export names them."""
    prepare_tensorflowjs_import()
    from tensorflowjs.converters import save_keras_model

    with tempfile.TemporaryDirectory(prefix="teachkit-tm-") as scratch, _quiet():
        save_keras_model(model, scratch, weight_shard_size_bytes=2**40)
        written = json.loads((Path(scratch) / "model.json").read_text())
        (group,) = written["weightsManifest"]
        (shard,) = group["paths"]
        weights = output / "weights.bin"
        weights.write_bytes((Path(scratch) / shard).read_bytes())
    group["paths"] = [weights.name]
    # TF.js before 2.x knows a functional model only as "Model" (Keras 2.4 renamed it Functional).
    topology = written["modelTopology"]
    topology["model_config"]["class_name"] = "Model"
    target = output / "model.json"
    target.write_text(json.dumps(written, separators=(",", ":")), encoding="utf-8")
    return [target, weights]


def _write_metadata(output: Path, trained: TrainedProject, classifier: Any, size: int) -> Path:
    """metadata.json as @teachablemachine/image reads it (labels in the order of the outputs,
    imageSize) and ml5 (labels); no tmVersion, which is the Teachable Machine website's own."""
    metadata = {
        "tfjsVersion": TFJS_VERSION,
        "packageVersion": TM_PACKAGE_VERSION,
        "packageName": TM_PACKAGE,
        "timeStamp": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "userMetadata": {
            "exportedBy": f"teachkit {__version__}",
            "baseModel": classifier.base.recipe.describe(),
            "source": trained.source.name if trained.source else None,
        },
        "modelName": trained.title or "teachkit model",
        "labels": list(classifier.class_names),
        "imageSize": size,
    }
    path = output / "metadata.json"
    path.write_text(json.dumps(metadata, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
