"""The webcam path with Chromium's fake camera playing videos made from real photos: hold-to-record
collects samples, training runs, and live prediction follows what the camera shows. Each video
needs its own browser launch; the samples and the trained head carry over in IndexedDB, as they
would for a visitor who closes and reopens the page."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import skimage.data
from playwright.sync_api import expect

from .support.browser import open_with_camera
from .support.images import write_y4m
from .support.pagekit import card
from .support.site import build_project
from .support.visitor import hold_record

PROJECT = 'title = "Cat or coffee"\nclasses = ["Cat", "Coffee"]\n[capture]\nfps = 10\n'


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("videos")
    return {
        "Cat": write_y4m(directory / "chelsea.y4m", skimage.data.chelsea()),
        "Coffee": write_y4m(directory / "coffee.y4m", skimage.data.coffee()),
    }


@pytest.fixture(scope="module")
def camera_site(tmp_path_factory, lite0_sites) -> Path:
    lite0_sites("auto")
    return build_project(tmp_path_factory.mktemp("camera-site"), PROJECT)


def live_labels(page, count: int) -> list[str]:
    """Labels of `count` consecutive live predictions."""
    output = page.locator('[data-testid="prediction"]')
    page.click('[data-testid="live-toggle"]')
    start = int(output.get_attribute("data-count"))
    expect(output).not_to_have_attribute("data-count", str(start), timeout=20_000)
    labels = []
    seen = int(output.get_attribute("data-count"))
    deadline = time.monotonic() + 30
    while len(labels) < count and time.monotonic() < deadline:
        current = int(output.get_attribute("data-count"))
        if current != seen:
            seen = current
            labels.append(output.get_attribute("data-label"))
        time.sleep(0.05)
    page.click('[data-testid="live-toggle"]')
    return labels


# What the video that frames are read from is like while the camera runs.
FRAME_VIDEO_JS = """video => ({
  inDocument: video.isConnected,
  attributes: ["muted", "playsinline", "autoplay"].filter((name) => video.hasAttribute(name)),
  muted: video.muted,
  stream: video.srcObject instanceof MediaStream && video.srcObject.active,
  playing: !video.paused && video.readyState >= 2,
  rendered: getComputedStyle(video).display !== "none" && video.getBoundingClientRect().width > 0,
})"""


def test_record_train_and_predict_live_from_the_camera(tmp_path, camera_site, serve_site, playwright, videos):
    server = serve_site(camera_site)
    profile = tmp_path / "profile"

    context, session = open_with_camera(playwright, profile, videos["Cat"], server.url)
    cats = hold_record(session.page, "Cat", 1.5)
    assert session.page.locator('[data-testid="video"]').is_visible()
    # iOS shows frames only from a video in the document, and reads these attributes, not properties.
    frames = session.page.locator('[data-testid="camera-frames"]')
    assert frames.evaluate(FRAME_VIDEO_JS) == {
        "inDocument": True,
        "attributes": ["muted", "playsinline", "autoplay"],
        "muted": True,
        "stream": True,
        "playing": True,
        "rendered": True,
    }
    session.page.click('[data-testid="camera-toggle"]')
    expect(frames).to_have_count(1)
    assert frames.evaluate("video => video.srcObject") is None
    requests = list(session.requests)
    context.close()

    context, session = open_with_camera(playwright, profile, videos["Coffee"], server.url)
    page = session.page
    expect(card(page, "Cat").locator('[data-testid="sample-count"]')).to_have_text(str(cats))
    coffees = hold_record(page, "Coffee", 1.5)
    assert cats >= 5 and coffees >= 5
    page.click('[data-testid="train"]')
    expect(page.locator('[data-testid="train-status"]')).to_have_attribute(
        "data-state", "done", timeout=60_000
    )
    coffee_labels = live_labels(page, 10)
    fps_text = page.locator('[data-testid="live-fps"]').text_content()
    requests += session.requests
    context.close()

    context, session = open_with_camera(playwright, profile, videos["Cat"], server.url)
    expect(session.page.locator('[data-testid="train-status"]')).to_have_attribute("data-state", "done")
    cat_labels = live_labels(session.page, 10)
    requests += session.requests
    context.close()

    assert coffee_labels == ["Coffee"] * 10, (coffee_labels, fps_text)
    assert cat_labels == ["Cat"] * 10, cat_labels
    assert [url for url in requests if not url.startswith((server.url, "data:", "blob:"))] == []


def touch(cdp, kind: str, point: tuple[float, float] | None = None) -> None:
    """A finger on the touch screen, through Chromium's input pipeline (so the browser may pan,
    select or cancel, as on a tablet)."""
    points = [{"x": point[0], "y": point[1]}] if point else []
    cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})


def centre(locator) -> tuple[float, float]:
    box = locator.bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def test_hold_to_record_on_a_touch_screen(tmp_path, camera_site, serve_site, playwright, videos):
    """A long press with a finger that drifts records without panning the page or selecting text;
    a touch the browser cancels stops recording."""
    server = serve_site(camera_site)
    context, session = open_with_camera(
        playwright,
        tmp_path / "profile",
        videos["Cat"],
        server.url,
        has_touch=True,
        viewport={"width": 400, "height": 600},  # a phone: the page scrolls, so a drift could pan it
    )
    page = session.page
    button = card(page, "Cat").locator('[data-testid="record"]')
    count = card(page, "Cat").locator('[data-testid="sample-count"]')
    style = button.evaluate(
        "b => { const s = getComputedStyle(b); return [s.touchAction, s.userSelect, s.webkitUserSelect]; }"
    )
    assert style == ["none", "none", "none"]
    # Chromium drops -webkit-touch-callout (only WebKit has it), so the shipped rule is read instead.
    record_rule = (camera_site / "style.css").read_text().split("button.record {")[1].split("}")[0]
    assert "-webkit-touch-callout: none;" in record_rule
    page.evaluate(
        """() => {
      window.noticesSeen = [];
      window.teachkit.on("notice", ({ text }) => window.noticesSeen.push(text));
    }"""
    )
    page.click('[data-testid="camera-toggle"]')
    expect(page.locator('[data-testid="camera-toggle"]')).to_have_attribute("aria-pressed", "true")
    button.scroll_into_view_if_needed()
    cdp = context.new_cdp_session(page)

    x, y = centre(button)
    scrolled = page.evaluate("() => scrollY")
    touch(cdp, "touchStart", (x, y))
    expect(button).to_have_attribute("aria-pressed", "true")
    for step in range(1, 10):  # a finger is never still: 90 px upwards, which would pan the page
        touch(cdp, "touchMove", (x, y - 10 * step))
    expect(count).not_to_have_text("0", timeout=20_000)
    expect(button).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("() => [scrollY, getSelection().toString()]") == [scrolled, ""]
    touch(cdp, "touchEnd")
    expect(button).to_have_attribute("aria-pressed", "false", timeout=10_000)
    page.wait_for_function("() => window.noticesSeen.some((text) => text.startsWith('Recorded'))")
    first = int(count.text_content())
    assert first > 0

    # The layout moved (the card shows the camera now): press where the button is now.
    touch(cdp, "touchStart", centre(button))
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(count).not_to_have_text(str(first), timeout=20_000)
    touch(cdp, "touchCancel")
    expect(button).to_have_attribute("aria-pressed", "false", timeout=10_000)
    expect(card(page, "Cat")).to_have_attribute("data-recording", "false")
    page.wait_for_function(
        "() => window.noticesSeen.filter((text) => text.startsWith('Recorded')).length === 2"
    )
    assert page.evaluate("() => window.teachkit.status().recording") is None
    second = int(page.evaluate("() => window.noticesSeen.at(-1)").split()[1])
    expect(count).to_have_text(str(first + second))
    context.close()
