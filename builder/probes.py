"""Probe photos: real images that ship inside scikit-image, used to measure conversion fidelity and
recorded in the manifest so a browser test can compare the page's embeddings with Python's."""

from __future__ import annotations

import numpy as np

PROBE_PHOTOS = ("chelsea", "coffee", "astronaut", "rocket", "hubble_deep_field", "immunohistochemistry")


def probe_images() -> dict[str, np.ndarray]:
    """name → uint8 RGB photo."""
    import skimage.data

    return {name: getattr(skimage.data, name)()[..., :3] for name in PROBE_PHOTOS}


def center_crop_resize(image: np.ndarray, size: int) -> np.ndarray:
    """The page's preprocessing: centre square crop, then a smooth resize to size×size (0–255 float)."""
    from PIL import Image

    height, width = image.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    square = Image.fromarray(np.ascontiguousarray(image[top : top + side, left : left + side, :3]))
    return np.asarray(square.resize((size, size), Image.BILINEAR), dtype=np.float32)


def probe_pixels(size: int) -> tuple[list[str], np.ndarray]:
    images = probe_images()
    return list(images), np.stack([center_crop_resize(image, size) for image in images.values()])
