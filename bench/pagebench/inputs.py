"""What the page benchmark feeds the page: the built 5-class site, photo crops, a camera frame and
video, and how many of each a full or a quick run takes."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from bench.sites import build_project_site
from tests.support.images import write_y4m

# Class name → the scikit-image photo its samples are cropped from.
SOURCES = {
    "Brick": "brick",
    "Grass": "grass",
    "Gravel": "gravel",
    "Coffee": "coffee",
    "Astronaut": "astronaut",
}
PROJECT = """title = "Page benchmark"
classes = [{classes}]

[model]
base = "efficientnet_lite0"
quantization = "auto"
"""
EPOCHS, BATCH_SIZE, LEARNING_RATE, HIDDEN_UNITS, CAPTURE_FPS = 50, 16, 0.001, 100, 10  # page defaults
CAMERA_FPS = 30


@dataclass(frozen=True)
class Plan:
    embed_runs: int  # per page, in blocks of 10 alternating with the references
    upload_repeats: int
    training_repeats: int
    loads: int
    reloads: int
    memory_per_class: int
    hold_s: float
    live_s: float
    live_repeats: int
    camera_s: float


FULL = Plan(60, 3, 3, 7, 5, 300, 3.0, 10.0, 2, 5.0)
QUICK = Plan(30, 1, 1, 3, 2, 40, 2.0, 5.0, 1, 3.0)


def build_site(work: Path) -> tuple[Path, str]:
    """Builds the 5-class project with `teachkit build`; returns the site and the summary line."""
    return build_project_site(work, PROJECT.format(classes=", ".join(json.dumps(name) for name in SOURCES)))


def site_scripts(site: Path) -> list[str]:
    """The scripts the built site ships, as its manifest.json lists them (paths from the site's
    root): the page tells its own scripts from its workers' by how each was fetched."""
    manifest = json.loads((site / "manifest.json").read_text(encoding="utf-8"))
    return [entry["path"] for entry in manifest["files"] if entry["path"].endswith(".js")]


def photo(name: str) -> np.ndarray:
    import skimage.data

    image = getattr(skimage.data, name)()
    return np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image[..., :3]


def photo_crops(directory: Path, source: str, count: int, size: int, seed: int) -> list[Path]:
    """Random square crops (random flips, a little brightness jitter) of one photo, as PNG files."""
    image = photo(source)
    rng = np.random.default_rng(seed)
    height, width = image.shape[:2]
    side = min(size, height, width)
    directory.mkdir(parents=True, exist_ok=True)
    files = []
    for index in range(count):
        y, x = int(rng.integers(0, height - side + 1)), int(rng.integers(0, width - side + 1))
        crop = image[y : y + side, x : x + side].astype(np.float32) * rng.uniform(0.85, 1.15)
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        path = directory / f"{source}-{size}-{seed}-{index}.png"
        Image.fromarray(np.clip(crop, 0, 255).astype(np.uint8)).resize((size, size)).save(path)
        files.append(path)
    return files


def camera_frame() -> tuple[str, int, int]:
    """A 640x480 photo (chelsea) as base64 RGBA, the size of a webcam frame."""
    width, height = 640, 480
    rgba = Image.fromarray(photo("chelsea")).resize((width, height), Image.BILINEAR).convert("RGBA")
    return base64.b64encode(rgba.tobytes()).decode(), width, height


def reference_pixels() -> np.ndarray:
    """The same photo's centre square at 224x224, as the model's float32 input batch."""
    image = Image.fromarray(photo("chelsea")).resize((640, 480), Image.BILINEAR)
    square = image.crop((80, 0, 560, 480)).resize((224, 224), Image.BILINEAR)
    return np.asarray(square, dtype=np.float32)[None]


def make_images(work: Path, plan: Plan) -> dict:
    sources = list(SOURCES.items())
    return {
        "upload": photo_crops(work / "upload", sources[0][1], 100, 256, seed=1),
        "training": {
            name: photo_crops(work / "train", source, 60, 256, seed=10 + i)
            for i, (name, source) in enumerate(sources)
        },
        "memory": {
            name: photo_crops(work / "memory", source, plan.memory_per_class, 128, seed=20 + i)
            for i, (name, source) in enumerate(sources)
        },
        "predict": photo_crops(work / "predict", sources[1][1], 1, 256, seed=99)[0],
        "y4m": write_y4m(work / "camera.y4m", photo("astronaut"), frames=CAMERA_FPS, fps=CAMERA_FPS),
    }
