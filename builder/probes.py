"""Probe photos: real images that ship inside scikit-image, used to measure conversion fidelity and
recorded in the manifest so a browser test can compare the page's embeddings with Python's."""

from __future__ import annotations

import numpy as np

from .models.preprocess import center_crop_resize

PROBE_PHOTOS = ("chelsea", "coffee", "astronaut", "rocket", "hubble_deep_field", "immunohistochemistry")


def probe_images() -> dict[str, np.ndarray]:
    """name → uint8 RGB photo."""
    import skimage.data

    return {name: np.ascontiguousarray(getattr(skimage.data, name)()[..., :3]) for name in PROBE_PHOTOS}


def probe_pixels(size: int) -> tuple[list[str], np.ndarray]:
    images = probe_images()
    return list(images), np.stack([center_crop_resize(image, size) for image in images.values()])
