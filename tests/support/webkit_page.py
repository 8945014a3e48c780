"""A visitor's steps (those of tests/support/pagekit.py) in WebKit, which Playwright cannot drive here:
WebKitGTK's MiniBrowser through WebKitWebDriver and selenium. The page is reached only through
`data-testid` attributes and `window.teachkit`."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

from .pagekit import API_BLOB_BASE64, CLASS_OF

# Every notice and error the page announces, kept by the page for the test (API events "notice",
# "error"): a message is checked even if a later one replaced it on screen before the test looked.
LISTEN = """() => {
  if (window.teachkitHeard || !window.teachkit) return; // heard already, or not a teachkit page
  window.teachkitHeard = [];
  window.teachkit.on("notice", ({ text }) => window.teachkitHeard.push(text));
  window.teachkit.on("error", ({ message }) => window.teachkitHeard.push(message));
}"""

# The text of every message area (shown or hidden), the status line and the next step.
ON_SCREEN = """() => [...document.querySelectorAll(
  '[data-testid$="message"], [data-testid="status"], [data-testid="next-step"], [data-testid="backend"]'
)].map((element) => element.textContent.trim()).filter(Boolean)"""


def card(name: str) -> str:
    return f'[data-testid="class"][data-class-name={json.dumps(name, ensure_ascii=False)}]'


class WebKitPage:
    """One MiniBrowser window (an ephemeral session) and the few things the tests do with it."""

    def __init__(self, driver) -> None:
        self.driver = driver
        self.closed = False

    def goto(self, url: str) -> None:
        self.driver.get(url)
        self.evaluate(LISTEN)

    def reload(self) -> None:
        self.driver.refresh()
        self.evaluate(LISTEN)

    def quit(self) -> None:
        """Closes the window and its driver; again is a no-op (a test may close one early)."""
        if not self.closed:
            self.closed = True
            self.driver.quit()

    def evaluate(self, function: str, *args: object) -> object:
        """Calls a JS function (source text, as for Playwright's page.evaluate) with `args`; a
        returned promise is awaited. WebDriver's scripts are not the page's, so its CSP allows them."""
        done = "arguments[arguments.length - 1]"
        script = (
            f"Promise.resolve(({function})(...[...arguments].slice(0, -1)))"
            f".then((value) => {done}({{ value }}), (error) => {done}({{ error: String(error) }}));"
        )
        result = self.driver.execute_async_script(script, *args)
        assert "error" not in result, f"{function} failed: {result['error']}"
        return result.get("value")

    def attribute(self, selector: str, name: str) -> str | None:
        return self.evaluate(
            "(selector, name) => document.querySelector(selector)?.getAttribute(name) ?? null", selector, name
        )

    def text(self, selector: str) -> str | None:
        return self.evaluate("(selector) => document.querySelector(selector)?.textContent ?? null", selector)

    def wait_for(
        self, selector: str, value: str, *, attribute: str | None = None, contains: bool = False, timeout=60
    ) -> None:
        """Waits until the element's attribute (or its text) equals `value` (or contains it)."""
        deadline = time.monotonic() + timeout
        while True:
            current = self.attribute(selector, attribute) if attribute else self.text(selector)
            if current is not None and (value in current if contains else current == value):
                return
            if time.monotonic() > deadline:
                what = f"{selector} {attribute or 'text'}"
                raise AssertionError(f"{what} is {current!r}, not {value!r}; the page says {self.messages()}")
            time.sleep(0.2)

    def wait_until(self, function: str, *args: object, timeout=60) -> object:
        """Waits until the JS function returns something truthy, and returns it."""
        deadline = time.monotonic() + timeout
        while not (value := self.evaluate(function, *args)):
            if time.monotonic() > deadline:
                raise AssertionError(f"{function} stayed {value!r}; the page says {self.messages()}")
            time.sleep(0.2)
        return value

    def set_files(self, selector: str, files: list[Path]) -> None:
        """Chooses files in an <input type=file>, as the visitor's file dialog would."""
        self.driver.find_element("css selector", selector).send_keys("\n".join(str(f) for f in files))

    def click(self, selector: str) -> None:
        self.driver.find_element("css selector", selector).click()

    def hold(self, selector: str, seconds: float) -> None:
        """Presses the mouse on the element, keeps it down `seconds`, releases it."""
        from selenium.webdriver.common.action_chains import ActionChains

        element = self.driver.find_element("css selector", selector)
        ActionChains(self.driver).move_to_element(element).click_and_hold().pause(seconds).release().perform()

    def messages(self) -> list[str]:
        """Every message the page announced since it loaded, and the text of its message areas now."""
        return [*self.evaluate("() => window.teachkitHeard ?? []"), *self.evaluate(ON_SCREEN)]


def wait_ready(page: WebKitPage) -> None:
    page.wait_for('[data-testid="status"]', "ready", attribute="data-state")


def upload(page: WebKitPage, name: str, files: list[Path], expected_count: int) -> None:
    page.set_files(f'{card(name)} [data-testid="sample-upload"]', files)
    page.wait_for(f'{card(name)} [data-testid="sample-count"]', str(expected_count))


def counts(page: WebKitPage) -> dict[str, str]:
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('[data-testid="class"]')].map((card) =>
             [card.dataset.className, card.querySelector('[data-testid="sample-count"]').textContent]))"""
    )


def train(page: WebKitPage) -> None:
    page.click('[data-testid="train"]')
    page.wait_for('[data-testid="train-status"]', "done", attribute="data-state", timeout=300)


def collect_and_train(page: WebKitPage, texture_files) -> None:
    wait_ready(page)
    for texture, files in texture_files.items():
        upload(page, CLASS_OF[texture], files["train"], 20)
    train(page)


def predict(page: WebKitPage, file: Path) -> tuple[str, float]:
    """Chooses a photo under *Choose an image…* and reads the prediction shown."""
    output = '[data-testid="prediction"]'
    count = int(page.attribute(output, "data-count"))
    page.set_files('[data-testid="predict-upload"]', [file])
    page.wait_for(output, str(count + 1), attribute="data-count", timeout=30)
    return page.attribute(output, "data-label"), float(page.attribute(output, "data-confidence"))


def held_out_predictions(page: WebKitPage, texture_files) -> list[tuple[str, float]]:
    return [predict(page, file) for files in texture_files.values() for file in files["held-out"]]


def accuracy(predictions: list[tuple[str, float]], texture_files) -> float:
    truth = [CLASS_OF[texture] for texture, files in texture_files.items() for _ in files["held-out"]]
    return sum(label == expected for (label, _), expected in zip(predictions, truth, strict=True)) / len(
        truth
    )


def hold_record(page: WebKitPage, name: str, seconds: float) -> int:
    """*Hold to record* in the class's card: a first press starts the camera, a held one records."""
    button = f'{card(name)} [data-testid="record"]'
    page.click(button)
    page.wait_until("() => window.teachkit.status().camera")
    page.hold(button, seconds)
    # Frames still being embedded at the release are stored, then the page says how many.
    page.wait_for('[data-testid="message"]', "Recorded", contains=True, timeout=20)
    return int(page.text(f'{card(name)} [data-testid="sample-count"]'))


def live_labels(page: WebKitPage, count: int) -> list[str]:
    """Labels of `count` consecutive live predictions from the camera."""
    output = '[data-testid="prediction"]'
    start = int(page.attribute(output, "data-count"))
    page.click('[data-testid="live-toggle"]')
    labels = []
    seen = start
    deadline = time.monotonic() + 60
    while len(labels) < count and time.monotonic() < deadline:
        current = int(page.attribute(output, "data-count"))
        if current != seen:
            seen = current
            labels.append(page.attribute(output, "data-label"))
        time.sleep(0.05)
    page.click('[data-testid="live-toggle"]')
    return labels


def export_project(page: WebKitPage, path: Path) -> Path:
    """*Save project file* as the visitor clicks it; WebDriver cannot catch the download, so the
    same file's bytes are taken through window.teachkit.exportProject()."""
    page.click('[data-testid="export-project"]')
    page.wait_for('[data-testid="message"]', "Saved", contains=True)
    path.write_bytes(base64.b64decode(page.evaluate(API_BLOB_BASE64, "exportProject")))
    return path


def import_project(page: WebKitPage, path: Path) -> None:
    page.set_files('[data-testid="import-project"]', [path])
    page.wait_for('[data-testid="message"]', "Imported", contains=True)
