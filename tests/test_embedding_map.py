"""The map of the examples, on a page trained with real photos (Brick, Grass, Gravel): PCA and UMAP
both keep the classes apart, the current image's marker moves to the class it shows, the panel
works by keyboard and on a phone with no accessibility violations, and UMAP's worker runs in the
single file opened from file://."""

from __future__ import annotations

import math

import pytest
from playwright.sync_api import expect

from .support.browser import record_traffic
from .support.pagekit import wait_ready
from .support.visitor import import_project
from .test_layout import PHONE, violations
from .test_offline import open_file_offline

MAP = """(method) => window.teachkit.embeddingMap({ method })"""
SAMPLES = """() =>
  window.teachkit.samples().map(({ id, className, heldOut }) => ({ id, className, heldOut }))"""


def centroids(points: list[dict]) -> dict[str, tuple[float, float]]:
    sums: dict[str, list[float]] = {}
    for point in points:
        total = sums.setdefault(point["className"], [0.0, 0.0, 0])
        total[0] += point["x"]
        total[1] += point["y"]
        total[2] += 1
    return {name: (x / n, y / n) for name, (x, y, n) in sums.items()}


def nearest_class(centres: dict[str, tuple[float, float]], x: float, y: float) -> str:
    return min(centres, key=lambda name: math.dist(centres[name], (x, y)))


def agreement(points: list[dict]) -> float:
    """The share of points whose nearest class centroid is their own class's."""
    centres = centroids(points)
    return sum(nearest_class(centres, p["x"], p["y"]) == p["className"] for p in points) / len(points)


def open_panel(page) -> None:
    panel = page.locator('[data-testid="embedding-map-panel"]')
    panel.locator("summary").first.click()
    expect(page.locator('[data-testid="embedding-map"]')).to_have_attribute("data-points", "60")


def predict_file(page, photo) -> None:
    """Chooses a photo in Try it, as a person would."""
    output = page.locator('[data-testid="prediction"]')
    count = int(output.get_attribute("data-count"))
    page.set_input_files('[data-testid="predict-upload"]', str(photo))
    expect(output).to_have_attribute("data-count", str(count + 1), timeout=30_000)


@pytest.fixture(scope="module")
def trained(browser, surfaces_site, serve_site_module, page_trained):
    """One trained page (the project file of page_trained(): 60 samples), shared by the tests below."""
    context = browser.new_context()
    session = record_traffic(context.new_page())
    session.page.goto(serve_site_module(surfaces_site).url)
    wait_ready(session.page)
    import_project(session.page, page_trained().project_file)
    yield session
    context.close()


def test_pca_and_umap_maps_keep_the_classes_apart(trained):
    page = trained.page
    samples = {sample["id"]: sample for sample in page.evaluate(SAMPLES)}
    found = {}
    for method in ("pca", "umap"):
        result = page.evaluate(MAP, method)
        assert result["method"] == method
        points = result["points"]
        assert len(points) == 60
        assert {p["sampleId"]: (p["className"], p["heldOut"]) for p in points} == {
            id: (s["className"], s["heldOut"]) for id, s in samples.items()
        }
        assert all(math.isfinite(p["x"]) and math.isfinite(p["y"]) for p in points)
        found[method] = agreement(points)
    print(f"nearest-centroid agreement: PCA {found['pca']:.3f}, UMAP {found['umap']:.3f}")
    assert found["pca"] >= 0.9 and found["umap"] >= 0.9, found
    assert sum(s["heldOut"] for s in samples.values()) == 9  # 15 % of 20 per class
    with pytest.raises(Exception, match="bad_argument|pca"):
        page.evaluate(MAP, "tsne")
    assert trained.console_errors == []


def test_the_current_image_moves_into_its_class_region(trained, texture_files):
    page = trained.page
    open_panel(page)
    canvas = page.locator('[data-testid="embedding-map"]')
    expect(canvas).to_have_attribute("data-method", "pca")
    for texture, name in (("grass", "Grass"), ("brick", "Brick")):
        predict_file(page, texture_files[texture]["held-out"][0])
        result = page.evaluate(MAP, "pca")
        current = result["current"]
        assert current is not None
        centres = centroids(result["points"])
        assert nearest_class(centres, current["x"], current["y"]) == name, (current, centres)
        expect(canvas).to_have_attribute("data-current-class", name)
        assert float(canvas.get_attribute("data-current-x")) == pytest.approx(current["x"], abs=1e-6)
        assert float(canvas.get_attribute("data-current-y")) == pytest.approx(current["y"], abs=1e-6)
        expect(page.locator('[data-testid="embedding-map-summary"]')).to_contain_text(name)

    # Refined with UMAP on request: the marker sits among the current image's nearest samples.
    page.click('[data-testid="embedding-map-refine"]')
    expect(canvas).to_have_attribute("data-method", "umap", timeout=60_000)
    expect(page.locator('[data-testid="embedding-map-panel"]')).to_have_attribute("data-umap", "done")
    expect(canvas).to_have_attribute("data-current-class", "Brick")
    predict_file(page, texture_files["grass"]["held-out"][1])
    expect(canvas).to_have_attribute("data-current-class", "Grass")
    result = page.evaluate(MAP, "umap")
    centres = centroids(result["points"])
    assert nearest_class(centres, result["current"]["x"], result["current"]["y"]) == "Grass"

    # The samples change: the PCA follows at once, the UMAP map waits to be asked again.
    page.evaluate("(id) => window.teachkit.deleteSample(id)", result["points"][0]["sampleId"])
    expect(canvas).to_have_attribute("data-points", "59")
    expect(canvas).to_have_attribute("data-method", "pca")
    expect(page.locator('[data-testid="embedding-map-refine"]')).to_have_text("Refine with UMAP")
    page.evaluate("() => window.teachkit.undo()")
    expect(canvas).to_have_attribute("data-points", "60")
    assert trained.console_errors == []


def test_the_map_by_keyboard_on_a_phone(
    browser, surfaces_site, serve_site_module, page_trained, texture_files
):
    context = browser.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(serve_site_module(surfaces_site).url)
        wait_ready(page)
        import_project(page, page_trained().project_file)
        predict_file(page, texture_files["gravel"]["held-out"][0])
        panel = page.locator('[data-testid="embedding-map-panel"]')
        panel.locator("summary").first.focus()
        page.keyboard.press("Enter")
        canvas = page.locator('[data-testid="embedding-map"]')
        expect(canvas).to_have_attribute("data-points", "60")
        expect(canvas).to_have_attribute("data-current-class", "Gravel")
        # The refine button, then the map itself: the arrow keys show one example after another.
        page.keyboard.press("Tab")
        expect(page.locator('[data-testid="embedding-map-refine"]')).to_be_focused()
        page.keyboard.press("Tab")
        expect(canvas).to_be_focused()
        page.keyboard.press("ArrowRight")
        tip = page.locator('[data-testid="embedding-map-tip"]')
        expect(tip).to_be_visible()
        expect(tip.locator("figcaption")).to_contain_text("Brick")
        assert tip.locator("img").evaluate("(image) => image.complete && image.naturalWidth > 0")
        page.keyboard.press("Escape")
        expect(tip).to_be_hidden()
        # The table alternative, next in the tab order: every class with its centre and points.
        page.keyboard.press("Tab")
        table_summary = panel.locator(".map-table > summary")
        expect(table_summary).to_be_focused()
        page.keyboard.press("Enter")
        table = page.locator('[data-testid="embedding-map-table"]')
        expect(table).to_be_visible()
        expect(table).to_have_attribute("data-classes", "3")
        rows = table.locator("tr[data-class-name]")
        assert rows.evaluate_all("(rows) => rows.map((row) => row.dataset.className)") == [
            "Brick",
            "Grass",
            "Gravel",
        ]
        assert rows.locator("td:nth-of-type(1)").all_text_contents() == ["20", "20", "20"]
        assert violations(page) == []
        width = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert width[0] <= width[1], width
    finally:
        context.close()


def test_umap_runs_in_the_single_file_from_file_url(playwright, surfaces_single_file, page_trained, tmp_path):
    context, session = open_file_offline(playwright, tmp_path / "profile", surfaces_single_file)
    try:
        page = session.page
        import_project(page, page_trained().project_file)
        open_panel(page)
        page.click('[data-testid="embedding-map-refine"]')
        canvas = page.locator('[data-testid="embedding-map"]')
        expect(canvas).to_have_attribute("data-method", "umap", timeout=60_000)
        found = agreement(page.evaluate(MAP, "umap")["points"])
        print(f"single file, UMAP nearest-centroid agreement: {found:.3f}")
        assert found >= 0.9
        assert [url for url in session.requests if not url.startswith(("file:", "data:", "blob:"))] == []
        assert session.console_errors == []
    finally:
        context.close()
