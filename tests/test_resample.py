"""The page's crop + resize (templates/app/media/resample.js, run here under plain Node) gives exactly the
bytes of Python's `center_crop_resize` (PIL's bilinear resize), whatever the photo's size, shape and
content, and however many rows the page reads at a time."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np

from builder.models.preprocess import center_crop_resize

from .support.photos import full_size_photo

ROOT = Path(__file__).resolve().parent.parent

# (name, width, height, output size, rows read at a time or None for all at once)
CASES = [
    ("noise-12mp", 4032, 3024, 224, 300),
    ("noise-12mp-portrait", 3024, 4032, 224, 1),
    ("photo-frame", 640, 480, 224, None),
    ("noise-frame-portrait", 480, 640, 224, 64),
    ("noise-odd", 1001, 999, 224, 7),
    ("photo-odd", 333, 501, 224, 100),
    ("noise-barely-larger", 225, 300, 224, None),
    ("noise-exact", 224, 224, 224, 10),
    ("noise-upscaled", 150, 100, 224, None),
    ("noise-tiny", 3, 2, 224, None),
    ("noise-other-size", 2000, 1500, 96, 50),
    ("photo-other-size", 600, 800, 300, None),
]


def case_image(name: str, width: int, height: int, seed: int) -> np.ndarray:
    if name.startswith("photo"):
        return full_size_photo("astronaut", width, height, seed=seed)
    # Uniform noise: every rounding of every weight shows.
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def test_node_resize_equals_pil_bit_for_bit(tmp_path):
    jobs, expected = [], {}
    for seed, (name, width, height, size, band_rows) in enumerate(CASES):
        image = case_image(name, width, height, seed)
        expected[name] = center_crop_resize(image, size).astype(np.uint8)
        (tmp_path / f"{name}.rgb").write_bytes(image.tobytes())
        jobs.append(
            {
                "input": str(tmp_path / f"{name}.rgb"),
                "width": width,
                "height": height,
                "size": size,
                "bandRows": band_rows or height,
                "output": str(tmp_path / f"{name}.out"),
            }
        )
    (tmp_path / "jobs.json").write_text(json.dumps(jobs))

    done = subprocess.run(
        [
            shutil.which("node") or "node",
            str(ROOT / "tests" / "support" / "resample_node.mjs"),
            str(tmp_path / "jobs.json"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr

    for name, want in expected.items():
        size = want.shape[0]
        got = np.frombuffer((tmp_path / f"{name}.out").read_bytes(), dtype=np.uint8).reshape(size, size, 3)
        difference = np.abs(got.astype(int) - want.astype(int))
        assert difference.max() == 0, (
            f"{name}: {np.count_nonzero(difference)} of {difference.size} values differ from PIL's, "
            f"by up to {difference.max()}"
        )
