"""The same full-size photo gives the same embedding in Chromium, Firefox and WebKit, and the one
its Python crop (builder/models/preprocess.py) gives: the page shrinks photos with its own port of
PIL's filter, not the engine's canvas scaler, so the build's fidelity numbers are what visitors get
and a model moves between browsers unchanged."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from builder.convert import cosine
from builder.models.preprocess import center_crop_resize

from .support import pagekit, webkit_page
from .support.photos import full_size_photos

# A phone's 12 megapixels in both orientations and a webcam's frame.
PHOTOS = ("phone-landscape", "phone-portrait", "camera-frame")
EMBEDDINGS = "() => window.teachkit.samples().map((sample) => Array.from(sample.embedding))"

pytestmark = pytest.mark.filterwarnings("ignore:setting remote_server_addr:DeprecationWarning")


@pytest.fixture(scope="module")
def photos_then_crops(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The full-size photos, then each one's 224 px crop made by Python, as PNG files."""
    directory = tmp_path_factory.mktemp("engine-photos")
    photos = full_size_photos(directory, PHOTOS)
    crops = []
    for name, path in photos.items():
        crop = center_crop_resize(np.asarray(Image.open(path).convert("RGB")), 224).astype(np.uint8)
        crops.append(directory / f"{name}-python-crop.png")
        Image.fromarray(crop).save(crops[-1])
    return [*photos.values(), *crops]


def embeddings_of(page, upload, files: list[Path]) -> np.ndarray:
    """Uploads `files` to the first class as a visitor would; the embeddings the page stored."""
    upload(page, "Brick", files, len(files))
    return np.array(page.evaluate(EMBEDDINGS), dtype=np.float32)


def test_a_photo_embeds_alike_in_every_engine_and_like_its_python_crop(
    browser, firefox_browser, webkit, surfaces_site, serve_site, photos_then_crops
):
    url = serve_site(surfaces_site).url
    by_engine = {}
    for engine, launched in (("chromium", browser), ("firefox", firefox_browser)):
        context = launched.new_context()
        try:
            page = context.new_page()
            page.goto(url)
            pagekit.wait_ready(page)
            by_engine[engine] = embeddings_of(page, pagekit.upload, photos_then_crops)
        finally:
            context.close()
    page = webkit()
    page.goto(url)
    webkit_page.wait_ready(page)
    by_engine["webkit"] = embeddings_of(page, webkit_page.upload, photos_then_crops)

    count = len(PHOTOS)
    for engine, vectors in by_engine.items():
        for index, name in enumerate(PHOTOS):
            similarity = cosine(vectors[index], vectors[count + index])
            assert similarity >= 0.99, f"{engine}, {name}: cosine {similarity:.5f} to its Python crop"
    for (first, ours), (second, theirs) in itertools.combinations(by_engine.items(), 2):
        for index, name in enumerate(PHOTOS):
            similarity = cosine(ours[index], theirs[index])
            assert similarity >= 0.995, f"{name}: cosine {similarity:.5f} between {first} and {second}"
