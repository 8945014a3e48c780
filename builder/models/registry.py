"""Chooses the base model named by the project and says what identifies it for the cache."""

from __future__ import annotations

import hashlib
from pathlib import Path

from .base import EmbeddingModel


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        digest.update(file.relative_to(path).as_posix().encode() if path.is_dir() else b"")
        digest.update(file.read_bytes())
    return digest.hexdigest()


def model_identity(model: object) -> dict:
    """Everything about the base model that changes the converted weights, without building it."""
    if model.path is not None:
        return {
            "custom": _file_digest(model.path),
            "cut_layer": model.cut_layer,
            "input_range": model.input_range,
        }
    if model.base == "efficientnet_lite0":
        from .efficientnet_lite0 import weights_file

        return {"base": model.base, "weights": _file_digest(weights_file())}
    weights = _file_digest(model.weights_path) if model.weights_path else "imagenet"
    return {"base": model.base, "alpha": model.alpha, "input_size": model.input_size, "weights": weights}


def build_embedding_model(model: object) -> EmbeddingModel:
    if model.path is not None:
        from .custom import build_custom_model

        return build_custom_model(model.path, model.cut_layer, model.input_range)
    if model.base == "efficientnet_lite0":
        from .efficientnet_lite0 import build_efficientnet_lite0

        return build_efficientnet_lite0()
    from .keras_apps import build_keras_app

    return build_keras_app(model.base, model.alpha, model.input_size, model.weights_path)
