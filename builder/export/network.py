"""The trained dense head in Keras, on top of the rebuilt base: pixels (0–255) → class probabilities,
or for a regression head the number itself.

It computes what the page's DenseHead does at prediction time (templates/app/learning/head.js): Dense
layers with the chosen activation (dropout acts only while training), then a softmax (a regression
head: one linear output, whose stored weights already give the number in the author's unit). Kernels are
stored shaped (inputs, units), as Keras wants them. Only built-in layers are used, so that
`keras.saving.load_model` needs no custom objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import TrainedFileError
from ..trained import TrainedHead
from .rebuild import RebuiltBase

# The page's activation names → Keras's own (TF.js's elu and selu use Keras's constants; swish is
# x·sigmoid(x), which Keras calls silu).
ACTIVATIONS = {
    "relu": "relu",
    "tanh": "tanh",
    "sigmoid": "sigmoid",
    "elu": "elu",
    "selu": "selu",
    "swish": "silu",
}


@dataclass(frozen=True)
class Classifier:
    """What a model format writes: the Keras model and what to say about it."""

    keras_model: object  # pixels [batch, size, size, 3] float32 0–255 → probabilities [batch, classes]
    # (a regression model: → the number [batch, 1])
    input_size: int
    class_names: list[str]  # in the order of the outputs; a regression model's one names its number
    base: RebuiltBase
    regression: bool = False  # one output, the number, instead of class probabilities


def build_classifier(base: RebuiltBase, head: TrainedHead, source: Path | None) -> Classifier:
    import keras

    activation = head.config.get("activation", "relu")
    if activation not in ACTIVATIONS:
        raise TrainedFileError(
            f'{source}: the trained head uses the activation "{activation}", which this teachkit does '
            f"not know (it knows {', '.join(ACTIVATIONS)})."
        )
    size = base.model.input_size
    pixels = keras.Input((size, size, 3), dtype="float32", name="pixels")
    x = base.model.keras_model(pixels)
    layers = len(head.weights) // 2
    regression = head.kind == "regression"
    output, output_name = ("linear", "value") if regression else ("softmax", "probabilities")
    for index in range(layers):
        kernel, bias = head.weights[2 * index], head.weights[2 * index + 1]
        last = index == layers - 1
        dense = keras.layers.Dense(
            kernel.shape[1],
            activation=output if last else ACTIVATIONS[activation],
            name=output_name if last else f"hidden_{index + 1}",
        )
        x = dense(x)
        dense.set_weights([kernel, bias])
    model = keras.Model(pixels, x, name="teachkit_regressor" if regression else "teachkit_classifier")
    return Classifier(model, size, list(head.class_names), base, regression)
