"""Probe photos: real images that ship inside scikit-image, used to measure conversion fidelity and
recorded in the manifest so a browser test can compare the page's embeddings with Python's."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from .models.preprocess import center_crop_resize

PROBE_PHOTOS = ("chelsea", "coffee", "astronaut", "rocket", "hubble_deep_field", "immunohistochemistry")


def probe_images() -> dict[str, np.ndarray]:
    """name → uint8 RGB photo."""
    import skimage.data

    return {name: np.ascontiguousarray(getattr(skimage.data, name)()[..., :3]) for name in PROBE_PHOTOS}


def probe_pixels(size: int) -> tuple[list[str], np.ndarray]:
    images = probe_images()
    return list(images), np.stack([center_crop_resize(image, size) for image in images.values()])


# The probe the page embeds at start, as its warm-up and self-check (templates/app/runtime/runtime_ladder.js):
# of these six, the one farthest above the fidelity floor with both of Lite0's runtimes (cosine 0.9986
# on LiteRT.js, 0.9970 on TF.js), so that a runtime that computes as the build measured never fails.
SELF_CHECK_PROBE = "chelsea"


def probe_png(size: int, name: str = SELF_CHECK_PROBE) -> bytes:
    """The probe photo's size×size pixels exactly as the build embedded them, as a lossless PNG (86 KB
    for 224 px): a browser decodes it to the same pixels."""
    import skimage.data

    image = np.ascontiguousarray(getattr(skimage.data, name)()[..., :3])
    buffer = io.BytesIO()
    Image.fromarray(center_crop_resize(image, size).astype(np.uint8)).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()
