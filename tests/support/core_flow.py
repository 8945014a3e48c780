"""The core flow a visitor goes through, in small steps on a Playwright page, so that each engine's
test runs the same steps (and the WebKit test, on Selenium, can mirror them one by one):
load → upload → train → predict held-out photos → reload keeps the samples → save the project file
→ open it in a fresh browser → the single file from file://. After each step the page shows no
console error and no message with "null" or "undefined" in it."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

from playwright.sync_api import expect

from .browser import PageSession, record_traffic
from .pagekit import CLASS_OF, accuracy, card, train, upload, wait_ready

TRAINED = {"Brick": 20, "Grass": 20, "Gravel": 20}
# What a leaked JavaScript value looks like on screen ("Saving in the browser failed: null").
LEAKED_VALUE = re.compile(r"\b(null|undefined|NaN)\b|\[object \w+\]")


def open_session(context, url: str) -> PageSession:
    """A new page in `context`, recording its requests and console errors, at `url`, ready."""
    session = record_traffic(context.new_page())
    session.page.goto(url)
    load(session)
    return session


def load(session: PageSession) -> None:
    wait_ready(session.page)
    check_page(session)


def upload_photos(session: PageSession, texture_files) -> None:
    for texture, files in texture_files.items():
        upload(session.page, CLASS_OF[texture], files["train"], 20)
    check_page(session)


def train_model(session: PageSession) -> None:
    train(session.page)
    check_page(session)


def predict_held_out(session: PageSession, texture_files) -> None:
    assert accuracy(session.page, texture_files) >= 0.9
    check_page(session)


def reload_keeps_samples(session: PageSession) -> None:
    session.page.reload()
    wait_ready(session.page)
    check_trained(session)


def check_trained(session: PageSession) -> None:
    """The samples are all there and the model is trained (kept, not retrained)."""
    assert sample_counts(session.page) == TRAINED
    expect(session.page.locator('[data-testid="train-status"]')).to_have_attribute("data-state", "done")
    check_page(session)


def save_project_file(session: PageSession, directory: Path, downloads_folder: Path | None = None) -> Path:
    """*Save project file*, as a download the visitor keeps (`downloads_folder`: see
    tests/support/browser.py firefox_downloads_folder)."""
    button = session.page.locator('[data-testid="export-project"]')
    if downloads_folder is None:
        with session.page.expect_download() as download:
            button.click()
        path = directory / download.value.suggested_filename
        download.value.save_as(path)
    else:
        finished = finished_download(downloads_folder, button.click)
        # Moved out, so that the next download of the session gets the same name, not "name(1)".
        path = Path(shutil.move(finished, directory / finished.name))
    assert path.name == "surfaces.teachkit.zip"
    expect(session.page.locator('[data-testid="message"]')).to_contain_text("Saved")
    check_page(session)
    return path


def finished_download(folder: Path, start, timeout: float = 30.0) -> Path:
    """The file that `start()` makes the browser download into `folder`, once it is complete
    (Firefox first makes an empty file of the final name, writes into a `.part` file beside it,
    then moves that over the empty one)."""
    before = set(folder.iterdir())
    start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = set(folder.iterdir())
        new = [path for path in now - before if path.suffix != ".part"]
        writing = any(path.suffix == ".part" for path in now)
        if len(new) == 1 and not writing and new[0].stat().st_size > 0:
            return new[0]
        time.sleep(0.1)
    raise AssertionError(f"no finished download in {folder} after {timeout} s: {sorted(now - before)}")


def open_project_file(session: PageSession, path: Path) -> None:
    session.page.set_input_files('[data-testid="import-project"]', str(path))
    expect(session.page.locator('[data-testid="message"]')).to_contain_text("Imported", timeout=60_000)
    check_trained(session)


def sample_counts(page) -> dict[str, int]:
    names = page.locator('[data-testid="class"]').evaluate_all("cards => cards.map(c => c.dataset.className)")
    return {
        name: int(card(page, name).locator('[data-testid="sample-count"]').text_content()) for name in names
    }


def check_page(session: PageSession) -> None:
    """No console error so far, and nothing on screen (the live region included) that reads like
    a JavaScript value instead of a sentence."""
    assert session.console_errors == []
    text = session.page.locator("body").inner_text()
    assert not LEAKED_VALUE.search(text), text


def foreign_requests(session: PageSession, origin: str) -> list[str]:
    """Requests to anything but `origin` (for file://, anything but local schemes)."""
    local = ("data:", "blob:", "file:") if origin.startswith("file:") else (origin, "data:", "blob:")
    return [url for url in session.requests if not url.startswith(local)]
