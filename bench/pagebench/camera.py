"""4 and 5. the camera: what a held record button collects (frames per hold, when recording stopped,
the JPEG encodes) on Chromium's fake webcam, then live predictions per second and each frame's
latency, in the page's workers, with Try it's heatmap shown too, with one worker (?workers=1) and on
the page (?workers=0); the reference is the fake camera's own frame rate."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import expect

from tests.support.pagekit import card

from .harness import (
    CAMERA_ARGS,
    SECOND,
    Tab,
    bench_log,
    blocking,
    first_event,
    launch,
    long_tasks,
    median,
    open_tab,
    page_now,
    poll,
    probe,
    rounded,
    sample_count,
    train,
    wait_ready,
)
from .inputs import CAPTURE_FPS, SOURCES, Plan


@dataclass
class Recording:
    pressed: float  # in-page ms
    stopped: float | None  # when the card's data-recording turned "false"
    released: float
    saved: float
    frames: int


def hold_record(page: object, name: str, seconds: float) -> Recording:
    """Holds the class's record button with the mouse for `seconds`, then waits until the frames
    are saved."""
    button = card(page, name).locator('[data-testid="record"]')
    button.scroll_into_view_if_needed()
    if not page.evaluate("() => window.teachkit.status().camera"):
        # With the camera off a press only starts it and shows its picture in the card.
        button.click()
        expect(card(page, name).locator('[data-testid="preview"]')).to_be_visible(timeout=20 * SECOND)
    box = button.bounding_box()
    before_count = sample_count(page, name)
    seen = page.evaluate("() => window.__bench.notices.length")
    before = page_now(page)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    time.sleep(seconds)
    page.mouse.up()
    released = page_now(page)
    poll(page, probe("recorded"), 60, seen)
    pressed = first_event(page, "pointerdown", "record", before)
    return Recording(
        pressed=pressed,
        stopped=first_event(page, f"recording:{name}", "false", pressed),
        released=released,
        saved=page_now(page),
        frames=sample_count(page, name) - before_count,
    )


def live_rate(page: object, seconds: float) -> dict:
    """Predictions per second counted over `seconds`, after 2 s of live prediction, and each frame's
    latency (from the API's `prediction` events, noted by probes/init.js)."""
    page.click('[data-testid="live-toggle"]')
    time.sleep(2)
    read = "() => ({ n: window.teachkit.status().predictions, t: performance.now() })"
    first = page.evaluate(read)
    time.sleep(seconds)
    last = page.evaluate(read)
    shown = page.locator('[data-testid="live-fps"]').text_content()
    page.click('[data-testid="live-toggle"]')
    return {
        "fps": (last["n"] - first["n"]) / ((last["t"] - first["t"]) / 1000),
        "latency_ms": median([d for t, d in bench_log(page)["predictions"] if first["t"] <= t <= last["t"]]),
        "shown": shown,
        "long_tasks": long_tasks(page, first["t"], last["t"]),
    }


# Counts the heatmap canvas's redraws while its data-source says "live" (a render that writes its
# attributes is one redraw): the probe that the heatmap really followed the frames.
COUNT_LIVE_MAPS = """() => {
  const heatmap = document.querySelector('[data-testid="explain-heatmap"]');
  window.__liveMaps = 0;
  new MutationObserver(() => {
    if (heatmap.dataset.source === "live") window.__liveMaps += 1;
  }).observe(heatmap, { attributes: true, attributeFilter: ["aria-label", "data-class", "data-source"] });
}"""


def live_with_heatmap(page: object, plan: Plan) -> dict:
    """live_rate with Try it's heatmap shown ("Show where it looked"): each frame also has its class
    activation map computed and drawn; `live_draws` counts the canvas's live redraws."""
    toggle = page.locator('[data-testid="explain-toggle"]')
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    page.evaluate(COUNT_LIVE_MAPS)
    runs = [live_rate(page, plan.live_s) for _ in range(plan.live_repeats)]
    live_draws = page.evaluate("() => window.__liveMaps")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    return {
        **live_summary(runs),
        "runs_fps": [rounded(run["fps"], 1) for run in runs],
        "live_draws": live_draws,
        "drawn": live_draws > 0,
    }


def live_summary(runs: list[dict]) -> dict:
    """The median rate and latency of several live_rate runs, and their long tasks."""
    return {
        "fps": rounded(median([run["fps"] for run in runs]), 1),
        "latency_ms": rounded(median([run["latency_ms"] for run in runs]), 1),
        "blocking": blocking([run["long_tasks"] for run in runs]),
    }


def live_in_another_tab(tab: Tab, url: str, plan: Plan, query: str) -> dict:
    """Live prediction in a second tab of the same context with `query` (?workers=0: the model on
    the page; ?workers=1: one worker): it restores the samples and head just trained."""
    tab.page.click('[data-testid="camera-toggle"]')  # off: one camera user at a time
    page = tab.context.new_page()
    try:
        page.goto(url + query)
        wait_ready(page)
        page.click('[data-testid="camera-toggle"]')
        live = [live_rate(page, plan.live_s) for _ in range(plan.live_repeats)]
        page.click('[data-testid="camera-toggle"]')
        return {"backend": page.locator('[data-testid="backend"]').text_content(), **live_summary(live)}
    finally:
        page.close()
        tab.page.click('[data-testid="camera-toggle"]')  # back on for the next measurement


def measure_camera(playwright: object, url: str, y4m: Path, plan: Plan) -> dict:
    browser = launch(playwright, [*CAMERA_ARGS, f"--use-file-for-fake-video-capture={y4m}"])
    try:
        tab = open_tab(browser, url, permissions=["camera"])
        page = tab.page
        page.click('[data-testid="camera-toggle"]')
        camera_fps = page.evaluate(probe("camera_fps"), plan.camera_s)
        recordings = [hold_record(page, name, plan.hold_s) for name in SOURCES]
        encodes = [d for t, d in bench_log(page)["encodes"] if t >= recordings[0].pressed]
        train(page, timeout_s=600)
        live = [live_rate(page, plan.live_s) for _ in range(plan.live_repeats)]
        heatmap = live_with_heatmap(page, plan)
        inline = live_in_another_tab(tab, url, plan, "?workers=0")
        one_worker = live_in_another_tab(tab, url, plan, "?workers=1")
        summary = live_summary(live)
        result = {
            "camera_fps": rounded(camera_fps, 1),
            "live_fps": summary["fps"],
            "live_runs_fps": [rounded(run["fps"], 1) for run in live],
            "live_latency_ms": summary["latency_ms"],
            "live_with_heatmap": heatmap,
            "live_on_the_page": inline,
            "live_one_worker": one_worker,
            "live_fps_shown": live[-1]["shown"],
            "live_window_s": plan.live_s,
            "live_blocking": summary["blocking"],
            "hold_s": plan.hold_s,
            "frames_per_hold": [r.frames for r in recordings],
            "frames_expected_per_hold": round(plan.hold_s * CAPTURE_FPS),
            "recording_stopped_before_release_ms": [
                None if r.stopped is None else rounded(r.released - r.stopped, 0) for r in recordings
            ],
            "jpeg_encode_ms": {
                "median": rounded(median(encodes), 1),
                "max": rounded(max(encodes, default=0), 0),
                "over_100_ms": sum(d > 100 for d in encodes),
                "count": len(encodes),
            },
            "capture_blocking": blocking([long_tasks(page, r.pressed, r.saved) for r in recordings]),
            "longtask_error": bench_log(page)["longtaskError"],
            "foreign_requests": tab.foreign_requests(),
            "console_errors": list(tab.errors),
        }
        tab.close()
        return result
    finally:
        browser.close()
