"""docs/screenshots.py still drives the real page to every panel the docs show, and the pictures the
docs link stay small enough for a docs page."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
MAX_BYTES = 300_000
# Each picture the script writes, with its width where the viewport sets it (None: a panel's own).
SHOTS = {
    "laptop": 1280,
    "phone": 390,
    "try": None,
    "train": None,
    "test-set": None,
    "insight": None,
    "save": None,
    "collect": None,
    "regression": 1280,
}
GUIDES = [DOCS / "teachers.md", *sorted((DOCS / "get-started").glob("*.md"))]
IMAGE_LINK = re.compile(r'!\[[^\]]*\]\(([^)\s]+\.png)\)|<img [^>]*src="([^"]+\.png)"')


def test_the_script_shoots_every_panel_of_a_real_page(tmp_path, lite0_sites):
    lite0_sites("auto")  # the base model's conversion, shared with the other tests through the cache
    done = subprocess.run(
        [sys.executable, str(DOCS / "screenshots.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=900,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for name, width in SHOTS.items():
        path = tmp_path / f"page-{name}.png"
        assert path.is_file(), (name, done.stdout)
        assert path.stat().st_size < MAX_BYTES, (name, path.stat().st_size)
        with Image.open(path) as image:
            assert image.format == "PNG"
            if width:
                assert image.width == width, (name, image.size)
            else:  # one column of the laptop's page
                assert 300 <= image.width <= 700, (name, image.size)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"page-{name}.png" for name in SHOTS)


def test_every_picture_the_guides_show_is_committed_and_small():
    linked = set()
    for page in GUIDES:
        for match in IMAGE_LINK.finditer(page.read_text(encoding="utf-8")):
            target = (page.parent / (match.group(1) or match.group(2))).resolve()
            assert target.is_file(), (page.name, target)
            linked.add(target.name)
    assert linked == {f"page-{name}.png" for name in SHOTS}  # every shot is used, none is missing
    for name in linked:
        assert (DOCS / name).stat().st_size < MAX_BYTES, name
