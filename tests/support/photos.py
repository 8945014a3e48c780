"""Full-size photos of the sizes visitors bring (a phone's 12 megapixels, a webcam's 640×480 frame,
portrait and landscape, odd sizes), made from scikit-image's photos: upscaled with PIL and given a
film grain, so they have the fine detail that makes one engine's shrink differ from another's.
Shared by the preprocessing tests in every engine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

# name → (scikit-image photo, width, height)
FULL_SIZE = {
    "phone-landscape": ("chelsea", 4032, 3024),
    "phone-portrait": ("coffee", 2448, 3264),
    "camera-frame": ("astronaut", 640, 480),
    "odd-landscape": ("rocket", 1001, 667),
    "odd-portrait": ("chelsea", 333, 500),
}


def full_size_photo(source: str, width: int, height: int, seed: int = 0) -> np.ndarray:
    """scikit-image's photo `source` resized (not cropped) to width×height, with a grain of ±8 grey
    levels: an HxWx3 uint8 array."""
    import skimage.data

    photo = Image.fromarray(np.ascontiguousarray(getattr(skimage.data, source)()[..., :3]))
    pixels = np.asarray(photo.resize((width, height), Image.Resampling.BICUBIC), dtype=np.int16)
    pixels += np.random.default_rng(seed).integers(-8, 9, pixels.shape, dtype=np.int16)
    return np.clip(pixels, 0, 255).astype(np.uint8)


def full_size_photos(directory: Path, names: tuple[str, ...] = tuple(FULL_SIZE)) -> dict[str, Path]:
    """The photos of FULL_SIZE (or those named) as PNG files in `directory` (written once)."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {}
    for index, name in enumerate(names):
        path = directory / f"{name}.png"
        if not path.exists():
            source, width, height = FULL_SIZE[name]
            # compress_level 1: a 12-megapixel PNG in a fraction of a second instead of several.
            Image.fromarray(full_size_photo(source, width, height, seed=index)).save(path, compress_level=1)
        files[name] = path
    return files
