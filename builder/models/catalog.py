"""What each base model offers a project: its name, width multipliers, input sizes and weights.

Kept beside the code that builds the models and free of heavy imports, so the project schema reads it
without loading numpy or TensorFlow.
"""

from typing import Literal, get_args

BaseName = Literal[
    "efficientnet_lite0",
    "mobilenet_v1",
    "mobilenet_v2",
    "mobilenet_v3_small",
    "mobilenet_v3_large",
    "efficientnet_b0",
]
BASE_MODELS: tuple[str, ...] = get_args(BaseName)
DEFAULT_BASE = "efficientnet_lite0"

# What Keras `applications` offers pretrained weights for; a base missing here has no choice.
ALPHAS: dict[str, tuple[float, ...]] = {
    "mobilenet_v1": (0.25, 0.5, 0.75, 1.0),
    "mobilenet_v2": (0.35, 0.5, 0.75, 1.0, 1.3, 1.4),
    "mobilenet_v3_small": (0.75, 1.0),
    "mobilenet_v3_large": (0.75, 1.0),
}
INPUT_SIZES: dict[str, tuple[int, ...]] = {
    "mobilenet_v1": (128, 160, 192, 224),
    "mobilenet_v2": (96, 128, 160, 192, 224),
    **{name: (224,) for name in BASE_MODELS if name not in ("mobilenet_v1", "mobilenet_v2")},
}
# Base models whose weights only come from teachkit itself, so `model.weights` cannot change them.
FIXED_WEIGHTS = ("efficientnet_lite0",)
KERAS_MODEL_SUFFIXES = (".keras", ".h5")
