"""A trained model baked into a site (`teachkit build --trained FILE`): the head, its classes and,
for a k-nearest-neighbour head or with --with-samples, the samples, as JSON for the page. The page
opens with it, ready to predict."""

from __future__ import annotations

import base64

import numpy as np

from .errors import BuildError
from .trained import TrainedProject

# What must be equal for the baked head to read the site's embeddings: the base model itself and
# the sizes. (The quantization may differ: it keeps the embeddings within min_fidelity.)
SAME_BASE_KEYS = (
    "base",
    "custom",
    "weights",
    "alpha",
    "input_size",
    "embedding_size",
    "cut_layer",
    "input_range",
)


def _describe(identity: dict) -> str:
    name = identity.get("base") or ("your own model" if "custom" in identity else "an unknown base model")
    return f"{name} ({identity.get('input_size', '?')} px, embedding {identity.get('embedding_size', '?')})"


def check_same_base(trained: TrainedProject, identity: dict) -> None:
    """Refuses a trained file made with another base model than the site's, naming both."""
    theirs = trained.base or {}
    different = [key for key in SAME_BASE_KEYS if theirs.get(key) != identity.get(key)]
    if different:
        raise BuildError(
            f"{trained.source}: trained on {_describe(theirs)}, but this project's base model is "
            f"{_describe(identity)} (they differ in {', '.join(different)}).\n"
            "Hint: build the project with the [model] of the page that trained it, or train it again here."
        )


def _floats(values: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(values, dtype="<f4").tobytes()).decode("ascii")


def baked_model(trained: TrainedProject, with_samples: bool) -> dict:
    """The page config's `trained` entry; float arrays travel as base64 of little-endian float32."""
    head = trained.head
    if head is None:
        raise BuildError(f"{trained.source}: holds no trained model; train it in the page and save it again.")
    if head.kind == "regression":
        raise BuildError(
            f"{trained.source}: the trained model predicts a number (a regression head); this teachkit "
            "bakes classifiers only.\nHint: share the regression page itself with its project file, or "
            "use the model with teachkit export --format keras or tflite."
        )
    class_ids = {name: f"baked-{index}" for index, name in enumerate(trained.class_names)}
    keep_samples = with_samples or head.kind == "knn"
    samples = [
        {
            "id": sample.id,
            "classId": class_ids[sample.class_name],
            "embedding": _floats(sample.embedding),
            **(
                {
                    "image": base64.b64encode(sample.image).decode(),
                    "thumb": base64.b64encode(sample.thumb).decode(),
                }
                if with_samples and sample.image
                else {}
            ),
        }
        for sample in (trained.samples if keep_samples else [])
    ]
    head_ids = [class_ids[name] for name in head.class_names]
    return {
        "classes": [{"id": class_ids[name], "name": name} for name in trained.class_names],
        "samples": samples,
        "head": {
            "model": {
                "kind": head.kind,
                "config": head.config,
                "classIds": head_ids,
                "weights": [_floats(weight.reshape(-1)) for weight in head.weights],
            },
            "classIds": head_ids,
            "history": head.history,
            "evaluation": head.evaluation,
            "sampleCount": len(trained.samples),
        },
    }
