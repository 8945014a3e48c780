"""The teaching page, driven in headless Chromium as a visitor would: upload, train, look at the
curves and the confusion matrix, predict, reload, break things. No request may leave the page's
origin in any of it."""

from __future__ import annotations

from urllib.parse import urljoin

from playwright.sync_api import expect

from .support.images import TEXTURES, broken_files, large_photo
from .support.pagekit import CLASS_OF, accuracy, card, collect_and_train, predict, train, upload, wait_ready
from .support.site import build_project, copy_tree


def test_upload_train_and_predict_held_out_photos(surfaces_site, serve_site, open_page, texture_files):
    server = serve_site(surfaces_site)
    session = open_page(server.url)
    page = session.page

    collect_and_train(page, texture_files)

    held_out = sum(len(files["held-out"]) for files in texture_files.values())
    assert held_out >= 30
    assert accuracy(page, texture_files) >= 0.9
    # The learning curves hold one point per epoch (defaults: 50), for training and validation.
    for chart in ("chart-loss", "chart-accuracy"):
        expect(page.locator(f'[data-testid="{chart}"]')).to_have_attribute("data-points", "50")
    matrix = page.locator('[data-testid="confusion-matrix"]')
    expect(matrix).to_have_attribute("data-classes", "3")
    assert matrix.locator("tr").count() == 4  # header + one row per class
    assert matrix.locator("th[scope=col]").all_text_contents() == [
        "actual \\ predicted",
        "Brick",
        "Grass",
        "Gravel",
    ]
    validation = sum(int(cell) for cell in matrix.locator("td").all_text_contents())
    assert validation == 9  # 15 % of 20 per class, stratified
    expect(page.locator('[data-testid="per-class-accuracy"]')).to_have_attribute("data-classes", "3")
    # The explanation: the nearest training samples are shown next to the prediction.
    assert page.locator('[data-testid="neighbors"] img').count() == 3
    assert page.locator('[data-testid="prediction-bars"] li').count() == 3
    assert session.foreign_requests(server.url) == []
    assert session.console_errors == []


def test_the_grid_keeps_the_newest_40_thumbnails_numbered_within_their_class(
    surfaces_site, ready_page, texture_files
):
    """Past 40 samples the oldest leave the grid; each thumbnail keeps its number in the class while
    newer ones arrive, and deleting one renumbers those after it."""
    page = ready_page(surfaces_site).page
    files = [
        *texture_files["brick"]["train"],
        *texture_files["grass"]["train"],
        *texture_files["gravel"]["train"][:5],
    ]
    upload(page, "Brick", files, 45)
    grid = card(page, "Brick").locator('[data-testid="thumbnails"]')

    def numbers() -> list[int]:
        labels = grid.locator(".thumb").evaluate_all("(buttons) => buttons.map((b) => b.ariaLabel)")
        assert all(label.endswith(" of Brick; press Delete to remove it") for label in labels), labels
        return [int(label.split()[1]) for label in labels]

    assert numbers() == list(range(6, 46))
    expect(card(page, "Brick").locator(".more")).to_have_text("…and 5 more")
    assert grid.locator('.thumb[tabindex="0"]').get_attribute("aria-label").startswith("Sample 45 ")

    grid.locator(".remove").nth(24).click()  # sample 30
    expect(card(page, "Brick").locator('[data-testid="sample-count"]')).to_have_text("44")
    expect(card(page, "Brick").locator(".more")).to_have_text("…and 4 more")
    assert numbers() == list(range(5, 45))


def test_reload_restores_samples_and_the_trained_head(surfaces_site, serve_site, open_page, texture_files):
    server = serve_site(surfaces_site)
    session = open_page(server.url)
    page = session.page
    collect_and_train(page, texture_files)

    page.reload()
    wait_ready(page)

    for texture in TEXTURES:
        expect(card(page, CLASS_OF[texture]).locator('[data-testid="sample-count"]')).to_have_text("20")
        assert card(page, CLASS_OF[texture]).locator('[data-testid="thumbnails"] img').count() == 20
    expect(page.locator('[data-testid="train-status"]')).to_have_attribute("data-state", "done")
    expect(page.locator('[data-testid="confusion-matrix"]')).to_have_attribute("data-classes", "3")
    assert accuracy(page, texture_files) >= 0.9  # no retraining
    assert session.foreign_requests(server.url) == []


def test_class_names_are_text_never_html(tmp_path, lite0_sites, serve_site, open_page, texture_files):
    lite0_sites("auto")
    hostile = "<img src=x onerror=alert(1)>"
    site = build_project(
        tmp_path,
        f'title = "</title><script>alert(2)</script>"\nclasses = ["{hostile}", "B&amp;"]\n',
    )
    server = serve_site(site)
    session = open_page(server.url)
    page = session.page
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    wait_ready(page)

    expect(card(page, hostile)).to_have_count(1)
    expect(card(page, "B&amp;")).to_have_count(1)
    name_input = card(page, "B&amp;").locator("input.class-name")
    name_input.fill('"><svg onload=alert(3)>')
    name_input.press("Enter")
    expect(card(page, '"><svg onload=alert(3)>')).to_have_count(1)
    upload(page, hostile, texture_files["brick"]["train"][:2], 2)
    upload(page, '"><svg onload=alert(3)>', texture_files["grass"]["train"][:2], 2)
    train(page)
    label, _ = predict(page, texture_files["brick"]["held-out"][0])

    assert label in {hostile, '"><svg onload=alert(3)>'}
    assert page.title() == "</title><script>alert(2)</script>"
    assert dialogs == []
    assert page.locator("img[src=x], svg[onload]").count() == 0
    assert session.foreign_requests(server.url) == []


def test_unreadable_files_are_named_and_nothing_else_changes(
    surfaces_site, ready_page, texture_files, tmp_path
):
    session = ready_page(surfaces_site)
    page = session.page
    origin = urljoin(page.url, "/")  # the server's root, as serve_site gave it
    upload(page, "Brick", texture_files["brick"]["train"][:3], 3)
    broken = broken_files(tmp_path / "broken")

    card(page, "Brick").locator('[data-testid="sample-upload"]').set_input_files(
        [str(f) for f in broken.values()]
    )

    message = page.locator('[data-testid="message"]')
    expect(message).to_contain_text("Added 0 of 4 files.", timeout=30_000)
    for name in ("notes.txt", "empty.png", "truncated.png", "drawing.svg"):
        expect(message).to_contain_text(f'"{name}"')
    expect(message).to_have_attribute("role", "alert")
    expect(card(page, "Brick").locator('[data-testid="sample-count"]')).to_have_text("3")

    upload(page, "Brick", [large_photo(tmp_path)], 4)  # a 12-megapixel photo is fine
    upload(page, "Grass", texture_files["grass"]["train"][:3], 3)
    upload(page, "Gravel", texture_files["gravel"]["train"][:3], 3)
    train(page)
    page.set_input_files('[data-testid="predict-upload"]', str(broken["truncated"]))
    expect(message).to_contain_text('"truncated.png" is not an image this browser can read')
    expect(page.locator('[data-testid="prediction"]')).to_have_attribute("data-count", "0")
    assert predict(page, texture_files["grass"]["held-out"][0])[0] == "Grass"
    assert session.console_errors == []
    assert session.foreign_requests(origin) == []


def test_training_needs_samples_in_every_class(surfaces_site, ready_page, texture_files):
    session = ready_page(surfaces_site)
    page = session.page
    upload(page, "Brick", texture_files["brick"]["train"][:2], 2)

    page.click('[data-testid="train"]')

    expect(page.locator('[data-testid="train-status"]')).to_have_attribute("data-state", "error")
    expect(page.locator('[data-testid="message"]')).to_have_text(
        'Add examples to "Grass", "Gravel" first: every class needs at least one sample to train.'
    )
    assert session.console_errors == []


def test_add_rename_clear_and_delete_classes(surfaces_site, ready_page, texture_files):
    session = ready_page(surfaces_site)
    page = session.page

    page.click('[data-testid="add-class"]')
    expect(card(page, "Class 4")).to_have_count(1)
    card(page, "Class 4").locator("input.class-name").fill("Sand")
    card(page, "Class 4").locator("input.class-name").press("Enter")
    expect(card(page, "Sand")).to_have_count(1)
    card(page, "Gravel").locator("input.class-name").fill("sand")  # names differ ignoring case
    card(page, "Gravel").locator("input.class-name").press("Enter")
    expect(page.locator('[data-testid="message"]')).to_have_text('There is already a class named "sand".')

    expect(card(page, "Gravel").locator("input.class-name")).to_have_value("Gravel")  # a refused name reverts
    upload(page, "Sand", texture_files["gravel"]["train"][:4], 4)

    sand = card(page, "Sand")
    sand.get_by_role("button", name="More for Sand").click()  # the destructive actions sit in a menu
    sand.get_by_role("button", name="Clear samples").click()
    expect(sand.locator('[data-testid="sample-count"]')).to_have_text("0")

    sand.get_by_role("button", name="More for Sand").click()
    sand.get_by_role("button", name="Delete class").click()
    expect(card(page, "Sand")).to_have_count(0)
    expect(page.locator('[data-testid="class"]')).to_have_count(3)

    page.reload()  # the class list itself is stored too
    wait_ready(page)
    expect(page.locator('[data-testid="class"]')).to_have_count(3)
    assert session.console_errors == []


# Chromium's CDP quota override (Storage.overrideQuotaForOrigin) has no effect on IndexedDB in this
# version, so the disk fills up the way the browser reports it: the transaction aborts with a
# QuotaExceededError.
FILL_THE_DISK = """() => {
  const put = IDBObjectStore.prototype.put;
  const full = new WeakSet();
  IDBObjectStore.prototype.put = function (...args) {
    const transaction = this.transaction;
    const request = put.apply(this, args);
    if (this.name === "samples" && !full.has(transaction)) {
      full.add(transaction);
      const message = "The current transaction exceeded its quota limitations.";
      Object.defineProperty(transaction, "error", { value: new DOMException(message, "QuotaExceededError") });
      queueMicrotask(() => transaction.abort());
    }
    return request;
  };
}"""


def test_full_storage_is_reported_and_stored_samples_survive(surfaces_site, ready_page, texture_files):
    session = ready_page(surfaces_site)
    page = session.page
    origin = urljoin(page.url, "/")  # the server's root, as serve_site gave it
    upload(page, "Brick", texture_files["brick"]["train"][:3], 3)
    page.evaluate(FILL_THE_DISK)

    card(page, "Grass").locator('[data-testid="sample-upload"]').set_input_files(
        [str(f) for f in texture_files["grass"]["train"][:3]]
    )

    expect(page.locator('[data-testid="message"]')).to_contain_text(
        "storage for this page is full", timeout=30_000
    )
    expect(card(page, "Grass").locator('[data-testid="sample-count"]')).to_have_text("0")
    expect(card(page, "Brick").locator('[data-testid="sample-count"]')).to_have_text("3")
    page.reload()
    wait_ready(page)
    expect(card(page, "Brick").locator('[data-testid="sample-count"]')).to_have_text("3")
    expect(card(page, "Grass").locator('[data-testid="sample-count"]')).to_have_text("0")
    assert session.foreign_requests(origin) == []


def test_nearest_neighbour_head_from_the_advanced_settings(surfaces_site, ready_page, texture_files):
    session = ready_page(surfaces_site)
    page = session.page
    for texture, files in texture_files.items():
        upload(page, CLASS_OF[texture], files["train"], 20)
    page.get_by_text("Advanced settings").click()
    page.select_option('[data-testid="setting-type"]', "knn")
    page.fill('[data-testid="setting-k"]', "3")
    page.press('[data-testid="setting-k"]', "Enter")

    train(page)

    assert accuracy(page, texture_files) >= 0.9
    expect(page.locator('[data-testid="confusion-matrix"]')).to_have_attribute("data-classes", "3")
    fraction = page.locator('[data-testid="setting-validation_fraction"]')
    fraction.fill("0.9")
    fraction.press("Enter")
    expect(page.locator('[data-testid="message"]')).to_have_text(
        "Held back for checking must be from 0 to 0.5."
    )
    expect(fraction).to_have_value("0.15")


def test_theme_logo_and_texts_reach_the_page(tmp_path, lite0_sites, ready_page):
    from PIL import Image

    lite0_sites("auto")
    Image.new("RGB", (120, 60), (200, 40, 40)).save(tmp_path / "logo.png")
    site = build_project(
        tmp_path,
        'title = "Leaves"\nclasses = ["Oak", "Maple"]\n[theme]\nprimary_color = "#0a7d32"\n'
        'background_color = "#fffdf5"\ntext_color = "#222222"\nlogo = "logo.png"\n'
        'intro = "Show the camera a leaf."\nfooter = "Made for class 7b"\n',
    )
    session = ready_page(site)
    page = session.page

    logo = page.locator("img.logo")
    assert logo.evaluate("img => img.naturalWidth") == 120
    header_border = page.locator(".site-header").evaluate("e => getComputedStyle(e).borderBottomColor")
    assert header_border == "rgb(10, 125, 50)"
    assert page.locator("body").evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(255, 253, 245)"
    expect(page.locator(".intro")).to_have_text("Show the camera a leaf.")
    expect(page.locator("footer .footer-text")).to_have_text("Made for class 7b")
    assert page.title() == "Leaves"


def test_page_embeds_on_its_own_thread_when_workers_cannot_start(
    surfaces_site, ready_page, texture_files, tmp_path
):
    """A host missing the workers' script (or a browser refusing workers) costs speed, not the page."""
    site = copy_tree(surfaces_site, tmp_path / "site")
    (site / "tfjs-worker.js").unlink()
    (site / "litert-worker.js").unlink(missing_ok=True)  # the site's base model runs on LiteRT.js
    session = ready_page(site)
    page = session.page
    origin = urljoin(page.url, "/")  # the server's root, as serve_site gave it
    backend = page.locator('[data-testid="backend"]')
    expect(backend).to_have_attribute("data-workers", "0")
    expect(backend).to_contain_text("base model on the page (no worker:")
    for texture, files in texture_files.items():
        upload(page, CLASS_OF[texture], files["train"][:8], 8)
    train(page)
    assert predict(page, texture_files["brick"]["held-out"][0])[0] == "Brick"
    assert session.foreign_requests(origin) == []
