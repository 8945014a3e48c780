"""What the page keeps and how it keeps it consistent: every sample stored as soon as it is shown,
the visitor's settings across reloads, two tabs of one page, undo after a delete, and an honest
evaluation. Driven through the page's controls and window.teachkit only."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
from pathlib import Path
from urllib.parse import urljoin

from playwright.sync_api import expect

from .support.browser import record_traffic
from .support.images import large_photo
from .support.pagekit import card, upload, wait_ready
from .support.site import copy_tree

SAMPLE_IDS = "() => window.teachkit.samples().map((sample) => sample.id)"
CLASSES = "() => window.teachkit.classes()"
STATUS = "() => window.teachkit.status()"
SETTINGS = "() => window.teachkit.settings()"
# A call's failure as its error code, so the test can look at it (null: it succeeded).
UNDO_CODE = """async () => {
  try { await window.teachkit.undo(); return null; } catch (error) { return error.code; }
}"""


def count_of(page, name: str):
    return card(page, name).locator('[data-testid="sample-count"]')


def eventually(read, expected, timeout: float = 10.0):
    """Polls `read()` (a page.evaluate) until it returns `expected`; returns the last value."""
    deadline = time.monotonic() + timeout
    value = read()
    while value != expected and time.monotonic() < deadline:
        time.sleep(0.1)
        value = read()
    return value


def photos(directory: Path, count: int) -> list[Path]:
    """`count` 12-megapixel photos: slow enough to decode that a reload lands in the middle."""
    first = large_photo(directory)
    copies = [first]
    for index in range(1, count):
        copies.append(directory / f"photo-{index}.jpg")
        shutil.copy(first, copies[-1])
    return copies


def test_a_reload_while_adding_images_keeps_every_sample_already_shown(surfaces_site, ready_page, tmp_path):
    session = ready_page(surfaces_site)
    page = session.page
    origin = urljoin(page.url, "/")  # the server's root, as serve_site gave it
    files = photos(tmp_path, 20)

    card(page, "Brick").locator('[data-testid="sample-upload"]').set_input_files([str(f) for f in files])
    expect(count_of(page, "Brick")).to_have_text(re.compile(r"^([3-9]|1[0-9])$"), timeout=60_000)
    shown = page.evaluate(SAMPLE_IDS)
    page.reload()

    wait_ready(page)
    kept = page.evaluate(SAMPLE_IDS)
    assert 3 <= len(shown) < 20  # the reload came in the middle of adding
    assert set(shown) <= set(kept)
    assert int(count_of(page, "Brick").text_content()) == len(kept) >= len(shown)
    assert session.foreign_requests(origin) == []


def test_settings_survive_a_reload(surfaces_site, ready_page):
    session = ready_page(surfaces_site)
    page = session.page

    page.evaluate("async () => window.teachkit.setSettings({training: {epochs: 7}})")
    page.get_by_text("Advanced settings").click()
    page.select_option('[data-testid="setting-type"]', "knn")
    neighbours = page.locator('[data-testid="setting-k"]')
    neighbours.fill("5")
    neighbours.press("Enter")
    assert eventually(lambda: page.evaluate(SETTINGS)["head"]["k"], 5) == 5
    page.reload()

    wait_ready(page)
    settings = page.evaluate(SETTINGS)
    assert settings["training"]["epochs"] == 7
    assert settings["head"]["type"] == "knn"
    assert settings["head"]["k"] == 5
    assert settings["training"]["validation_fraction"] == 0.15  # untouched: the project's
    expect(page.locator('[data-testid="setting-epochs"]')).to_have_value("7")
    assert session.console_errors == []


PAGE_CONFIG = re.compile(r'<script type="application/json" id="teachkit-project">(.*?)</script>', re.S)


def rewrite_page_config(index: Path, change) -> None:
    """What a rebuild would give whose author changed the page's settings: `change(config)`."""
    text = index.read_text()
    found = PAGE_CONFIG.search(text)
    config = json.loads(found.group(1))
    change(config)
    encoded = json.dumps(config).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    index.write_text(text[: found.start(1)] + encoded + text[found.end(1) :])
    # A rebuild writes a new manifest too: the service worker tells builds apart by it.
    manifest_path = index.parent / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    for entry in manifest["files"]:
        if entry["path"] == index.name:
            entry["size"] = index.stat().st_size
            entry["sha256"] = hashlib.sha256(index.read_bytes()).hexdigest()
    manifest_path.write_text(json.dumps(manifest))


def test_stored_settings_outside_a_rebuilt_pages_bounds_give_way(surfaces_site, ready_page, tmp_path):
    site = copy_tree(surfaces_site, tmp_path / "site")
    session = ready_page(site)
    page = session.page
    page.evaluate("async () => window.teachkit.setSettings({training: {epochs: 700}, head: {k: 9}})")

    def tighter(config):
        for spec in config["settings"]:
            if spec["key"] == "epochs":
                spec["max"] = 500
        config["training"]["epochs"] = 40

    rewrite_page_config(site / "index.html", tighter)
    page.reload()

    wait_ready(page)
    settings = page.evaluate(SETTINGS)
    assert settings["training"]["epochs"] == 40  # 700 is out of the new bounds: the page's default
    assert settings["head"]["k"] == 9
    assert session.console_errors == []


def test_a_change_in_one_tab_reaches_the_other(browser, surfaces_site, serve_site, texture_files):
    server = serve_site(surfaces_site)
    context = browser.new_context()
    try:
        first = record_traffic(context.new_page())
        second = record_traffic(context.new_page())
        for session in (first, second):
            session.page.goto(server.url)
            wait_ready(session.page)
        one, two = first.page, second.page

        upload(one, "Brick", texture_files["brick"]["train"][:3], 3)
        expect(count_of(two, "Brick")).to_have_text("3", timeout=10_000)

        two.click('[data-testid="add-class"]')
        expect(card(two, "Class 4")).to_have_count(1)
        expect(card(one, "Class 4")).to_have_count(1, timeout=10_000)

        two.evaluate("async () => window.teachkit.setSettings({training: {epochs: 9}})")
        assert eventually(lambda: one.evaluate(SETTINGS)["training"]["epochs"], 9) == 9

        upload(two, "Grass", texture_files["grass"]["train"][:3], 3)
        upload(two, "Gravel", texture_files["gravel"]["train"][:3], 3)
        upload(two, "Class 4", texture_files["gravel"]["train"][3:5], 2)
        expect(count_of(one, "Gravel")).to_have_text("3", timeout=10_000)
        one.evaluate("async () => { await window.teachkit.train(); }")
        assert eventually(lambda: two.evaluate(STATUS)["trained"], True) is True
        expect(two.locator('[data-testid="train-status"]')).to_have_attribute("data-state", "done")
        assert two.evaluate("() => window.teachkit.evaluation().classes") == [
            "Brick",
            "Grass",
            "Gravel",
            "Class 4",
        ]

        one.evaluate("async () => window.teachkit.deleteClass('Class 4')")
        expect(card(two, "Class 4")).to_have_count(0, timeout=10_000)
        assert eventually(lambda: two.evaluate(STATUS)["trained"], False) is False

        # A change made while the other tab trains reaches it once training ends. (Training keeps
        # that tab's main thread to itself, so even the message is only heard at the end.)
        two.evaluate("async () => window.teachkit.setSettings({training: {epochs: 300, batch_size: 1}})")
        two.evaluate("() => { window.teachkit.train().catch(() => {}); }")  # training when this returns
        one.evaluate("async () => window.teachkit.addClass('Sand')")
        expect(card(two, "Sand")).to_have_count(1, timeout=60_000)
        expect(two.locator('[data-testid="message"]')).to_have_text(
            "Updated with the changes made in another tab."
        )
        # What two trained meanwhile knows three classes of four: it is not kept.
        assert two.evaluate(STATUS)["trained"] is False
        assert one.evaluate(STATUS)["trained"] is False
        for session in (first, second):
            assert session.console_errors == []
    finally:
        context.close()


def test_deletes_can_be_undone_for_a_few_seconds(surfaces_site, ready_page, texture_files):
    session = ready_page(surfaces_site)
    page = session.page
    assert page.evaluate(UNDO_CODE) == "failed"  # nothing to undo yet
    for texture, name in (("brick", "Brick"), ("grass", "Grass"), ("gravel", "Gravel")):
        upload(page, name, texture_files[texture]["train"][:3], 3)

    first = page.evaluate(SAMPLE_IDS)[0]
    page.evaluate("async (id) => window.teachkit.deleteSample(id)", first)
    expect(count_of(page, "Brick")).to_have_text("2")
    assert page.evaluate(STATUS)["undo"]["text"] == 'Deleted a sample of "Brick".'
    assert page.evaluate(UNDO_CODE) is None
    expect(count_of(page, "Brick")).to_have_text("3")
    assert page.evaluate(SAMPLE_IDS)[0] == first  # back in its place
    assert page.evaluate(STATUS)["undo"] is None
    assert page.evaluate(UNDO_CODE) == "failed"  # undone once only

    page.evaluate("async () => window.teachkit.clearClass('Grass')")
    expect(count_of(page, "Grass")).to_have_text("0")
    assert page.evaluate(STATUS)["undo"]["text"] == 'Deleted 3 samples of "Grass".'
    assert page.evaluate(UNDO_CODE) is None
    expect(count_of(page, "Grass")).to_have_text("3")

    # Deleting a class forgets the trained head; undo brings back the class, its samples and the head.
    page.evaluate("async () => { await window.teachkit.train({training: {epochs: 5}}); }")
    page.evaluate("async () => window.teachkit.deleteClass('Grass')")
    assert [item["name"] for item in page.evaluate(CLASSES)] == ["Brick", "Gravel"]
    assert page.evaluate(STATUS)["trained"] is False
    assert page.evaluate(UNDO_CODE) is None
    assert page.evaluate(CLASSES) == [
        {"name": "Brick", "count": 3},
        {"name": "Grass", "count": 3},
        {"name": "Gravel", "count": 3},
    ]
    assert page.evaluate(STATUS)["trained"] is True
    expect(page.locator('[data-testid="train-status"]')).to_have_attribute("data-state", "done")

    page.reload()  # what undo put back is stored again
    wait_ready(page)
    assert page.evaluate(CLASSES) == [
        {"name": "Brick", "count": 3},
        {"name": "Grass", "count": 3},
        {"name": "Gravel", "count": 3},
    ]
    assert page.evaluate(STATUS)["trained"] is True

    page.evaluate("async () => window.teachkit.clearClass('Gravel')")
    expect(count_of(page, "Gravel")).to_have_text("0")
    time.sleep(8.5)
    assert page.evaluate(STATUS)["undo"] is None
    assert page.evaluate(UNDO_CODE) == "failed"
    expect(count_of(page, "Gravel")).to_have_text("0")
    assert session.console_errors == []


TRAIN = "async (change) => (await window.teachkit.train(change)).evaluation"


def test_evaluation_is_on_held_back_samples_only(surfaces_site, ready_page, texture_files):
    session = ready_page(surfaces_site)
    page = session.page
    for texture, name in (("brick", "Brick"), ("grass", "Grass"), ("gravel", "Gravel")):
        upload(page, name, texture_files[texture]["train"][:2], 2)

    # 15 % of 2 samples is none: nothing is held back, so nothing is measured.
    evaluation = page.evaluate(TRAIN, {"training": {"epochs": 5}})
    assert evaluation["count"] == 0
    assert evaluation["accuracy"] is None
    assert evaluation["onValidation"] is False
    assert evaluation["perClass"] == [None, None, None]
    assert evaluation["perClassCount"] == [0, 0, 0]
    assert evaluation["confusion"] == [[0, 0, 0]] * 3
    assert evaluation["fewHeldBack"] == ["Brick", "Grass", "Gravel"]
    expect(page.locator('[data-testid="message"]')).to_contain_text("no samples were held back")

    for texture, name in (("brick", "Brick"), ("grass", "Grass"), ("gravel", "Gravel")):
        upload(page, name, texture_files[texture]["train"][2:10], 10)
    evaluation = page.evaluate(TRAIN, {"training": {"validation_fraction": 0.3}})
    assert evaluation["perClassCount"] == [3, 3, 3]
    assert [sum(row) for row in evaluation["confusion"]] == [3, 3, 3]
    assert evaluation["count"] == 9
    assert evaluation["onValidation"] is True
    assert evaluation["fewHeldBack"] == []
    held = [sample["heldOut"] for sample in page.evaluate("() => window.teachkit.samples()")]
    assert sum(held) == 9
    assert page.evaluate("() => window.teachkit.evaluation().perClassCount") == [3, 3, 3]
    assert session.console_errors == []


# Each stored sample's pictures as the page's IndexedDB holds them: "blob", "bytes" or something else.
STORED_PICTURES = """async (name) => {
  const database = await new Promise((resolve, reject) => {
    const request = indexedDB.open(name);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const records = await new Promise((resolve) => {
    database.transaction("samples").objectStore("samples").getAll().onsuccess = (event) =>
      resolve(event.target.result);
  });
  database.close();
  const kind = (picture) =>
    picture instanceof Blob ? "blob" : picture?.bytes instanceof ArrayBuffer && picture.type === "image/jpeg"
      ? "bytes" : String(picture);
  return records.map((record) => [kind(record.image), kind(record.thumb)]);
}"""

# What an earlier version of the page stored: the same records with Blobs for the two JPEGs.
STORE_AS_BLOBS = """async (name) => {
  const database = await new Promise((resolve, reject) => {
    const request = indexedDB.open(name);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const store = () => database.transaction("samples", "readwrite").objectStore("samples");
  const records = await new Promise((resolve) => {
    store().getAll().onsuccess = (event) => resolve(event.target.result);
  });
  const blob = ({ bytes, type }) => new Blob([bytes], { type });
  await new Promise((resolve, reject) => {
    const writing = store();
    for (const record of records)
      writing.put({ ...record, image: blob(record.image), thumb: blob(record.thumb) });
    writing.transaction.oncomplete = resolve;
    writing.transaction.onerror = () => reject(writing.transaction.error);
  });
  database.close();
  return records.length;
}"""

THUMBS_SHOWN = """() => Array.from(document.querySelectorAll('[data-testid="thumbnails"] img'))
  .filter((img) => img.complete && img.naturalWidth === 64).length"""


def test_samples_are_stored_as_bytes_and_ones_stored_as_blobs_still_load(
    surfaces_site, ready_page, texture_files
):
    session = ready_page(surfaces_site)
    page = session.page
    for texture, name in (("brick", "Brick"), ("grass", "Grass"), ("gravel", "Gravel")):
        upload(page, name, texture_files[texture]["train"][:3], 3)
    ids = page.evaluate(SAMPLE_IDS)
    # Bytes, which WebKit keeps in a private window too (it refuses Blobs there).
    assert page.evaluate(STORED_PICTURES, "teachkit:/") == [["bytes", "bytes"]] * 9

    assert page.evaluate(STORE_AS_BLOBS, "teachkit:/") == 9
    assert page.evaluate(STORED_PICTURES, "teachkit:/") == [["blob", "blob"]] * 9
    page.reload()

    wait_ready(page)
    assert page.evaluate(SAMPLE_IDS) == ids
    assert eventually(lambda: page.evaluate(THUMBS_SHOWN), 9) == 9
    crop = page.evaluate(
        "async () => { const image = window.teachkit.samples()[0].image;"
        " return [image instanceof Blob, image.type, image.size]; }"
    )
    assert crop[0] is True and crop[1] == "image/jpeg" and crop[2] > 1000
    page.evaluate("async () => { await window.teachkit.train({training: {epochs: 5}}); }")
    assert page.evaluate(STATUS)["trained"] is True
    page.evaluate("async () => window.teachkit.addClass('Sand')")
    upload(page, "Sand", texture_files["gravel"]["train"][3:4], 1)
    assert sorted(page.evaluate(STORED_PICTURES, "teachkit:/")) == sorted(
        [["blob", "blob"]] * 9 + [["bytes", "bytes"]]
    )
    # The project file carries the old records' pictures like any others; opening it stores bytes.
    page.evaluate("async () => window.teachkit.importProject(await window.teachkit.exportProject())")
    expect(page.locator('[data-testid="message"]')).to_contain_text("Imported", timeout=60_000)
    assert sorted(page.evaluate(SAMPLE_IDS)) == sorted(ids + page.evaluate(SAMPLE_IDS)[-1:])
    assert page.evaluate(STORED_PICTURES, "teachkit:/") == [["bytes", "bytes"]] * 10
    assert eventually(lambda: page.evaluate(THUMBS_SHOWN), 10) == 10
    assert session.console_errors == []


# A browser that keeps no sample and says nothing about why, as WebKit's private sessions did with
# the Blobs the page stored before: the write is aborted and no error names a cause.
REFUSE_SAMPLES = """(() => {
  const put = IDBObjectStore.prototype.put;
  IDBObjectStore.prototype.put = function (...args) {
    const request = put.apply(this, args);
    if (this.name === "samples") this.transaction.abort();
    return request;
  };
})();"""

# A browser that refuses a sample's value at once, as engines do with what they cannot clone.
REFUSE_TO_CLONE = """(() => {
  const put = IDBObjectStore.prototype.put;
  IDBObjectStore.prototype.put = function (...args) {
    if (this.name === "samples") throw new DOMException("Failed to store the image.", "DataCloneError");
    return put.apply(this, args);
  };
})();"""

# A browser whose settings give the page no storage at all (site data blocked).
NO_STORAGE = """IDBFactory.prototype.open = function () {
  throw new DOMException("The operation is insecure.", "SecurityError");
};"""


def page_with(browser, script: str, url: str):
    context = browser.new_context()
    context.add_init_script(script)
    session = record_traffic(context.new_page())
    session.page.goto(url)
    return context, session


def test_a_refused_write_says_why_in_words(browser, surfaces_site, serve_site, texture_files):
    server = serve_site(surfaces_site)
    files = texture_files["brick"]["train"][:2]

    context, session = page_with(browser, REFUSE_SAMPLES, server.url)
    page = session.page
    wait_ready(page)
    card(page, "Brick").locator('[data-testid="sample-upload"]').set_input_files([str(f) for f in files])
    message = page.locator('[data-testid="message"]')
    expect(message).to_have_text(
        "Added 0 of 2 files. This browser did not let the page keep this image (private windows and "
        "some browser settings keep nothing). Use Save project file to keep your work.",
        timeout=60_000,
    )
    expect(card(page, "Brick").locator('[data-testid="card-message"]')).to_contain_text("Save project file")
    expect(count_of(page, "Brick")).to_have_text("0")  # nothing shown that a reload would lose
    context.close()

    context, session = page_with(browser, REFUSE_TO_CLONE, server.url)
    page = session.page
    wait_ready(page)
    card(page, "Brick").locator('[data-testid="sample-upload"]').set_input_files([str(f) for f in files])
    expect(card(page, "Brick").locator('[data-testid="card-message"]')).to_have_text(
        "Added 0 of 2 files. This browser did not let the page keep this image (private windows and "
        "some browser settings keep nothing). Use Save project file to keep your work. (The browser "
        "said: DataCloneError: Failed to store the image.)",
        timeout=60_000,
    )
    page.reload()  # the refused write left nothing behind, and the page still stores classes
    wait_ready(page)
    page.evaluate("async () => window.teachkit.addClass('Sand')")
    page.reload()
    wait_ready(page)
    expect(card(page, "Sand")).to_have_count(1)
    expect(count_of(page, "Brick")).to_have_text("0")
    context.close()

    context, session = page_with(browser, NO_STORAGE, server.url)
    page = session.page
    wait_ready(page)
    expect(page.locator('[data-testid="message"]')).to_have_text(
        "This browser gives this page no storage (private windows and some browser settings keep "
        "nothing). Use Save project file to keep your work. (The browser said: SecurityError: The "
        "operation is insecure.) Samples will be lost when the page closes."
    )
    expect(page.locator('[data-testid="persistence-hint"]')).to_have_text(
        "This browser keeps nothing for this page: your examples are lost when it closes. Save project "
        "file keeps a safe copy."
    )
    upload(page, "Brick", files, 2)  # kept while the page is open
    assert "null" not in page.locator("body").inner_text()
    context.close()


def test_the_browser_is_asked_to_keep_the_samples_and_the_safe_copy_is_named_once(
    surfaces_site, ready_page, texture_files
):
    page = ready_page(surfaces_site).page
    hint = page.locator('[data-testid="persistence-hint"]')
    expect(hint).to_have_attribute("data-persisted", "")  # asked only once there is something to keep
    upload(page, "Brick", texture_files["brick"]["train"][:1], 1)
    expect(hint).to_have_attribute("data-persisted", "false")
    expect(hint).to_contain_text("Save project file keeps a safe copy")
    page.reload()
    wait_ready(page)
    expect(hint).to_have_attribute("data-persisted", "false")
    expect(hint).to_be_hidden()
