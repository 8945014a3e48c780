"""The base-model library: every entry becomes an EmbeddingModel (pixels 0–255 → pooled vector).

`catalog` says what each base offers and imports nothing heavy; the builders below load numpy and
the rest only when first used, so reading the catalog (as the project schema does) stays cheap.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .registry import build_embedding_model, model_identity

__all__ = ["build_embedding_model", "model_identity"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import registry

        return getattr(registry, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
