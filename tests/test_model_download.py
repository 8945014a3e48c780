"""The page's "Download model" leaves the page as a model other programs run: plain TF.js, following
the download's README, and embed.js's load() in a host page on another origin give the page's own
probabilities."""

from __future__ import annotations

import base64
import shutil
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .support.pagekit import wait_ready

TFJS = Path(__file__).resolve().parent.parent / "node_modules" / "@tensorflow" / "tfjs" / "dist" / "tf.min.js"

# The README's code, as a page: plain TF.js (the umbrella package's script), nothing of teachkit.
PLAIN_PAGE = """<!doctype html><meta charset="utf-8"><title>plain TF.js</title><link rel="icon" href="data:,">
<script src="tf.min.js"></script>
<script>
window.classifyAll = async (photos) => {
  await tf.setBackend("cpu");
  const base = await tf.loadGraphModel("model/base/model.json");
  const head = await tf.loadLayersModel("model/head/model.json");
  const { labels, base: identity } = await (await fetch("model/metadata.json")).json();
  const size = identity.input_size;
  const results = [];
  for (const photo of photos) {
    const image = await createImageBitmap(await (await fetch(`data:image/png;base64,${photo}`)).blob());
    const side = Math.min(image.width, image.height);
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = size;
    const context = canvas.getContext("2d");
    context.imageSmoothingQuality = "high";
    const [x, y] = [(image.width - side) / 2, (image.height - side) / 2];
    context.drawImage(image, x, y, side, side, 0, 0, size, size);
    const probabilities = tf.tidy(() => {
      const pixels = tf.browser.fromPixels(canvas).toFloat().expandDims(0);
      return head.predict(base.predict(pixels)).dataSync();
    });
    results.push(Object.fromEntries(labels.map((label, i) => [label, probabilities[i]])));
  }
  return results;
};
</script>"""

# A host page on another origin: embed.js's load() on the zip, nothing else.
LOAD_PAGE = """<!doctype html><meta charset="utf-8"><title>load()</title><link rel="icon" href="data:,">
<script type="module">
const params = new URLSearchParams(location.search);
const { load } = await import(new URL("embed.js", params.get("site")).href);
window.model = await load(new URL("model.zip", location.href).href);
document.body.dataset.loaded = "true";
</script>"""

RANK_ONE = """async (photo) => {
  const blob = await (await fetch(`data:image/png;base64,${photo}`)).blob();
  return window.model.classify(blob);
}"""

CLASSIFY_ALL = """async (photos) => {
  const results = [];
  for (const photo of photos) {
    const blob = await (await fetch(`data:image/png;base64,${photo}`)).blob();
    results.push((await window.model.predict(blob)).confidences);
  }
  return results;
}"""


@pytest.fixture(scope="module")
def model_download(tmp_path_factory, page_trained, surfaces_site, serve_site_module, browser) -> Path:
    """The Surfaces model trained in the page, opened from its project file and downloaded."""
    trained = page_trained()
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(serve_site_module(surfaces_site).url)
        wait_ready(page)
        page.set_input_files('[data-testid="import-project"]', str(trained.project_file))
        expect(page.locator('[data-testid="train-status"]')).to_have_attribute(
            "data-state", "done", timeout=60_000
        )
        with page.expect_download() as download:
            page.click('[data-testid="download-model"]')
        path = tmp_path_factory.mktemp("download") / download.value.suggested_filename
        download.value.save_as(path)
    finally:
        context.close()
    return path


def photos_and_page(page_trained) -> tuple[list[str], list[dict[str, float]]]:
    predictions = page_trained().predictions
    photos = [base64.b64encode(photo.read_bytes()).decode() for photo, _, _ in predictions]
    return photos, [confidences for _, _, confidences in predictions]


def assert_close(theirs: list[dict[str, float]], ours: list[dict[str, float]]) -> None:
    assert len(theirs) == len(ours) >= 30
    worst = max(abs(a[label] - b[label]) for a, b in zip(theirs, ours, strict=True) for label in b)
    assert worst <= 1e-3, f"largest probability difference {worst:.2e}"


def test_the_download_holds_what_its_readme_says(model_download):
    with zipfile.ZipFile(model_download) as archive:
        names = set(archive.namelist())
        readme = archive.read("README.md").decode()
        labels = archive.read("labels.txt").decode().split()
    assert model_download.name == "surfaces.teachkit-model.zip"
    assert {
        "head/model.json",
        "head/weights.bin",
        "base/model.json",
        "base/weights.bin",
        "metadata.json",
    } <= names
    assert labels == ["Brick", "Grass", "Gravel"]
    assert (
        'tf.loadLayersModel("head/model.json")' in readme and 'tf.loadGraphModel("base/model.json")' in readme
    )


def test_plain_tfjs_following_the_readme_gives_the_page_probabilities(
    model_download, page_trained, tmp_path, serve_site, open_page
):
    site = tmp_path / "plain"
    site.mkdir()
    with zipfile.ZipFile(model_download) as archive:
        archive.extractall(site / "model")
    shutil.copyfile(TFJS, site / "tf.min.js")
    (site / "index.html").write_text(PLAIN_PAGE)
    photos, expected = photos_and_page(page_trained)
    page = open_page(serve_site(site).url).page

    assert_close(page.evaluate("(photos) => window.classifyAll(photos)", photos), expected)


def test_load_in_a_host_page_gives_the_page_probabilities(
    model_download, page_trained, surfaces_site, tmp_path, serve_site, open_page
):
    host = tmp_path / "host"
    host.mkdir()
    shutil.copyfile(model_download, host / "model.zip")
    (host / "index.html").write_text(LOAD_PAGE)
    site = serve_site(surfaces_site).url
    host_url = serve_site(host).url.replace("127.0.0.1", "localhost")
    session = open_page(f"{host_url}?site={site}")
    page = session.page
    expect(page.locator("body")).to_have_attribute("data-loaded", "true", timeout=60_000)
    photos, expected = photos_and_page(page_trained)

    assert_close(page.evaluate(CLASSIFY_ALL, photos), expected)
    ranked = page.evaluate(RANK_ONE, photos[0])
    assert [entry["label"] for entry in ranked][0] == max(expected[0], key=expected[0].get)
    allowed = (host_url.rstrip("/"), site.rstrip("/"), "data:", "blob:")
    assert [url for url in session.requests if not url.startswith(allowed)] == []
    assert session.console_errors == []


def test_teachkit_export_takes_the_model_download_too(model_download, page_trained, tmp_path):
    """The download, not only the project file, becomes a Keras model for Python."""
    import json
    import subprocess
    import sys

    from .support.site import run_cli

    result = run_cli("export", model_download, "--format", "keras", "-o", tmp_path / "keras")
    assert result.exit_code == 0, result.output
    predictions = page_trained().predictions
    ran = subprocess.run(
        [
            sys.executable,
            str(tmp_path / "keras" / "predict.py"),
            "--json",
            *(str(p) for p, _, _ in predictions),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert ran.returncode == 0, ran.stderr
    labels = [json.loads(line)["label"] for line in ran.stdout.splitlines()]
    agree = sum(ours == theirs for ours, (_, theirs, _) in zip(labels, predictions, strict=True))
    assert agree / len(predictions) >= 0.97
    refused = run_cli("export", model_download, "--format", "tflite-int8", "-o", tmp_path / "int8")
    assert refused.exit_code == 1 and not (tmp_path / "int8").exists()
