"""Test images made from real photos that ship in scikit-image: texture crops for a 3-class task,
broken files, and a Y4M video for Chromium's fake webcam."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

TEXTURES = ("brick", "grass", "gravel")


def texture_crops(
    directory: Path, texture: str, count: int, half: str, seed: int, size: int = 128
) -> list[Path]:
    """Random crops from the top ("train") or bottom ("held-out") half of a 512×512 texture, so
    held-out images never overlap a training image."""
    import skimage.data

    image = getattr(skimage.data, texture)()
    rng = np.random.default_rng(seed)
    top = 0 if half == "train" else 256
    directory.mkdir(parents=True, exist_ok=True)
    files = []
    for index in range(count):
        y = int(rng.integers(top, top + 256 - size))
        x = int(rng.integers(0, 512 - size))
        crop = np.repeat(image[y : y + size, x : x + size, None], 3, axis=2)
        path = directory / f"{texture}-{half}-{index}.png"
        Image.fromarray(crop).save(path)
        files.append(path)
    return files


def broken_files(directory: Path) -> dict[str, Path]:
    """Files a visitor may drop by mistake: none of them is a readable photo."""
    import skimage.data

    directory.mkdir(parents=True, exist_ok=True)
    text = directory / "notes.txt"
    text.write_text("this is not an image\n")
    empty = directory / "empty.png"
    empty.write_bytes(b"")
    whole = directory / "whole.png"
    Image.fromarray(skimage.data.chelsea()).save(whole)
    truncated = directory / "truncated.png"
    truncated.write_bytes(whole.read_bytes()[:2000])
    svg = directory / "drawing.svg"
    svg.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'
    )
    whole.unlink()
    return {"text": text, "empty": empty, "truncated": truncated, "svg": svg}


def large_photo(directory: Path) -> Path:
    """A 4000×3000 photo (chelsea, upscaled), to prove big images are downscaled, not refused."""
    import skimage.data

    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "large-chelsea.jpg"
    Image.fromarray(skimage.data.chelsea()).resize((4000, 3000), Image.BILINEAR).save(path, quality=90)
    return path


def write_y4m(
    path: Path, photo: np.ndarray, frames: int = 20, fps: int = 10, size: tuple[int, int] = (640, 480)
) -> Path:
    """A short looping video of one photo with a little jitter per frame (a hand-held camera), in
    the YUV4MPEG2 4:2:0 format that Chromium's fake capture device plays."""
    width, height = size
    rng = np.random.default_rng(0)
    base = np.asarray(
        Image.fromarray(photo).resize((width + 32, height + 24), Image.BILINEAR), dtype=np.float32
    )
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            dx, dy = int(rng.integers(0, 32)), int(rng.integers(0, 24))
            rgb = base[dy : dy + height, dx : dx + width] + rng.normal(0, 3, (height, width, 3))
            r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
            y = 0.299 * r + 0.587 * g + 0.114 * b
            u = -0.168736 * r - 0.331264 * g + 0.5 * b + 128
            v = 0.5 * r - 0.418688 * g - 0.081312 * b + 128
            planes = [
                y,
                u.reshape(height // 2, 2, width // 2, 2).mean((1, 3)),
                v.reshape(height // 2, 2, width // 2, 2).mean((1, 3)),
            ]
            out.write(b"FRAME\n")
            for plane in planes:
                out.write(np.clip(plane, 0, 255).astype(np.uint8).tobytes())
    return path


def zoom_crops(
    directory: Path, count: int, seed: int, low: float = 1.0, high: float = 4.0
) -> list[tuple[Path, float]]:
    """Crops of one photo (skimage's astronaut) at known zoom levels: a square of 1/zoom of the
    photo's side, at a random place, resized to 224 pixels. Returns (file, zoom) pairs."""
    import numpy as np
    import skimage.data
    from PIL import Image

    photo = Image.fromarray(skimage.data.astronaut())
    side = photo.width
    random = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    crops = []
    for index in range(count):
        zoom = float(random.uniform(low, high))
        size = side / zoom
        left, top = random.uniform(0, side - size, 2)
        crop = photo.crop((left, top, left + size, top + size)).resize((224, 224), Image.BILINEAR)
        path = directory / f"zoom-{seed}-{index:03d}.png"
        crop.save(path)
        crops.append((path, round(zoom, 4)))
    return crops
