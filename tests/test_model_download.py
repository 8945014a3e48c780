"""The page's "Download model" leaves the page as a model other programs run: plain TF.js, following
the download's README, and embed.js's load() in a host page on another origin give the page's own
probabilities, and the README's "Where the model looked" gives the page's own heatmap."""

from __future__ import annotations

import base64
import io
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from .support.pagekit import API_BLOB_BASE64, PROJECT, wait_ready
from .support.site import build_project
from .support.visitor import import_project

TFJS = Path(__file__).resolve().parent.parent / "node_modules" / "@tensorflow" / "tfjs" / "dist" / "tf.min.js"

# The README's code, as a page: plain TF.js (the umbrella package's script), nothing of teachkit;
# readme-map.js is the README's "Where the model looked" code block, as it stands there.
PLAIN_PAGE = """<!doctype html><meta charset="utf-8"><title>plain TF.js</title><link rel="icon" href="data:,">
<script src="tf.min.js"></script>
<script>
let base, head, labels, size;
async function load() {
  if (base) return;
  await tf.setBackend("cpu");
  base = await tf.loadGraphModel("model/base/model.json");
  head = await tf.loadLayersModel("model/head/model.json");
  const metadata = await (await fetch("model/metadata.json")).json();
  [labels, size] = [metadata.labels, metadata.base.input_size];
}
async function centreSquare(photo) {
  const image = await createImageBitmap(await (await fetch(`data:image/png;base64,${photo}`)).blob());
  const side = Math.min(image.width, image.height);
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = size;
  const context = canvas.getContext("2d");
  context.imageSmoothingQuality = "high";
  const [x, y] = [(image.width - side) / 2, (image.height - side) / 2];
  context.drawImage(image, x, y, side, side, 0, 0, size, size);
  return canvas;
}
window.classifyAll = async (photos) => {
  await load();
  const results = [];
  for (const photo of photos) {
    const canvas = await centreSquare(photo);
    const probabilities = tf.tidy(() => {
      const pixels = tf.browser.fromPixels(canvas).toFloat().expandDims(0);
      return head.predict(base.predict(pixels)).dataSync();
    });
    results.push(Object.fromEntries(labels.map((label, i) => [label, probabilities[i]])));
  }
  return results;
};
window.mapsOf = async (asked) => {
  await load();
  const maps = [];
  for (const { photo, className } of asked) {
    const { rows, cols, values } = whereItLooked(await centreSquare(photo), labels.indexOf(className));
    maps.push({ rows, cols, values: Array.from(values) });
  }
  return maps;
};
</script>
<script src="readme-map.js"></script>"""


PAGE_EXPLAIN = """async (asked) => {
  const maps = [];
  for (const { photo, className } of asked) {
    const bytes = Uint8Array.from(atob(photo), (c) => c.charCodeAt(0)); // the CSP refuses data: fetches
    maps.push(await window.teachkit.explain(new Blob([bytes], { type: "image/png" }), { className }));
  }
  return maps;
}"""

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
def trained_page(page_trained, surfaces_site, serve_site_module, browser):
    """The Surfaces page (LiteRT.js, its int8 base) with the model trained in the page opened."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(serve_site_module(surfaces_site).url)
        wait_ready(page)
        page.set_input_files('[data-testid="import-project"]', str(page_trained().project_file))
        expect(page.locator('[data-testid="train-status"]')).to_have_attribute(
            "data-state", "done", timeout=60_000
        )
        yield page
    finally:
        context.close()


@pytest.fixture(scope="module")
def tfjs_trained_page(page_trained, tmp_path_factory, serve_site_module, browser):
    """The same page with its base model on TF.js, the graph model a download carries. Its model
    fingerprint differs from the LiteRT.js page's, so it re-embeds the file's samples and trains
    its own head on them."""
    site = build_project(tmp_path_factory.mktemp("surfaces-tfjs"), PROJECT + 'runtime = "tfjs"\n')
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(serve_site_module(site).url)
        wait_ready(page)
        import_project(page, page_trained().project_file)
        page.evaluate("async () => window.teachkit.status().trained || window.teachkit.train()")
        yield page
    finally:
        context.close()


@pytest.fixture(scope="module")
def model_download(tmp_path_factory, trained_page) -> Path:
    """The Surfaces model trained in the page, opened from its project file and downloaded."""
    with trained_page.expect_download() as download:
        trained_page.click('[data-testid="download-model"]')
    path = tmp_path_factory.mktemp("download") / download.value.suggested_filename
    download.value.save_as(path)
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
    assert "## Where the model looked" in readme and "base.metadata.featureMap.node" in readme


def test_plain_tfjs_following_the_readme_gives_the_page_probabilities(
    model_download, page_trained, tmp_path, serve_site, open_page
):
    site = plain_site(tmp_path / "plain", model_download)
    photos, expected = photos_and_page(page_trained)
    page = open_page(serve_site(site).url).page

    assert_close(page.evaluate("(photos) => window.classifyAll(photos)", photos), expected)


def readme_map_code(model_download: Path) -> str:
    with zipfile.ZipFile(model_download) as archive:
        readme = archive.read("README.md").decode()
    blocks = re.findall(r"```js\n(.*?)```", readme, re.DOTALL)
    return next(block for block in blocks if "function whereItLooked(" in block)


def input_sized(photo: str, size: int) -> str:
    """A base64 PNG resized to size×size, as base64 PNG."""
    image = Image.open(io.BytesIO(base64.b64decode(photo))).convert("RGB")
    buffer = io.BytesIO()
    image.resize((size, size), Image.Resampling.BILINEAR).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def plain_site(directory: Path, model_download: Path) -> Path:
    """The download unzipped beside plain TF.js and the README's code (PLAIN_PAGE)."""
    directory.mkdir()
    with zipfile.ZipFile(model_download) as archive:
        archive.extractall(directory / "model")
    shutil.copyfile(TFJS, directory / "tf.min.js")
    (directory / "index.html").write_text(PLAIN_PAGE)
    (directory / "readme-map.js").write_text(readme_map_code(model_download))
    return directory


def test_plain_tfjs_following_the_readme_draws_the_pages_map(
    model_download, trained_page, tfjs_trained_page, page_trained, tmp_path, serve_site, open_page
):
    """The README's "Where the model looked" in plain TF.js gives the page's own "cam" map
    (teachkit.explain) for the same photos: the same numbers as a page whose base runs on TF.js
    (downloaded from that page: the same graph and head), and the same picture as the hosted
    default, whose base runs on LiteRT.js (an int8 model: a cell's vector is less exact than the
    mean of 49, so the maps differ more than the probabilities do)."""
    photos, expected = photos_and_page(page_trained)
    labels = list(expected[0])
    predicted = [max(e, key=e.get) for e in expected]
    # Two photos of each class, each explained for its predicted class and for the next one.
    picked = [i for label in labels for i in [j for j, p in enumerate(predicted) if p == label][:2]]
    # At the model's input size, so that both crop to the same pixels (the page's resampling and a
    # canvas's differ a little, which the probabilities hardly feel but single cells do).
    asked = [
        {"photo": input_sized(photos[i], 224), "className": name}
        for i in picked
        for name in (predicted[i], labels[(labels.index(predicted[i]) + 1) % len(labels)])
    ]

    def compare(download: Path, page) -> tuple[float, float]:
        """The smallest correlation and the largest difference (share of the page map's range)."""
        site = plain_site(tmp_path / download.stem, download)
        theirs = open_page(serve_site(site).url).page.evaluate("(asked) => window.mapsOf(asked)", asked)
        correlations, differences = [], []
        for a, b in zip(theirs, page.evaluate(PAGE_EXPLAIN, asked), strict=True):
            assert (a["rows"], a["cols"]) == (b["rows"], b["cols"]) == (7, 7)
            x, y = np.array(a["values"]), np.array(b["values"])
            correlations.append(float(np.corrcoef(x, y)[0, 1]))
            differences.append(float(np.abs(x - y).max() / (y.max() - y.min())))
        return min(correlations), max(differences)

    tfjs_download = tmp_path / "tfjs.teachkit-model.zip"
    tfjs_download.write_bytes(base64.b64decode(tfjs_trained_page.evaluate(API_BLOB_BASE64, "downloadModel")))
    same_graph, litert = compare(tfjs_download, tfjs_trained_page), compare(model_download, trained_page)
    print(
        f"\nREADME map vs the page's, {len(asked)} maps: TF.js page correlation ≥ {same_graph[0]:.6f}, "
        f"difference ≤ {same_graph[1]:.1e} of the range; LiteRT.js page ≥ {litert[0]:.4f}, ≤ {litert[1]:.3f}"
    )
    assert same_graph[0] >= 0.9999 and same_graph[1] <= 1e-3
    # Measured 0.936–0.941 (the largest cell difference up to a third of the range): the same
    # picture, not the same numbers.
    assert litert[0] >= 0.9


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
