"""The page's base model, ready to ship: taken from the content-addressed cache, or built,
converted, measured and stored there. Unchanged projects never touch TensorFlow again."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import __version__
from .convert import ConversionResult, FidelityFloors, Probes, convert_and_quantize, tfjs_embedder
from .errors import ConversionError
from .imagenet import write_classifier
from .jstools import cache_root
from .litert import LiteResult, convert_for_litert, litert_embedder
from .models import build_embedding_model, model_identity
from .prebuilt import PrebuiltJs
from .probes import PROBE_PHOTOS, probe_pixels
from .progress import NO_PROGRESS, Progress

log = logging.getLogger(__name__)

# Bump when the conversion itself changes in a way that alters the output for the same inputs.
# 4: Lite0 with batch norms folded in Python; 5: auto orders by channel error; 6: the ImageNet classifier
# 7: the .tflite for LiteRT.js; 8: the feature map as a second output, in the fidelity too
CONVERSION_FORMAT = 8


@dataclass(frozen=True)
class PreparedModel:
    directory: Path  # model.json and weight shards
    input_size: int
    embedding_size: int
    description: str
    identity: dict
    conversion: ConversionResult
    probe_embeddings: dict[str, list[float]]  # float Keras embeddings of the probe photos
    from_cache: bool
    imagenet: Path | None = None  # the base model's own ImageNet classifier (builder/imagenet.py)
    # The .tflite candidates measured with LiteRT.js (builder/litert.py); None for runtime = "tfjs".
    litert: LiteResult | None = None
    # (rows, cols, channels) of the feature map both runtimes' models give beside the embedding
    # (models/base.py); None when the base model has none, and the page cannot explain with it.
    feature_map: tuple[int, int, int] | None = None

    @property
    def tflite(self) -> Path | None:
        """The .tflite that keeps min_fidelity, if any candidate did."""
        path = self.directory.parent / "litert" / "model.tflite"
        return path if self.litert is not None and self.litert.chosen is not None else None

    @property
    def size_bytes(self) -> int:
        return sum(path.stat().st_size for path in self.directory.iterdir())


def cache_key(
    identity: dict, quantization: str, floors: FidelityFloors, tfjs_version: str, litert_version: str | None
) -> str:
    material = {
        "identity": identity,
        "quantization": quantization,
        "min_fidelity": floors.embedding,
        "min_map_fidelity": floors.feature_map,
        "tfjs": tfjs_version,
        "litert": litert_version,  # None: no .tflite made (runtime = "tfjs")
        "probes": PROBE_PHOTOS,
        "format": CONVERSION_FORMAT,
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:32]


def prepare_model(
    model_config: object, allow_lossy: bool, prebuilt: PrebuiltJs, progress: Progress = NO_PROGRESS
) -> PreparedModel:
    identity = model_identity(model_config)
    tfjs_version = prebuilt.packages.version("@tensorflow/tfjs-core")
    litert_version = prebuilt.packages.version("@litertjs/core") if model_config.may_use_litert else None
    key = cache_key(
        identity, model_config.quantization, FidelityFloors.of(model_config), tfjs_version, litert_version
    )
    entry = cache_root() / "models" / key
    if not (entry / "info.json").exists():
        _convert_into(entry, model_config, prebuilt, progress)
        from_cache = False
    else:
        log.debug("using the converted model from the cache (%s)", entry)
        from_cache = True
    info = json.loads((entry / "info.json").read_text())
    prepared = PreparedModel(
        directory=entry / "model",
        input_size=info["input_size"],
        embedding_size=info["embedding_size"],
        description=info["description"],
        identity=identity,
        conversion=ConversionResult.from_json(info["conversion"]),
        probe_embeddings=info["probe_embeddings"],
        from_cache=from_cache,
        imagenet=entry / "imagenet" if (entry / "imagenet").is_dir() else None,
        litert=LiteResult.from_json(info["litert"]) if info.get("litert") else None,
        feature_map=tuple(info["feature_map"]) if info.get("feature_map") else None,
    )
    _check_fidelity(prepared, model_config, allow_lossy)
    return prepared


def _check_fidelity(prepared: PreparedModel, model_config: object, allow_lossy: bool) -> None:
    """An explicit encoding is measured and cached either way; it ships only if faithful enough,
    or if the author accepts the loss with --allow-lossy."""
    chosen = prepared.conversion.chosen
    floors = FidelityFloors.of(model_config)
    if not chosen.fidelity.keeps(floors) and not allow_lossy:
        below = (
            floors.describe()
            if chosen.fidelity.map_min_cosine is not None
            else f"model.min_fidelity = {floors.embedding}"
        )
        raise ConversionError(
            f'model.quantization = "{chosen.encoding}" makes the model unfaithful: '
            f"{chosen.fidelity.describe()} on {len(prepared.probe_embeddings)} probe photos, "
            f"below {below}.\n"
            'Hint: use quantization = "auto" (the smallest encoding that passes) or "float16", '
            "or build with --allow-lossy to accept the loss."
        )


def _convert_into(entry: Path, model_config: object, prebuilt: PrebuiltJs, progress: Progress) -> None:
    # Four units: the Keras model, its probe embeddings, then (in convert_and_quantize) the
    # SavedModel export and the TF.js conversion.
    progress.start("Converting the base model (first build only)", 4)
    embedding_model = build_embedding_model(model_config)
    progress.advance()
    names, pixels = probe_pixels(embedding_model.input_size)
    converted = embedding_model.converted_model
    float_maps = None
    if embedding_model.mapped_model is not None:
        float_embeddings, float_maps = embedding_model.mapped_model.predict(pixels, verbose=0)
    else:
        float_embeddings = embedding_model.keras_model.predict(pixels, verbose=0)
    float_embeddings = np.asarray(float_embeddings, dtype=np.float32)
    progress.advance()
    probes = Probes(pixels, float_embeddings, embedding_model.classifier, float_maps)
    entry.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".converting-", dir=entry.parent))
    try:
        result = convert_and_quantize(
            converted,
            probes,
            model_config.quantization,
            FidelityFloors.of(model_config),
            staging / "model",
            tfjs_embedder(prebuilt),
            progress,
        )
        litert = None
        if model_config.may_use_litert:
            litert = convert_for_litert(
                converted,
                probes,
                FidelityFloors.of(model_config),
                staging / "litert",
                litert_embedder(prebuilt),
                progress,
            )
        if embedding_model.classifier is not None:
            write_classifier(embedding_model.classifier, float_embeddings, staging / "imagenet")
        info = {
            "input_size": embedding_model.input_size,
            "embedding_size": embedding_model.embedding_size,
            "description": embedding_model.description,
            "conversion": result.to_json(),
            "litert": litert.to_json() if litert is not None else None,
            "feature_map": embedding_model.feature_map_shape,
            "probe_embeddings": {
                name: [float(f"{value:.7g}") for value in vector]
                for name, vector in zip(names, float_embeddings, strict=True)
            },
            "teachkit": __version__,
        }
        (staging / "info.json").write_text(json.dumps(info))
        if entry.exists():
            shutil.rmtree(entry)
        os.replace(staging, entry)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
