"""Sites built with a model the page trained (`teachkit build --trained FILE`): they open ready to
predict, hosted and as a single file from file://, in both page modes; a file from another base
model, or predict mode without a model, is refused."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .support.pagekit import PROJECT, card, wait_ready
from .support.site import run_cli, write_project

PREDICT_ONLY = PROJECT + '\n[page]\nmode = "predict"\n'


def built(tmp_path: Path, text: str, *extra) -> Path:
    project = write_project(tmp_path, text)
    result = run_cli("build", project, "-o", tmp_path / "dist", *extra)
    assert result.exit_code == 0, result.output
    return tmp_path / "dist"


def predicts_like_the_page(page, predictions) -> None:
    """Predicts every held-out photo through the page's own upload; the labels are the page's."""
    output = page.locator('[data-testid="prediction"]')
    labels = []
    for photo, _, _ in predictions:
        count = int(output.get_attribute("data-count"))
        page.set_input_files('[data-testid="predict-upload"]', str(photo))
        expect(output).to_have_attribute("data-count", str(count + 1), timeout=30_000)
        labels.append(output.get_attribute("data-label"))
    agree = sum(label == theirs for label, (_, theirs, _) in zip(labels, predictions, strict=True))
    assert agree / len(predictions) >= 0.97


@pytest.mark.parametrize("mode", ["teach", "predict"])
def test_a_hosted_site_opens_trained(mode, tmp_path, lite0_sites, page_trained, serve_site, open_page):
    lite0_sites("auto")
    trained = page_trained()
    site = built(tmp_path, PROJECT if mode == "teach" else PREDICT_ONLY, "--trained", trained.project_file)
    session = open_page(serve_site(site).url)
    page = session.page
    wait_ready(page)
    if mode == "teach":
        expect(page.locator('[data-testid="train-status"]')).to_have_attribute("data-state", "done")
        expect(card(page, "Brick").locator('[data-testid="sample-count"]')).to_have_text(
            "0"
        )  # no samples shipped
    else:
        expect(page.locator('[data-testid="class"]')).to_have_count(0)
        expect(page.locator('[data-testid="train"]')).to_have_count(0)
    predicts_like_the_page(page, trained.predictions[::3])
    assert session.foreign_requests(session.page.url.rsplit("/", 1)[0]) == []
    assert session.console_errors == []


def test_with_samples_ships_the_examples_too(tmp_path, lite0_sites, page_trained, serve_site, open_page):
    lite0_sites("auto")
    site = built(tmp_path, PROJECT, "--trained", page_trained().project_file, "--with-samples")
    page = open_page(serve_site(site).url).page
    wait_ready(page)
    expect(card(page, "Grass").locator('[data-testid="sample-count"]')).to_have_text("20")
    expect(card(page, "Grass").locator('[data-testid="thumbnails"] img')).to_have_count(20)


def test_a_single_file_opens_trained_from_file_url(tmp_path, lite0_sites, page_trained, browser):
    lite0_sites("auto")
    trained = page_trained("knn")  # a kNN head travels with its samples' embeddings
    output = built(tmp_path, PREDICT_ONLY, "--trained", trained.project_file, "--single-file")
    context = browser.new_context()
    try:
        page = context.new_page()
        requests = []
        page.on("request", lambda request: requests.append(request.url))
        page.goto(next(output.glob("*.html")).as_uri())
        wait_ready(page)
        predicts_like_the_page(page, trained.predictions[::4])
        assert [url for url in requests if not url.startswith(("file:", "data:", "blob:"))] == []
    finally:
        context.close()


def test_refusals(tmp_path, lite0_sites, page_trained):
    lite0_sites("auto")
    project = write_project(tmp_path / "predict", PREDICT_ONLY)
    result = run_cli("build", project, "-o", tmp_path / "predict" / "dist")
    assert result.exit_code == 1
    assert 'page.mode = "predict"' in result.output and "--trained" in result.output
    assert not (tmp_path / "predict" / "dist").exists()

    other = tmp_path / "other.teachkit.zip"
    with zipfile.ZipFile(page_trained().project_file) as source, zipfile.ZipFile(other, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "teachkit-project.json":
                manifest = json.loads(data)
                manifest["base"] = {**manifest["base"], "base": "mobilenet_v2", "embedding_size": 1280}
                data = json.dumps(manifest).encode()
            target.writestr(item, data)
    project = write_project(tmp_path / "teach", PROJECT)
    result = run_cli("build", project, "-o", tmp_path / "teach" / "dist", "--trained", other)
    assert result.exit_code == 1
    assert "mobilenet_v2" in result.output and "efficientnet_lite0" in result.output
    assert not (tmp_path / "teach" / "dist").exists()
