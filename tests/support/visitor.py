"""What a visitor does in the page, through `window.teachkit` and `data-testid` attributes."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import expect

from .pagekit import card


@dataclass
class PageTrained:
    """A project file saved by the page after a visitor trained it, and what the page then
    predicted for each held-out photo: (photo, label, {class name: probability})."""

    project_file: Path
    predictions: list[tuple[Path, str, dict[str, float]]]


PREDICT_BYTES = """async (base64) => {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const result = await window.teachkit.predict(new Blob([bytes], { type: "image/png" }));
  return { label: result.label, confidences: result.confidences };
}"""


def import_project(page, path: Path) -> None:
    page.set_input_files('[data-testid="import-project"]', str(path))
    expect(page.locator('[data-testid="message"]')).to_contain_text("Imported", timeout=60_000)


def hold_record(page, class_name: str, seconds: float) -> int:
    button = card(page, class_name).locator('[data-testid="record"]')
    if not card(page, class_name).locator('[data-testid="preview"]').is_visible():
        button.click()  # with the camera off, a press starts it and shows its picture in the card
        expect(card(page, class_name).locator('[data-testid="preview"]')).to_be_visible()
    button.hover()
    heard = page.evaluate(LISTEN_FOR_NOTICES)
    page.mouse.down()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(card(page, class_name).locator('[data-testid="sample-count"]')).not_to_have_text(
        "0", timeout=20_000
    )
    time.sleep(seconds)
    page.mouse.up()
    expect(button).to_have_attribute("aria-pressed", "false", timeout=10_000)
    # Frames still being embedded at the release are stored, then the page says how many: this
    # recording's notice, not the last one's, whose words on the screen may be the same.
    page.wait_for_function(RECORDED_SINCE, arg=heard, timeout=20_000)
    return int(card(page, class_name).locator('[data-testid="sample-count"]').text_content())


# The page's notices (teachkit.on("notice")), heard from the first call on: how many so far.
LISTEN_FOR_NOTICES = """() => {
  if (!window.heardNotices) {
    window.heardNotices = [];
    window.teachkit.on("notice", ({ text }) => window.heardNotices.push(text));
  }
  return window.heardNotices.length;
}"""
RECORDED_SINCE = "(since) => window.heardNotices.slice(since).some((text) => text.startsWith('Recorded'))"
