"""LiteRT.js runs the base model: the page's embeddings match Python's with its relaxed SIMD build
and its compat build (forced with ?litert=compat), in a worker and on the page; the build measured
every .tflite candidate with LiteRT.js itself and shipped only one that keeps min_fidelity."""

from __future__ import annotations

import json

import numpy as np
import pytest
from playwright.sync_api import expect

from builder.convert import cosine

from .test_browser_embeddings import assert_like_python, embed_in_page
from .test_browser_embeddings import probe_files as probe_files  # a fixture


@pytest.mark.parametrize(
    ("query", "build", "workers"),
    [("", "relaxed", None), ("?litert=compat", "compat", None), ("?workers=0", "relaxed", 0)],
    ids=["relaxed-in-workers", "compat-in-workers", "relaxed-on-the-page"],
)
def test_litert_embeddings_match_python(
    query, build, workers, lite0_sites, serve_site, open_page, probe_files
):
    site = lite0_sites("auto")
    manifest = json.loads((site / "manifest.json").read_text())
    assert manifest["runtime"] == "litert"
    server = serve_site(site)
    session = open_page(f"{server.url}{query}")

    assert_like_python(embed_in_page(session, probe_files), manifest, f"LiteRT.js {build}")
    status = session.page.evaluate("() => window.teachkit.status().backend")
    assert status["runtime"] == {"name": "litert", "build": build}
    backend = session.page.locator('[data-testid="backend"]')
    expect(backend).to_have_attribute("data-runtime-build", build)
    assert "LiteRT.js" in backend.text_content()
    if workers == 0:
        expect(backend).to_have_attribute("data-workers", "0")
    assert session.foreign_requests(server.url) == []
    assert session.console_errors == []


def test_tfjs_runtime_on_request(lite0_sites, serve_site, open_page, probe_files):
    """runtime = "tfjs": no .tflite nor LiteRT.js in the site, and TF.js's embeddings match Python's."""
    site = lite0_sites("auto", "tfjs")
    manifest = json.loads((site / "manifest.json").read_text())
    assert manifest["runtime"] == "tfjs" and manifest["litert"] is None
    assert not (site / "model" / "model.tflite").exists()
    assert not list((site / "wasm").glob("litert_*"))
    session = open_page(serve_site(site).url)

    embeddings = embed_in_page(session, probe_files[:3])

    for name, vector in embeddings.items():
        similarity = cosine(vector, np.array(manifest["probe_embeddings"][name], dtype=np.float32))
        assert similarity >= 0.99, f"TF.js {name}: cosine {similarity:.4f}"
    assert session.page.evaluate("() => window.teachkit.status().backend.runtime.name") == "tfjs"


def test_the_report_lists_every_candidate_and_ships_one_that_passes(lite0_sites):
    site = lite0_sites("auto")
    litert = json.loads((site / "manifest.json").read_text())["litert"]
    chosen, tried = litert["chosen"], litert["tried"]
    assert litert["version"] == "2.5.3"
    assert [item["encoding"] for item in tried][0] == "int8"
    assert chosen == tried[-1], "the build stops at the first candidate that passes"
    assert chosen["fidelity"]["min_cosine"] >= 0.99
    for item in tried[:-1]:
        assert item["fidelity"]["min_cosine"] < 0.99, item
    for item in tried:
        assert set(item["milliseconds"]) == {"relaxed", "compat"}
        assert all(ms > 0 for ms in item["milliseconds"].values())
    assert (site / "model" / "model.tflite").stat().st_size == chosen["size_bytes"]
