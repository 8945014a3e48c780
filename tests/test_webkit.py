"""The core flow in WebKit: WebKitGTK's MiniBrowser, whose automation sessions are ephemeral as
Safari's Private Browsing is (the iPads of many students). Load, upload, train, predict, reload,
project file, and the single file from file://, as a visitor does them; no message says "null"."""

from __future__ import annotations

import json

import numpy as np
import pytest

from .support.webkit_page import (
    accuracy,
    collect_and_train,
    counts,
    export_project,
    held_out_predictions,
    hold_record,
    import_project,
    live_labels,
    predict,
    train,
    upload,
    wait_ready,
)
from .test_browser_embeddings import assert_like_python, probe_files  # noqa: F401 (a fixture)

# selenium's own WebKitGTK driver still passes its server's address the deprecated way.
pytestmark = pytest.mark.filterwarnings("ignore:setting remote_server_addr:DeprecationWarning")

TRAINED = {"Brick": "20", "Grass": "20", "Gravel": "20"}


def assert_no_null(page) -> None:
    messages = page.messages()
    assert [text for text in messages if "null" in text.lower()] == [], messages


def wait_trained(page) -> None:
    page.wait_for('[data-testid="train-status"]', "done", attribute="data-state")


def test_the_core_flow_in_a_webkit_private_session(
    webkit, serve_site, surfaces_site, texture_files, tmp_path
):
    url = serve_site(surfaces_site).url
    page = webkit()
    page.goto(url)
    collect_and_train(page, texture_files)
    predictions = held_out_predictions(page, texture_files)
    assert accuracy(predictions, texture_files) >= 0.9
    assert_no_null(page)

    # The service worker keeps the site; within the session a reload, served by it, keeps the
    # samples and the trained model (WebKit refused to store them when they were Blobs).
    page.wait_for('[data-testid="offline"]', "saved", attribute="data-state")
    page.reload()
    wait_ready(page)
    assert page.evaluate("() => Boolean(navigator.serviceWorker.controller)")
    assert counts(page) == TRAINED
    wait_trained(page)
    assert predict(page, texture_files["gravel"]["held-out"][0])[0] == "Gravel"
    exported = export_project(page, tmp_path / "surfaces.teachkit.zip")
    assert_no_null(page)

    # Another private session starts empty; the project file brings everything back.
    fresh = webkit()
    fresh.goto(url)
    wait_ready(fresh)
    assert counts(fresh) == {"Brick": "0", "Grass": "0", "Gravel": "0"}
    import_project(fresh, exported)
    assert counts(fresh) == TRAINED
    wait_trained(fresh)
    again = held_out_predictions(fresh, texture_files)
    assert [label for label, _ in again] == [label for label, _ in predictions]
    for (_, confidence), (_, reference) in zip(again, predictions, strict=True):
        assert confidence == pytest.approx(reference, abs=1e-3)
    assert_no_null(fresh)


def test_the_single_file_from_a_file_url_in_webkit(webkit, surfaces_single_file, texture_files):
    page = webkit()
    page.goto(surfaces_single_file.as_uri())
    collect_and_train(page, texture_files)
    # Its workers run the base model: they take the WASM from the bytes they are handed, as WebKit
    # lets the worker of a file:// page fetch nothing, not even a blob: URL.
    page.wait_for('[data-testid="backend"]', "2", attribute="data-workers")
    assert accuracy(held_out_predictions(page, texture_files), texture_files) >= 0.9
    assert_no_null(page)

    page.reload()
    wait_ready(page)
    assert counts(page) == TRAINED
    wait_trained(page)
    assert predict(page, texture_files["brick"]["held-out"][0])[0] == "Brick"
    assert_no_null(page)


def test_the_camera_records_and_predicts_live_in_webkit(webkit, serve_site, surfaces_site, texture_files):
    """With WebKit's mock camera (a moving test pattern) as the Brick class, photos for the others."""
    page = webkit(camera=True)
    page.goto(serve_site(surfaces_site).url)
    wait_ready(page)
    assert hold_record(page, "Brick", 1.5) >= 5
    upload(page, "Grass", texture_files["grass"]["train"], 20)
    upload(page, "Gravel", texture_files["gravel"]["train"], 20)
    train(page)
    # The first live frame is now and then another class (seen once in six runs): most, not all.
    labels = live_labels(page, 10)
    assert labels.count("Brick") >= 8, labels
    assert_no_null(page)


@pytest.mark.parametrize("single_file", [False, True], ids=["hosted", "single-file"])
def test_webkit_embeds_the_probes_as_python_does(
    webkit,
    serve_site,
    surfaces_site,
    surfaces_single_file,
    probe_files,  # noqa: F811
    single_file,
):
    """The hosted page (LiteRT.js; WebKit has no relaxed SIMD) and the single file (TF.js in its
    workers) on the build's 224 px probes: within cosine 0.99 of Python's embeddings."""
    page = webkit()
    page.goto(surfaces_single_file.as_uri() if single_file else serve_site(surfaces_site).url)
    wait_ready(page)
    embeddings = {}
    for count, path in enumerate(probe_files, start=1):
        upload(page, "Brick", [path], count)
        vector = page.evaluate("() => Array.from(window.teachkit.samples().at(-1).embedding)")
        embeddings[path.stem] = np.array(vector, dtype=np.float32)
    site = surfaces_single_file.parent if single_file else surfaces_site
    assert_like_python(embeddings, json.loads((site / "manifest.json").read_text()), "WebKit")
    runtime = page.evaluate("() => window.teachkit.status().backend")
    assert runtime["runtime"]["name"] == ("tfjs" if single_file else "litert"), runtime
    assert runtime["workers"] >= 1, runtime
