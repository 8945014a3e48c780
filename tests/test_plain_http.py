"""The page on a school server on plain http, under a name that is not localhost: no secure
context, so no crypto.randomUUID, service worker, clipboard, persistent storage or camera. It must
still load, take uploads, train, predict and keep its samples, and say where https is needed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from .support.browser import CHROMIUM_ARGS, chromium_executable, record_traffic
from .support.pagekit import CLASS_OF, card, predict, train, upload, wait_ready

HOST = "classroom.test"
SAMPLES = "() => window.teachkit.samples().map((sample) => sample.id)"


@pytest.fixture(scope="module")
def classroom_browser(playwright: object) -> Iterator[object]:
    """Chromium that resolves classroom.test to this machine, as a school's DNS would its server."""
    browser = playwright.chromium.launch(
        executable_path=chromium_executable(),
        headless=True,
        # No upgrade to https, which a real school server does not answer either.
        args=[
            *CHROMIUM_ARGS,
            f"--host-resolver-rules=MAP {HOST} 127.0.0.1",
            "--disable-features=HttpsUpgrades",
        ],
    )
    yield browser
    browser.close()


def test_the_page_works_on_plain_http_and_says_what_needs_https(
    classroom_browser, surfaces_site, serve_site, texture_files
):
    server = serve_site(surfaces_site)
    url = server.url.replace("127.0.0.1", HOST)
    context = classroom_browser.new_context()
    session = record_traffic(context.new_page())
    page = session.page
    page.goto(url)

    wait_ready(page)
    assert page.evaluate("() => window.isSecureContext") is False
    assert page.evaluate("() => typeof crypto.randomUUID") == "undefined"
    for texture, files in texture_files.items():
        upload(page, CLASS_OF[texture], files["train"][:6], 6)
    ids = page.evaluate(SAMPLES)
    assert len(set(ids)) == 18
    train(page)
    files = next(iter(texture_files.values()))
    label, _ = predict(page, files["held-out"][0])
    assert label in CLASS_OF.values()

    # Where https is needed, the page says so: the camera's controls and the offline note.
    toggle = page.locator('[data-testid="camera-toggle"]')
    expect(toggle).to_be_disabled()
    assert "https" in toggle.get_attribute("title")
    expect(page.locator('[data-testid="camera-missing"]')).to_be_visible()
    expect(page.locator('[data-testid="camera-missing"]')).to_contain_text("needs a secure page")
    expect(card(page, "Brick").locator('[data-testid="record"]')).to_be_disabled()
    page.click('[data-testid="live-toggle"]')
    expect(page.locator('[data-testid="prediction-message"]')).to_contain_text(
        "The camera needs a secure page"
    )
    expect(page.locator('[data-testid="offline"]')).to_have_attribute("data-state", "insecure")
    refused = page.evaluate(
        "async () => { try { await window.teachkit.startCamera(); return null; }"
        " catch (error) { return {code: error.code, message: error.message}; } }"
    )
    assert refused["code"] == "camera" and "https" in refused["message"]
    # No persistent storage to ask for here: the visitor hears once that the project file is the safe copy.
    hint = page.locator('[data-testid="persistence-hint"]')
    expect(hint).to_contain_text("Save project file")
    expect(hint).to_have_attribute("data-persisted", "false")

    page.reload()
    wait_ready(page)
    assert page.evaluate(SAMPLES) == ids
    expect(card(page, "Grass").locator('[data-testid="sample-count"]')).to_have_text("6")
    expect(hint).to_be_hidden()  # said once per browser
    assert session.console_errors == []
    assert session.foreign_requests(url) == []
    context.close()
