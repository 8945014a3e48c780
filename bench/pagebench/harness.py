"""What every page measurement shares: the browser, a tab with the in-page recorder (probes/init.js),
reading what it recorded, waiting, and the visitor's steps timed with the page's own clock."""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import expect

from tests.support.browser import CHROMIUM_ARGS as TEST_CHROMIUM_ARGS
from tests.support.browser import chromium_executable
from tests.support.pagekit import card

PROBES = Path(__file__).resolve().parent.parent / "probes"
CHROMIUM = chromium_executable()
CHROMIUM_ARGS = [*TEST_CHROMIUM_ARGS, "--enable-precise-memory-info"]
CAMERA_ARGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
SECOND = 1000  # ms, for Playwright timeouts


def probe(name: str) -> str:
    """The function expression in bench/probes/NAME.js, for page.evaluate: without its leading
    comment (the why) and the semicolon the formatter ends it with."""
    lines = (PROBES / f"{name}.js").read_text(encoding="utf-8").splitlines()
    while lines and lines[0].startswith("//"):
        lines.pop(0)
    return "\n".join(lines).strip().removesuffix(";")


# ---- numbers ----------------------------------------------------------------------------------


def median(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


@contextlib.contextmanager
def captured_output() -> Iterator[dict[str, str]]:
    """Captures what native code writes to file descriptors 1 and 2 (TF's converter is chatty; the
    TFLite interpreter says there whether it created the XNNPACK delegate)."""
    result: dict[str, str] = {}
    with tempfile.TemporaryFile() as sink:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = [os.dup(1), os.dup(2)]
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield result
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for descriptor in saved:
                os.close(descriptor)
            sink.seek(0)
            result["text"] = sink.read().decode(errors="replace")


def timed_ms(run: Callable[[], object], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return times


# ---- the browser and a tab ----------------------------------------------------------------------


def launch(playwright: object, extra_args: list[str] = ()) -> object:
    return playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, *extra_args]
    )


@dataclass
class Tab:
    """A page in its own browser context, with every request, console error and crash noted."""

    context: object
    page: object
    origin: str
    requests: list[str]
    errors: list[str]
    crashed: list[bool]

    def foreign_requests(self) -> list[str]:
        return [u for u in self.requests if not u.startswith((self.origin, "data:", "blob:"))]

    def close(self) -> None:
        self.context.close()


def open_tab(browser: object, url: str, ready_timeout_s: float = 120, **context_options: object) -> Tab:
    context = browser.new_context(**context_options)
    # An init script is run as a script: the probe is a function, so it is called.
    context.add_init_script(f"({probe('init')})();")
    page = context.new_page()
    page.set_default_timeout(120 * SECOND)
    tab = Tab(context, page, url, [], [], [])
    page.on("request", lambda request: tab.requests.append(request.url))
    page.on("console", lambda msg: msg.type == "error" and tab.errors.append(msg.text))
    page.on("pageerror", lambda error: tab.errors.append(str(error)))
    page.on("crash", lambda _: tab.crashed.append(True))
    try:
        page.goto(url)
        wait_ready(page, ready_timeout_s)
    except Exception:
        context.close()
        raise
    return tab


def wait_ready(page: object, timeout_s: float = 120) -> None:
    expect(page.locator('[data-testid="status"]')).to_have_attribute(
        "data-state", "ready", timeout=timeout_s * SECOND
    )


def sample_count(page: object, name: str) -> int:
    return int(card(page, name).locator('[data-testid="sample-count"]').text_content())


# ---- what the in-page recorder noted ------------------------------------------------------------


def page_now(page: object) -> float:
    return page.evaluate("() => performance.now()")


def bench_log(page: object) -> dict:
    return page.evaluate("() => window.__bench")


def first_event(page: object, key: str, value: str | None, after: float) -> float | None:
    """In-page time of the first recorded event `key` (with `value`, unless None) at or after `after`."""
    for t, event_key, event_value in bench_log(page)["events"]:
        if t >= after and event_key == key and (value is None or event_value == value):
            return t
    return None


def long_tasks(page: object, start: float, end: float) -> list[float]:
    """Durations (ms) of the main-thread tasks of 50 ms or more that started in [start, end]."""
    return [d for t, d in bench_log(page)["longtasks"] if start <= t <= end]


def blocking(per_run: list[list[float]]) -> dict:
    """Long tasks of several runs: the median of each run's longest, the longest, how many."""
    longest = [max(tasks, default=0.0) for tasks in per_run]
    every = [d for tasks in per_run for d in tasks]
    return {
        "longest_ms": rounded(max(longest, default=0.0), 0),
        "median_of_run_longest_ms": rounded(median(longest), 0),
        "median_long_task_ms": rounded(median(every), 0),
        "long_tasks": len(every),
        "over_100_ms": sum(d > 100 for d in every),
    }


def poll(page: object, script: str, timeout_s: float, arg: object = None) -> object:
    """Evaluates the function `script` until it returns something truthy (a string
    wait_for_function would be refused by the page's CSP)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = page.evaluate(script, arg)
        if value:
            return value
        time.sleep(0.05)
    raise TimeoutError(f"timed out after {timeout_s} s waiting for {script}")


# ---- a visitor's steps, timed by the page's clock -----------------------------------------------


@dataclass
class Window:
    """In-page times (ms) around one action: before it was asked, when it began, when it ended."""

    before: float
    began: float
    ended: float

    @property
    def seconds(self) -> float:
        return (self.ended - self.began) / 1000


def upload(page: object, name: str, files: list[Path], timeout_s: float) -> Window:
    """Chooses `files` for the class and waits until its count grows by len(files)."""
    expected = str(sample_count(page, name) + len(files))
    before = page_now(page)
    card(page, name).locator('[data-testid="sample-upload"]').set_input_files([str(f) for f in files])
    counter = card(page, name).locator('[data-testid="sample-count"]')
    expect(counter).to_have_text(expected, timeout=timeout_s * SECOND)
    changed = first_event(page, "change", "sample-upload", before)
    return Window(before, changed, first_event(page, f"sample-count:{name}", expected, before))


def train(page: object, timeout_s: float) -> Window:
    """Clicks Train and waits for data-state="done"."""
    before = page_now(page)
    page.click('[data-testid="train"]')
    expect(page.locator('[data-testid="train-status"]')).to_have_attribute(
        "data-state", "done", timeout=timeout_s * SECOND
    )
    clicked = first_event(page, "click", "train", before)
    return Window(before, clicked, first_event(page, "train-status", "done", clicked))


def predict_file(page: object, file: Path) -> tuple[str, float]:
    """Asks the page about one image; returns the label and the ms until it was shown."""
    output = page.locator('[data-testid="prediction"]')
    count = int(output.get_attribute("data-count"))
    asked = time.perf_counter()
    page.set_input_files('[data-testid="predict-upload"]', str(file))
    expect(output).to_have_attribute("data-count", str(count + 1), timeout=60 * SECOND)
    return output.get_attribute("data-label"), (time.perf_counter() - asked) * 1000


def reload_ready(page: object) -> dict:
    page.reload()
    wait_ready(page)
    # Set when teachkit.ready resolves, just after the status turns ready.
    poll(page, "() => window.__bench.trainedAtReady !== null || window.__bench.apiError", 10)
    return {
        "ready_ms": first_event(page, "status", "ready", 0),
        "trained_at_ready": bench_log(page)["trainedAtReady"],
    }
