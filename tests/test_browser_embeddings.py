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
from builder.probes import probe_pixels


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


def test_full_size_photos_are_cropped_and_resized_like_python(lite0_sites, serve_site, open_page, tmp_path):
    """The page's own crop + resize of full-size photos lands close to Python's. Browsers and PIL
    resample differently, so this bound is looser than the model-fidelity bound above; a wrong
    crop (off-centre, stretched) falls far below it."""
    from builder.probes import probe_images

    site = lite0_sites("auto")
    manifest = json.loads((site / "manifest.json").read_text())
    files = []
    for name, image in probe_images().items():
        Image.fromarray(image).save(tmp_path / f"{name}.png")
        files.append(tmp_path / f"{name}.png")
    server = serve_site(site)
    session = open_page(server.url)

    embeddings = embed_in_page(session, files)

    for name, vector in embeddings.items():
        similarity = cosine(vector, np.array(manifest["probe_embeddings"][name], dtype=np.float32))
        assert similarity >= 0.97, f"{name}: cosine {similarity:.4f}"
    assert session.foreign_requests(server.url) == []
