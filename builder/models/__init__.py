"""The base-model library: every entry becomes an EmbeddingModel (pixels 0–255 → pooled vector)."""

from .registry import build_embedding_model, model_identity

__all__ = ["build_embedding_model", "model_identity"]
