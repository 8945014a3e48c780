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

from .conftest import CHROMIUM_ARGS, build_project, chromium_executable, record_traffic
from .images import write_y4m
from .pagekit import card, wait_ready

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


def open_with_camera(playwright, profile: Path, video: Path, url: str, **options):
    context = playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=chromium_executable(),
        headless=True,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
        **options,
    )
    session = record_traffic(context.pages[0] if context.pages else context.new_page())
    session.page.goto(url)
    wait_ready(session.page)
    return context, session


def hold_record(page, class_name: str, seconds: float) -> int:
    button = card(page, class_name).locator('[data-testid="record"]')
    if not card(page, class_name).locator('[data-testid="preview"]').is_visible():
        button.click()  # with the camera off, a press starts it and shows its picture in the card
        expect(card(page, class_name).locator('[data-testid="preview"]')).to_be_visible()
    button.hover()
    page.mouse.down()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(card(page, class_name).locator('[data-testid="sample-count"]')).not_to_have_text(
        "0", timeout=20_000
    )
    time.sleep(seconds)
    page.mouse.up()
    expect(button).to_have_attribute("aria-pressed", "false", timeout=10_000)
    # Frames still being embedded at the release are stored, then the page says how many.
    expect(page.locator('[data-testid="message"]')).to_contain_text("Recorded", timeout=20_000)
    return int(card(page, class_name).locator('[data-testid="sample-count"]').text_content())


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

