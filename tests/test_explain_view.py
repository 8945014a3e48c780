"""Why the model answered, in Try it: the heatmap over the classified image and over the live
camera (with its data attributes), the class picker, the sentence for screen readers, the
occlusion test whose patch moves and whose Stop stops, all by keyboard and with no accessibility
violations."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .support.browser import record_traffic
from .support.pagekit import predict, wait_ready
from .support.visitor import import_project
from .test_layout import camera_browser, violations  # noqa: F401 (camera_browser: a fixture)

HEATMAP = '[data-testid="explain-heatmap"]'


@pytest.fixture(scope="module")
def trained(browser, surfaces_site, serve_site_module, page_trained, texture_files):
    """A page with page_trained()'s project opened and one held-out photo classified."""
    context = browser.new_context()
    session = record_traffic(context.new_page())
    session.page.goto(serve_site_module(surfaces_site).url)
    wait_ready(session.page)
    import_project(session.page, page_trained().project_file)
    photo = next(iter(texture_files.values()))["held-out"][0]
    predict(session.page, photo)
    yield session
    context.close()


def shown(page) -> None:
    """Turns the heatmap on by keyboard, as a student without a mouse would."""
    toggle = page.locator('[data-testid="explain-toggle"]')
    if toggle.get_attribute("aria-pressed") == "true":
        return
    toggle.focus()
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-pressed", "true")


def test_the_heatmap_covers_the_classified_image_and_follows_the_class_picker(trained):
    page = trained.page
    answer = page.locator('[data-testid="prediction"]').get_attribute("data-label")
    shown(page)
    heatmap = page.locator(HEATMAP)
    expect(heatmap).to_be_visible()
    expect(heatmap).to_have_attribute("data-class", answer)
    expect(heatmap).to_have_attribute("data-method", "cam")
    expect(heatmap).to_have_attribute("data-rows", "7")
    expect(heatmap).to_have_attribute("data-cols", "7")
    # Over the picture's square exactly: the model's centre crop.
    picture = page.locator('[data-testid="predicted-image"]').bounding_box()
    box = heatmap.bounding_box()
    assert abs(box["x"] - picture["x"]) < 1 and abs(box["width"] - picture["width"]) < 1, (box, picture)
    assert abs(box["y"] - picture["y"]) < 1 and abs(box["height"] - picture["height"]) < 1, (box, picture)
    sentence = page.locator('[data-testid="explain-sentence"]')
    expect(sentence).to_contain_text(f"Warmer squares pushed the answer towards {answer}. 7 × 7 regions.")
    expect(sentence).to_contain_text("Strongest evidence for")
    expect(sentence).to_have_attribute("aria-live", "polite")
    expect(page.locator('[data-testid="explain-legend"]')).to_contain_text("own range")

    picker = page.locator('[data-testid="explain-class"]')
    other = next(
        name
        for name in picker.locator("option").evaluate_all("(options) => options.map((o) => o.value)")
        if name and name != answer
    )
    picker.select_option(other)
    expect(heatmap).to_have_attribute("data-class", other)
    expect(sentence).to_contain_text(f"towards {other}.")
    picker.select_option("")  # back to the answer
    expect(heatmap).to_have_attribute("data-class", answer)

    assert violations(page) == []


# Notes every patch the heatmap draws (its data-patch) in window.patches; with `stop`, presses Stop
# as soon as the first patch is drawn (in the same task, before the workers answer again).
WATCH_PATCHES = """(stop) => {
  const heatmap = document.querySelector('[data-testid="explain-heatmap"]');
  const patches = [];
  window.patches = patches;
  window.patchWatch?.disconnect();
  window.patchWatch = new MutationObserver(() => {
    const patch = heatmap.dataset.patch;
    if (!patch || patch === patches.at(-1)) return;
    patches.push(patch);
    if (stop && patches.length === 1) document.querySelector('[data-testid="explain-stop"]').click();
  });
  window.patchWatch.observe(heatmap, { attributes: true, attributeFilter: ["data-patch"] });
}"""


def test_hiding_parts_moves_the_patch_stops_on_stop_and_ends_with_a_sentence(trained):
    page = trained.page
    shown(page)
    heatmap = page.locator(HEATMAP)
    start = page.locator('[data-testid="explain-occlusion"]')
    stop = page.locator('[data-testid="explain-stop"]')
    sentence = page.locator('[data-testid="explain-sentence"]')

    page.evaluate(WATCH_PATCHES, False)
    start.focus()
    page.keyboard.press("Enter")
    expect(heatmap).to_have_attribute("data-method", "occlusion", timeout=120_000)
    expect(heatmap).to_have_attribute("data-running", "false", timeout=120_000)
    expect(sentence).to_contain_text("Hiding")
    expect(sentence).to_contain_text("7 × 7 regions.")
    patches = page.evaluate("() => window.patches")
    assert len(set(patches)) == 49, patches  # the patch moved over every cell
    assert violations(page) == []

    page.evaluate(WATCH_PATCHES, True)
    start.click()
    expect(heatmap).to_have_attribute("data-running", "false", timeout=60_000)
    expect(start).to_be_visible()
    expect(stop).to_be_hidden()
    stopped = page.evaluate("() => window.patches")
    assert 1 <= len(stopped) < 49, stopped  # Stop stopped it


def test_the_heatmap_follows_the_live_camera(camera_browser, surfaces_site, serve_site, page_trained):  # noqa: F811
    context = camera_browser.new_context()
    try:
        page = context.new_page()
        page.goto(serve_site(surfaces_site).url)
        wait_ready(page)
        import_project(page, page_trained().project_file)
        page.click('[data-testid="live-toggle"]')
        expect(page.locator('[data-testid="prediction"]')).not_to_have_attribute(
            "data-count", "0", timeout=30_000
        )
        shown(page)
        heatmap = page.locator(HEATMAP)
        expect(heatmap).to_have_attribute("data-source", "live", timeout=30_000)
        expect(heatmap).to_be_visible()
        expect(heatmap).to_have_attribute("data-rows", "7")
        # A new map each frame is not read out each frame.
        expect(page.locator('[data-testid="explain-sentence"]')).to_have_attribute("aria-live", "off")
    finally:
        context.close()
