"""Image preparation shared by the Python side (tests, evaluation) and mirrored by the browser.

This is the definition: the page (templates/app/media/crop.js + resample.js) takes the same centred
square at the same whole-pixel offsets and shrinks it with a port of PIL's bilinear resize, so it
gets these exact bytes in every engine (tests/test_resample.py), and the build's fidelity numbers
describe what visitors get.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

__all__ = ["center_crop_resize"]


def center_crop_resize(image: np.ndarray, size: int) -> np.ndarray:
    """Crop the centred square of an HxWx3 uint8 image and resize it to size×size float32 (0–255).

    PIL's bilinear resize widens its filter when shrinking (it averages every pixel it covers), so
    a large photo does not alias as a plain bilinear sample of it would.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an HxWx3 uint8 RGB image, got shape {image.shape} dtype {image.dtype}")
    if size <= 0:
        raise ValueError(f"size must be positive, got {size}")
    height, width = image.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    square = Image.fromarray(image[top : top + side, left : left + side])
    resized = square.resize((size, size), Image.Resampling.BILINEAR)
    return np.asarray(resized, dtype=np.float32)
