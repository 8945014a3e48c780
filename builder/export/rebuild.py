"""The page's base model, rebuilt in Python from the identity a project file carries.

A project file says which base model made its embeddings (`base`: the cache identity of the build,
its input and embedding size, its preprocessing). `check_base` compares that with what this
teachkit can build, without building it; `rebuild_base` builds it and checks it on the file's own
stored crops: the embeddings it computes must be the page's, or the trained head would be fed
vectors it never saw.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import TrainedFileError
from ..models.base import EmbeddingModel
from ..progress import Progress
from ..trained import TrainedProject

log = logging.getLogger(__name__)

# The stored crops are JPEGs of what the page embedded, and the page runs a quantized model: the
# faithful rebuild measured cosine min 0.96 (mean 0.985) on the test photos' 60 crops; pixels read
# as 0–1 instead of 0–255 gave 0.07, unrelated samples of the file 0.14.
MIN_AGREEMENT = 0.9
CHECKED_CROPS = 16


@dataclass(frozen=True)
class BaseRecipe:
    """The attributes of a project's [model] that models.model_identity and build_embedding_model
    read, rebuilt from a project file's identity."""

    base: str | None
    alpha: float | None = None
    input_size: int | None = None
    weights: str | Path = "imagenet"
    path: Path | None = None
    cut_layer: str | None = None
    input_range: str = "0-1"

    @property
    def weights_path(self) -> Path | None:
        return self.weights if isinstance(self.weights, Path) else None

    def describe(self) -> str:
        if self.path is not None:
            return f"your own model {self.path.name} cut at {self.cut_layer}"
        return self.base or "unknown"


@dataclass(frozen=True)
class RebuiltBase:
    model: EmbeddingModel
    recipe: BaseRecipe
    min_cosine: float  # between its embeddings of the stored crops and the page's
    checked: int  # how many stored crops that was measured on


def buildable_bases() -> str:
    from ..models.keras_apps import KERAS_APPS

    return ", ".join(["efficientnet_lite0", *KERAS_APPS]) + ", or your own model (with --base-model)"


def _short(value: Any) -> str:
    text = str(value)
    return f"sha256 {text[:12]}…" if len(text) == 64 and all(c in "0123456789abcdef" for c in text) else text


def check_base(trained: TrainedProject, base_model: Path | None = None) -> BaseRecipe:
    """The recipe for the file's base model, if this teachkit builds the very same one; else a
    TrainedFileError naming both. `base_model` is the file a base needs that is not shipped with
    teachkit: the author's own model (model.path) or a Keras weights file (model.weights)."""
    from ..models import model_identity
    from ..models.keras_apps import KERAS_APPS
    from ..render import PREPROCESSING

    source = trained.source
    identity = trained.base
    if not identity:
        raise TrainedFileError(
            f"{source}: made by an older page, which did not record its base model; teachkit cannot "
            "tell which base model to rebuild.\nHint: open it in the page and save it again "
            "(Save project file)."
        )
    name = identity.get("base")
    if "custom" in identity:
        if base_model is None:
            raise TrainedFileError(
                f"{source}: the page's base model is the author's own model ({_short(identity['custom'])}, "
                f'cut at layer "{identity.get("cut_layer")}"), which is not part of teachkit.\n'
                "Hint: pass that model file with --base-model PATH (the model.path of the project "
                "the page was built from)."
            )
        recipe = BaseRecipe(
            base=None,
            path=base_model,
            cut_layer=identity.get("cut_layer"),
            input_range=identity.get("input_range", "0-1"),
        )
    elif name == "efficientnet_lite0":
        recipe = BaseRecipe(base=name)
    elif name in KERAS_APPS:
        weights: str | Path = "imagenet"
        if identity.get("weights") != "imagenet":
            if base_model is None:
                raise TrainedFileError(
                    f"{source}: the page's base model is {name} with the weights file of its project "
                    f"({_short(identity.get('weights'))}), which is not part of teachkit.\n"
                    "Hint: pass that weights file with --base-model PATH (the model.weights of the "
                    "project the page was built from)."
                )
            weights = base_model
        elif base_model is not None:
            log.warning("%s has ImageNet weights from Keras; --base-model %s is not used", name, base_model)
        recipe = BaseRecipe(
            base=name, alpha=identity.get("alpha"), input_size=identity.get("input_size"), weights=weights
        )
    else:
        raise TrainedFileError(
            f'{source}: the page\'s base model is "{name}", which this teachkit cannot build '
            f"(it builds {buildable_bases()}).\nHint: export with the teachkit the page was built with."
        )
    if base_model is not None and not base_model.exists():
        raise TrainedFileError(f"--base-model {base_model}: file not found")
    here = model_identity(recipe)
    for key, value in here.items():
        if identity.get(key) != value:
            raise TrainedFileError(
                f"{source}: the page's base model is not the one this teachkit builds: {key} is "
                f"{_short(identity.get(key))} in the file but {_short(value)} here ({recipe.describe()}). "
                "Embeddings of another base model do not fit the trained head.\n"
                "Hint: export with the teachkit (and base model package or file) the page was built with."
            )
    preprocessing = {**PREPROCESSING, "input_size": identity.get("input_size")}
    if identity.get("preprocessing") != preprocessing:
        raise TrainedFileError(
            f"{source}: the page prepared its images as {identity.get('preprocessing')}; this teachkit "
            f"prepares them as {preprocessing}.\nHint: export with the teachkit the page was built with."
        )
    if identity.get("embedding_size") != trained.embedding_size:
        raise TrainedFileError(
            f"{source}: the file's embeddings have {trained.embedding_size} values but its base model "
            f"makes {identity.get('embedding_size')}; the file is damaged."
        )
    return recipe


def decode_crop(image: bytes, size: int) -> np.ndarray:
    """A stored crop (JPEG, already the centre square at input size) as float32 0–255 pixels."""
    from PIL import Image

    from ..models.preprocess import center_crop_resize

    with Image.open(io.BytesIO(image)) as picture:
        pixels = np.asarray(picture.convert("RGB"), dtype=np.uint8)
    return center_crop_resize(pixels, size)


def spread(trained: TrainedProject, count: int) -> list[int]:
    """Indices of up to `count` samples, taking the classes in turn so that each is represented."""
    by_class: dict[str, list[int]] = {}
    for index, sample in enumerate(trained.samples):
        by_class.setdefault(sample.class_name, []).append(index)
    queues = list(by_class.values())
    chosen: list[int] = []
    while len(chosen) < count and any(queues):
        for queue in queues:
            if queue and len(chosen) < count:
                chosen.append(queue.pop(0))
    return chosen


def crop_pixels(trained: TrainedProject, indices: list[int], size: int) -> np.ndarray:
    """The stored crops of these samples, [n, size, size, 3] float32 0–255."""
    try:
        return np.stack([decode_crop(trained.samples[i].image, size) for i in indices])
    except (OSError, ValueError) as error:
        raise TrainedFileError(
            f"{trained.source}: a stored crop cannot be read ({error}); the file is damaged."
        ) from None


def rebuild_base(trained: TrainedProject, recipe: BaseRecipe, progress: Progress) -> RebuiltBase:
    """Builds the base model and measures it against the page's stored embeddings."""
    from ..models import build_embedding_model

    source = trained.source
    progress.start(f"Rebuilding the base model ({recipe.describe()})", 2)
    model = build_embedding_model(recipe)
    progress.advance()
    if type(model.keras_model).__module__.startswith("tf_keras"):
        raise TrainedFileError(
            f"--base-model {recipe.path}: a tf.keras SavedModel folder cannot carry a Keras 3 head.\n"
            "Hint: save your model as .keras or .h5 and build the page from that file."
        )
    if model.input_size != trained.base.get("input_size") or model.embedding_size != trained.embedding_size:
        raise TrainedFileError(
            f"{source}: the rebuilt base model takes {model.input_size}-pixel images to "
            f"{model.embedding_size} values; the page's took {trained.base.get('input_size')} to "
            f"{trained.embedding_size}."
        )
    indices = spread(trained, CHECKED_CROPS)
    min_cosine = 1.0
    if indices:
        pixels = crop_pixels(trained, indices, model.input_size)
        ours = np.asarray(model.keras_model.predict(pixels, verbose=0), dtype=np.float64)
        page = np.stack([trained.samples[i].embedding for i in indices]).astype(np.float64)
        norms = np.linalg.norm(ours, axis=1) * np.linalg.norm(page, axis=1)
        min_cosine = float(np.min(np.sum(ours * page, axis=1) / np.maximum(norms, 1e-12)))
    progress.advance()
    log.info(
        "The rebuilt base model agrees with the page: cosine min %.4f on %d stored crops.",
        min_cosine,
        len(indices),
    )
    if min_cosine < MIN_AGREEMENT:
        raise TrainedFileError(
            f"{source}: the rebuilt base model ({recipe.describe()}) does not compute the page's "
            f"embeddings (cosine min {min_cosine:.3f} on {len(indices)} stored crops, below "
            f"{MIN_AGREEMENT}); the exported model would not classify like the page.\n"
            "Hint: export with the teachkit (and base model file) the page was built with."
        )
    return RebuiltBase(model, recipe, min_cosine, len(indices))
