"""Regenerates the README's screenshots of the teaching page: a laptop (1280x800) and a phone
(390x844), after a visitor added real photos (textures from scikit-image) to three classes,
trained, and asked about a held-out photo.

On the laptop it also opens *What the base model sees* and the *Map of the examples* under *Try it*
(docs/page-insight.png), and shows a regression page taught the zoom of crops of one photo
(docs/page-regression.png).

Usage: python docs/screenshots.py   (writes docs/page-laptop.png, docs/page-phone.png,
docs/page-insight.png and docs/page-regression.png)
TEACHKIT_CACHE keeps the converted model between runs.
"""

from __future__ import annotations

import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from builder.cli import main as teachkit  # noqa: E402
from builder.serve import make_server  # noqa: E402
from tests.conftest import CHROMIUM_ARGS, chromium_executable  # noqa: E402
from tests.images import TEXTURES, texture_crops, zoom_crops  # noqa: E402

PROJECT = """title = "Surfaces"
description = "Tell brick, grass and gravel apart."
classes = ["Brick", "Grass", "Gravel"]
"""
REGRESSION_PROJECT = """title = "How close is the camera"
description = "Guess how far a photo is zoomed in."
[head]
type = "regression"
[regression]
label = "Zoom"
unit = "×"
min = 1
max = 4
[training]
validation_fraction = 0.25
"""
ZOOM_LEVELS = [1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0]
SIZES = {"laptop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def build(directory: Path, text: str = PROJECT) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    project = directory / "project.toml"
    project.write_text(text)
    try:
        teachkit(["-q", "build", str(project), "-o", str(directory / "dist")], standalone_mode=False)
    except SystemExit as exit_:
        if exit_.code:
            raise
    return directory / "dist"


def shoot(url: str, photos: dict[str, dict[str, list[Path]]], out: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_executable(), headless=True, args=CHROMIUM_ARGS
        )
        for name, viewport in SIZES.items():
            page = browser.new_context(viewport=viewport, device_scale_factor=1).new_page()
            page.goto(url)
            expect(page.locator('[data-testid="status"]')).to_have_attribute(
                "data-state", "ready", timeout=60_000
            )
            for texture, files in photos.items():
                card = page.locator(f'[data-testid="class"][data-class-name="{texture.title()}"]')
                card.locator('[data-testid="sample-upload"]').set_input_files(
                    [str(f) for f in files["train"]]
                )
                expect(card.locator('[data-testid="sample-count"]')).to_have_text("16", timeout=60_000)
            page.click('[data-testid="train"]')
            expect(page.locator('[data-testid="train-status"]')).to_have_attribute(
                "data-state", "done", timeout=120_000
            )
            page.set_input_files('[data-testid="predict-upload"]', str(photos["grass"]["held-out"][0]))
            expect(page.locator('[data-testid="prediction"]')).to_have_attribute(
                "data-count", "1", timeout=30_000
            )
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(out / f"page-{name}.png"))
            print(f"wrote {out / f'page-{name}.png'}")
            if name == "laptop":
                shoot_insight(page, out / "page-insight.png")
        browser.close()


def shoot_insight(page, path: Path) -> None:
    from playwright.sync_api import expect

    imagenet = page.locator('[data-testid="imagenet-panel"]')
    imagenet.locator("> summary").click()
    expect(imagenet.locator('[data-testid="imagenet-top"] li')).to_have_count(5, timeout=30_000)
    page.locator('[data-testid="embedding-map-panel"] > summary').click()
    expect(page.locator('[data-testid="embedding-map"]')).not_to_have_attribute("data-points", "0")
    page.locator('[data-view="prediction"]').screenshot(path=str(path))
    print(f"wrote {path}")


def shoot_regression(url: str, photos: Path, path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_executable(), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_context(viewport={"width": 1280, "height": 1200}, device_scale_factor=1).new_page()
        page.goto(url)
        expect(page.locator('[data-testid="status"]')).to_have_attribute(
            "data-state", "ready", timeout=60_000
        )
        card = page.locator('[data-testid="class"]')
        for index, level in enumerate(ZOOM_LEVELS):
            card.locator('[data-testid="target-slider"]').fill(str(level))
            crops = zoom_crops(photos / f"zoom-{index}", 12, seed=index, low=level, high=level)
            card.locator('[data-testid="sample-upload"]').set_input_files([str(file) for file, _ in crops])
            expect(card.locator('[data-testid="sample-count"]')).to_have_text(
                str(12 * (index + 1)), timeout=60_000
            )
        page.click('[data-testid="train"]')
        expect(page.locator('[data-testid="train-status"]')).to_have_attribute(
            "data-state", "done", timeout=120_000
        )
        ((new, _),) = zoom_crops(photos / "new", 1, seed=50, low=2.8, high=2.8)
        page.set_input_files('[data-testid="predict-upload"]', str(new))
        expect(page.locator('[data-testid="prediction-gauge"]')).to_be_visible(timeout=30_000)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(path), full_page=True)
        print(f"wrote {path}")
        browser.close()


def serve(site: Path) -> tuple[object, str]:
    server = make_server(site, "127.0.0.1", 0, False, quiet=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def main() -> None:
    with tempfile.TemporaryDirectory() as temporary:
        directory = Path(temporary)
        photos = {
            texture: {
                "train": texture_crops(directory / "photos", texture, 16, "train", seed=index),
                "held-out": texture_crops(directory / "photos", texture, 1, "held-out", seed=100 + index),
            }
            for index, texture in enumerate(TEXTURES)
        }
        server, url = serve(build(directory / "surfaces"))
        try:
            shoot(url, photos, ROOT / "docs")
        finally:
            server.shutdown()
        server, url = serve(build(directory / "zoom", REGRESSION_PROJECT))
        try:
            shoot_regression(url, directory / "photos", ROOT / "docs" / "page-regression.png")
        finally:
            server.shutdown()


if __name__ == "__main__":
    main()
