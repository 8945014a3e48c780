"""Regenerates the screenshots of the teaching page for the README and the docs: a laptop
(1280x800) and a phone (390x844), after a visitor added real photos (textures from scikit-image) to
three classes, trained, and asked about a held-out photo.

On the laptop it also shoots the page's panels one by one, for the docs' *For teachers* page:
*Try it* (docs/page-try.png), *Train* with its charts and tables (docs/page-train.png), *Test on
other images* after a folder of new photos (docs/page-test-set.png), *What the base model sees* and
the *Map of the examples* (docs/page-insight.png), *Save and share* (docs/page-save.png) and a class
card while *Hold to record* takes frames from Chromium's fake camera (docs/page-collect.png); and a
regression page taught the zoom of crops of one photo (docs/page-regression.png).

The page is driven only through its data-testid hooks (tests/support/pagekit.py), as a visitor would.
Every PNG is kept under 300 KB (reduced to 256 colours when larger).

Usage: python docs/screenshots.py [FOLDER]   (writes the PNGs above and docs/page-laptop.png,
docs/page-phone.png; into FOLDER instead of docs/ when given)
TEACHKIT_CACHE keeps the converted model between runs.
"""

from __future__ import annotations

import sys
import tempfile
import threading
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from builder.cli import main as teachkit  # noqa: E402
from builder.serve import make_server  # noqa: E402
from tests.support.browser import CHROMIUM_ARGS, chromium_executable, open_with_camera  # noqa: E402
from tests.support.images import TEXTURES, texture_crops, write_y4m, zoom_crops  # noqa: E402
from tests.support.pagekit import CLASS_OF, card, predict, train, upload, wait_ready  # noqa: E402
from tests.support.pagekit import ZOOM_REGRESSION as ZOOM_TABLES  # noqa: E402

PROJECT = """title = "Surfaces"
description = "Tell brick, grass and gravel apart."
classes = ["Brick", "Grass", "Gravel"]
"""
REGRESSION_PROJECT = (
    """title = "How close is the camera"
description = "Guess how far a photo is zoomed in."
"""
    + ZOOM_TABLES
)
ZOOM_LEVELS = [1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0]
SIZES = {"laptop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
# 20 photos a class: 15 % of them holds back 3 each, enough for the page to report accuracy
# without its "too few held back" warning.
PER_CLASS = 20
TEST_PER_CLASS = 8
MAX_BYTES = 300_000


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


def save(shot, path: Path, **options) -> None:
    """Takes a screenshot (page or element) and keeps the file small enough for a docs page."""
    from PIL import Image

    shot.screenshot(path=str(path), **options)
    if path.stat().st_size > MAX_BYTES:
        image = Image.open(path).convert("RGB")
        image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
            path, optimize=True
        )
    print(f"wrote {path} ({path.stat().st_size // 1000} kB)")


def camera_video(directory: Path) -> Path:
    """What Chromium's fake camera shows: a few seconds of the grass texture, held by hand."""
    import skimage.data

    directory.mkdir(parents=True, exist_ok=True)
    grass = np.repeat(skimage.data.grass()[:, :, None], 3, axis=2)
    return write_y4m(directory / "grass.y4m", grass)


def shoot(url: str, photos: dict[str, dict[str, list[Path]]], tests: Path, video: Path, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profiles:
        for name, viewport in SIZES.items():
            context, session = open_with_camera(
                playwright,
                Path(profiles) / name,
                video,
                url,
                viewport=viewport,
                device_scale_factor=1,
                permissions=["camera"],
            )
            page = session.page
            for texture, files in photos.items():
                upload(page, CLASS_OF[texture], files["train"], PER_CLASS)
            train(page)
            predict(page, photos["grass"]["held-out"][0])
            page.evaluate("() => window.scrollTo(0, 0)")
            save(page, out / f"page-{name}.png")
            if name == "laptop":
                shoot_panels(page, tests, out)
            context.close()


def shoot_panels(page, tests: Path, out: Path) -> None:
    """The laptop page's panels one at a time, each after what a visitor does there."""
    from playwright.sync_api import expect

    save(page.locator('[data-view="prediction"]'), out / "page-try.png")
    save(page.locator('[data-view="training"]'), out / "page-train.png")

    panel = page.locator('[data-testid="test-set"]')
    panel.locator("> summary").click()
    page.set_input_files('[data-testid="test-set-folder"]', str(tests))
    expect(panel).to_have_attribute("data-state", "done", timeout=120_000)
    save(panel, out / "page-test-set.png")
    panel.locator("> summary").click()

    shoot_insight(page, out / "page-insight.png")
    save(page.locator('[data-view="project"]'), out / "page-save.png")
    shoot_recording(page, "Grass", out / "page-collect.png")


def shoot_insight(page, path: Path) -> None:
    from playwright.sync_api import expect

    imagenet = page.locator('[data-testid="imagenet-panel"]')
    imagenet.locator("> summary").click()
    expect(imagenet.locator('[data-testid="imagenet-top"] li')).to_have_count(5, timeout=30_000)
    page.locator('[data-testid="embedding-map-panel"] > summary').click()
    expect(page.locator('[data-testid="embedding-map"]')).not_to_have_attribute("data-points", "0")
    save(page.locator('[data-view="prediction"]'), path)


def shoot_recording(page, class_name: str, path: Path) -> None:
    """The class cards while *Hold to record* is held on one of them: the camera's picture shows in
    that card and its count grows."""
    from playwright.sync_api import expect

    page.evaluate("() => window.scrollTo(0, 0)")
    button = card(page, class_name).locator('[data-testid="record"]')
    button.click()  # with the camera off, a first press starts it and shows its picture in the card
    expect(card(page, class_name).locator('[data-testid="preview"]')).to_be_visible(timeout=20_000)
    button.hover()
    page.mouse.down()
    expect(button).to_have_attribute("aria-pressed", "true")
    count = card(page, class_name).locator('[data-testid="sample-count"]')
    expect(count).not_to_have_text(str(PER_CLASS), timeout=20_000)
    save(page.locator('[data-view="classes"]'), path)
    page.mouse.up()
    expect(button).to_have_attribute("aria-pressed", "false", timeout=10_000)


def shoot_regression(url: str, photos: Path, path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_executable(), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_context(viewport={"width": 1280, "height": 1200}, device_scale_factor=1).new_page()
        page.goto(url)
        wait_ready(page)
        group = page.locator('[data-testid="class"]')
        for index, level in enumerate(ZOOM_LEVELS):
            group.locator('[data-testid="target-slider"]').fill(
                f"{level:g}"
            )  # "1", as the browser writes it back
            crops = zoom_crops(photos / f"zoom-{index}", 12, seed=index, low=level, high=level)
            group.locator('[data-testid="sample-upload"]').set_input_files([str(file) for file, _ in crops])
            expect(group.locator('[data-testid="sample-count"]')).to_have_text(
                str(12 * (index + 1)), timeout=60_000
            )
        train(page)
        ((new, _),) = zoom_crops(photos / "new", 1, seed=50, low=2.8, high=2.8)
        page.set_input_files('[data-testid="predict-upload"]', str(new))
        expect(page.locator('[data-testid="prediction-gauge"]')).to_be_visible(timeout=30_000)
        page.evaluate("() => window.scrollTo(0, 0)")
        save(page, path, full_page=True)
        browser.close()


def serve(site: Path) -> tuple[object, str]:
    server = make_server(site, "127.0.0.1", 0, False, quiet=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def main(out: Path = ROOT / "docs") -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as temporary:
        directory = Path(temporary)
        photos = {
            texture: {
                "train": texture_crops(directory / "photos", texture, PER_CLASS, "train", seed=index),
                "held-out": texture_crops(directory / "photos", texture, 1, "held-out", seed=100 + index),
            }
            for index, texture in enumerate(TEXTURES)
        }
        # A folder of new photos with one sub-folder per class, as a teacher would prepare one.
        tests = directory / "test-photos"
        for index, texture in enumerate(TEXTURES):
            texture_crops(tests / CLASS_OF[texture], texture, TEST_PER_CLASS, "held-out", seed=200 + index)
        video = camera_video(directory / "camera")
        server, url = serve(build(directory / "surfaces"))
        try:
            shoot(url, photos, tests, video, out)
        finally:
            server.shutdown()
        server, url = serve(build(directory / "zoom", REGRESSION_PROJECT))
        try:
            shoot_regression(url, directory / "photos", out / "page-regression.png")
        finally:
            server.shutdown()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs")
