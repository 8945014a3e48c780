"""What the base model sees: the page's ImageNet top 5 with WordNet names, definitions and hypernym
paths, fetched only when its panel opens, and the same classes as Keras's own classifier on the
probe photos."""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from builder.models.efficientnet_lite0 import weights_file
from builder.models.torch_legacy import read_state_dict
from builder.probes import probe_images, probe_pixels
from builder.synsets import SYNSETS_JSON

from .support.browser import record_traffic
from .support.pagekit import predict, wait_ready
from .test_layout import violations

TOP_K = """async ({ photo, k }) => {
  const bytes = Uint8Array.from(atob(photo), (c) => c.charCodeAt(0));
  return window.teachkit.baseModelTopK(new Blob([bytes], { type: "image/png" }), k);
}"""
CATS = {"Egyptian cat", "tabby", "tiger cat"}


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> dict[str, object]:
    """The probe photos as PNG files."""
    folder = tmp_path_factory.mktemp("probes")
    paths = {}
    for name, pixels in probe_images().items():
        paths[name] = folder / f"{name}.png"
        Image.fromarray(pixels).save(paths[name])
    return paths


def keras_top5(site) -> dict[str, list[str]]:
    """Keras's own classifier on the float Keras embeddings the build recorded: name → top 5 ids."""
    state = read_state_dict(weights_file())
    kernel, bias = state["_fc.weight"].T.astype(np.float32), state["_fc.bias"].astype(np.float32)
    embeddings = json.loads((site / "manifest.json").read_text())["probe_embeddings"]
    ids = [entry["id"] for entry in json.loads(SYNSETS_JSON.read_text())["synsets"]]
    return {
        name: [ids[index] for index in np.argsort(-(np.asarray(vector) @ kernel + bias))[:5]]
        for name, vector in embeddings.items()
    }


def encoded(path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def test_the_panel_names_what_the_base_model_sees_and_loads_only_when_opened(
    browser, surfaces_site, serve_site, photos
):
    context = browser.new_context()
    try:
        session = record_traffic(context.new_page())
        page = session.page
        page.goto(serve_site(surfaces_site).url)
        wait_ready(page)
        assert [url for url in session.requests if "/imagenet/" in url] == []
        panel = page.locator('[data-testid="imagenet-panel"]')
        panel.locator("> summary").click()
        expect(panel).to_have_attribute("data-status", "ready", timeout=30_000)
        assert sorted(url.rsplit("/", 1)[1] for url in session.requests if "/imagenet/" in url) == [
            "classifier.bin",
            "classifier.json",
            "synsets.json",
        ]
        # Not trained yet: the panel's own chooser, as a student exploring would use it.
        page.set_input_files('[data-testid="imagenet-upload"]', str(photos["chelsea"]))
        top = panel.locator('[data-testid="imagenet-top"] li')
        expect(top).to_have_count(5, timeout=30_000)
        assert top.first.locator("strong").text_content() in CATS
        expect(top.first.locator(".hypernyms")).to_contain_text("→ feline →")
        expect(top.first.locator(".definition")).to_contain_text("cat")
        expect(panel.locator('[data-testid="imagenet-licence"]')).to_contain_text(
            "WordNet 3.0 Copyright 2006"
        )
        assert violations(page) == []
    finally:
        context.close()


@pytest.mark.parametrize("quantization", ["float16", "auto"])
def test_the_top_5_agree_with_keras_on_the_probe_photos(
    browser, lite0_sites, serve_site, tmp_path, quantization
):
    """With a float16 base model, what the page's ImageNet classifier adds is measured alone: top-1
    on every probe and at least 4 of Keras's top 5. The default ("auto", partly uint8) base keeps
    the top-1; its overlap is printed (a flat texture's low ranks may swap)."""
    site = lite0_sites(quantization)
    # The very pixels Keras saw (cropped and resized in Python), so only the page's model and its
    # classifier can differ, not how a canvas resamples a photo.
    names, pixels = probe_pixels(224)
    crops = {}
    for name, crop in zip(names, pixels, strict=True):
        crops[name] = tmp_path / f"{name}.png"
        Image.fromarray(crop.astype(np.uint8)).save(crops[name])
    reference = keras_top5(site)
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(serve_site(site).url)
        wait_ready(page)
        overlaps = {}
        for name, path in crops.items():
            top = page.evaluate(TOP_K, {"photo": encoded(path), "k": 5})
            assert [entry["synset"] for entry in top][0] == reference[name][0], name
            overlaps[name] = len({entry["synset"] for entry in top} & set(reference[name]))
            probabilities = [entry["probability"] for entry in top]
            assert probabilities == sorted(probabilities, reverse=True) and 0 < sum(probabilities) <= 1.0001
        print(f"top-5 overlap with Keras ({quantization} base):", overlaps)
        if quantization == "float16":
            assert min(overlaps.values()) >= 4
        coffee = {
            entry["name"] for entry in page.evaluate(TOP_K, {"photo": encoded(crops["coffee"]), "k": 5})
        }
        assert coffee & {"espresso", "cup", "coffee mug"}
    finally:
        context.close()


def test_the_panel_follows_the_image_classified_in_try_it(
    browser, surfaces_site, serve_site, photos, page_trained
):
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(serve_site(surfaces_site).url)
        wait_ready(page)
        page.set_input_files('[data-testid="import-project"]', str(page_trained().project_file))
        expect(page.locator('[data-testid="message"]')).to_contain_text("Imported", timeout=60_000)
        panel = page.locator('[data-testid="imagenet-panel"]')
        panel.locator("> summary").click()
        expect(panel).to_have_attribute("data-status", "ready", timeout=30_000)
        top = panel.locator('[data-testid="imagenet-top"] li')
        for photo, expected in (("chelsea", CATS), ("coffee", {"espresso", "cup", "coffee mug"})):
            predict(page, photos[photo])
            expect(top.first.locator("strong")).to_have_text(re.compile("^(" + "|".join(expected) + ")$"))
        # Closed, the panel costs live prediction nothing: it no longer follows the image.
        shown = top.first.locator("strong").text_content()
        panel.locator("> summary").click()
        predict(page, photos["chelsea"])
        assert top.first.locator("strong").text_content() == shown
        panel.locator("> summary").click()  # opened again: the current image at once
        expect(top.first.locator("strong")).to_have_text(re.compile("^(" + "|".join(CATS) + ")$"))
    finally:
        context.close()


def test_the_single_file_carries_the_classifier(browser, surfaces_single_file, photos):
    context = browser.new_context()
    try:
        session = record_traffic(context.new_page())
        page = session.page
        page.goto(surfaces_single_file.as_uri())
        wait_ready(page)
        panel = page.locator('[data-testid="imagenet-panel"]')
        panel.locator("> summary").click()
        expect(panel).to_have_attribute("data-status", "ready", timeout=30_000)
        page.set_input_files('[data-testid="imagenet-upload"]', str(photos["chelsea"]))
        top = panel.locator('[data-testid="imagenet-top"] li')
        expect(top).to_have_count(5, timeout=30_000)
        assert top.first.locator("strong").text_content() in CATS
        assert [url for url in session.requests if not url.startswith(("file:", "data:", "blob:"))] == []
    finally:
        context.close()


def test_the_synsets_are_what_the_generator_makes_from_the_packaged_sources():
    from builder.synsets import make_synsets

    shipped = json.loads(SYNSETS_JSON.read_text())
    assert shipped == make_synsets()
    assert len(shipped["synsets"]) == 1000
    assert shipped["synsets"][285]["name"] == "Egyptian cat"
    assert "feline" in shipped["synsets"][285]["path"]
