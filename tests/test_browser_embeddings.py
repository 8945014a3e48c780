"""The built page loads the converted model in headless Chromium and computes the same embeddings
as the float Keras model in Python, without any request leaving localhost."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from builder.convert import cosine
from builder.models.preprocess import center_crop_resize
from builder.probes import probe_pixels

from .support.photos import full_size_photos


@pytest.fixture(scope="module")
def probe_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The probe photos, already cropped and resized as the build did, as PNG files."""
    directory = tmp_path_factory.mktemp("probes")
    names, pixels = probe_pixels(224)
    files = []
    for name, image in zip(names, pixels, strict=True):
        path = directory / f"{name}.png"
        Image.fromarray(image.astype(np.uint8)).save(path)
        files.append(path)
    return files


def embed_in_page(session: object, files: list[Path]) -> dict[str, np.ndarray]:
    """Adds each photo as a sample of the first class, as a visitor would, and reads the embedding
    the page computed for it through the page's API (window.teachkit.samples)."""
    page = session.page
    expect(page.locator('[data-testid="status"]')).to_have_attribute("data-state", "ready", timeout=60_000)
    first_class = page.locator('[data-testid="class"]').first
    embeddings = {}
    for count, path in enumerate(files, start=1):
        first_class.locator('[data-testid="sample-upload"]').set_input_files(str(path))
        expect(first_class.locator('[data-testid="sample-count"]')).to_have_text(str(count), timeout=30_000)
        vector = page.evaluate("() => Array.from(window.teachkit.samples().at(-1).embedding)")
        embeddings[path.stem] = np.array(vector, dtype=np.float32)
    return embeddings


def assert_like_python(embeddings: dict[str, np.ndarray], manifest: dict, what: str) -> None:
    """Each probe's embedding from the page is within cosine 0.99 of the one Python computed."""
    assert len(embeddings) >= 4
    for name, vector in embeddings.items():
        reference = np.array(manifest["probe_embeddings"][name], dtype=np.float32)
        similarity = cosine(vector, reference)
        assert similarity >= 0.99, f"{what} {name}: cosine {similarity:.4f} to the Python embedding"


def expected_workers(session: object, workers: int | None) -> str:
    """What data-workers says: two workers (one on a single core) unless ?workers= asked."""
    return str(min(2, session.page.evaluate("navigator.hardwareConcurrency")) if workers is None else workers)


@pytest.mark.parametrize(
    ("quantization", "workers"),
    [("auto", None), ("float16", None), ("auto", 0)],
    ids=["auto-in-workers", "float16-in-workers", "auto-on-the-page"],
)
def test_page_embeddings_match_python(quantization, workers, lite0_sites, serve_site, open_page, probe_files):
    """In workers (the default) and on the page (?workers=0, the fallback) alike."""
    site = lite0_sites(quantization)
    manifest = json.loads((site / "manifest.json").read_text())
    server = serve_site(site)
    session = open_page(server.url if workers is None else f"{server.url}?workers={workers}")

    assert_like_python(embed_in_page(session, probe_files), manifest, quantization)
    backend = session.page.locator('[data-testid="backend"]')
    assert backend.get_attribute("data-backend") == "wasm", backend.text_content()
    assert "SIMD" in backend.text_content()
    expect(backend).to_have_attribute("data-workers", expected_workers(session, workers))
    assert session.foreign_requests(server.url) == []
    assert session.console_errors == []


@pytest.mark.parametrize("workers", [None, 0], ids=["in-workers", "on-the-page"])
def test_single_file_embeddings_match_python_from_a_file_url(
    workers, surfaces_single_file, open_page, probe_files
):
    """The single file (TF.js, its model and WASM inside the page) opened from file://, in workers
    (which get them as bytes) and on the page (?workers=0)."""
    manifest = json.loads((surfaces_single_file.parent / "manifest.json").read_text())
    assert manifest["runtime"] == "tfjs"
    query = "" if workers is None else f"?workers={workers}"
    session = open_page(surfaces_single_file.as_uri() + query)

    assert_like_python(embed_in_page(session, probe_files), manifest, "single file")
    backend = session.page.locator('[data-testid="backend"]')
    expect(backend).to_have_attribute("data-runtime", "tfjs")
    expect(backend).to_have_attribute("data-workers", expected_workers(session, workers))
    assert [url for url in session.requests if url.startswith(("http:", "https:"))] == []
    assert session.console_errors == []


@pytest.fixture(scope="module")
def full_size_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], list[Path]]:
    """Full-size photos (12 megapixels down to a 333×500 portrait, tests/support/photos.py) and, for each,
    the 224-pixel centre crop that builder/models/preprocess.py makes of it, as PNG files."""
    directory = tmp_path_factory.mktemp("full-size")
    photos = full_size_photos(directory / "photos")
    crops = []
    for name, path in photos.items():
        pixels = center_crop_resize(np.asarray(Image.open(path).convert("RGB")), 224)
        crops.append(directory / f"{name}-python-crop.png")
        Image.fromarray(pixels.astype(np.uint8)).save(crops[-1])
    return list(photos.values()), crops


def stored_crops(session: object) -> list[bytes]:
    """The JPEG of each sample's crop, as teachkit.samples() gives it, in the order added."""
    arrays = session.page.evaluate(
        """async () => Promise.all(window.teachkit.samples().map(
          async (sample) => Array.from(new Uint8Array(await new Response(sample.image).arrayBuffer()))))"""
    )
    return [bytes(array) for array in arrays]


def test_full_size_photos_are_cropped_and_resized_like_python(
    lite0_sites, serve_site, open_page, full_size_files, tmp_path
):
    """A visitor's full-size photo gives the page exactly the pixels that Python's crop of it has:
    the crop the page stores is byte for byte the one it stores for Python's 224-pixel crop, and so
    is the embedding. The probe photos at their own sizes then land as close to the build's
    Python embeddings as the model's fidelity allows."""
    from builder.probes import probe_images

    site = lite0_sites("auto")
    manifest = json.loads((site / "manifest.json").read_text())
    photos, crops = full_size_files
    probes = []
    for name, image in probe_images().items():
        probes.append(tmp_path / f"{name}.png")
        Image.fromarray(image).save(probes[-1])
    server = serve_site(site)
    session = open_page(server.url)

    embeddings = embed_in_page(session, [*photos, *crops, *probes])
    jpegs = stored_crops(session)

    for index, photo in enumerate(photos):
        assert jpegs[index] == jpegs[len(photos) + index], (
            f"{photo.name}: the stored crop differs from Python's"
        )
        similarity = cosine(embeddings[photo.stem], embeddings[f"{photo.stem}-python-crop"])
        assert similarity >= 0.99, f"{photo.name}: cosine {similarity:.4f} to its Python crop"
    assert_like_python({path.stem: embeddings[path.stem] for path in probes}, manifest, "full-size probe")
    assert session.foreign_requests(server.url) == []
    assert session.console_errors == []
