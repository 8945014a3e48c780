"""Shared fixtures: an isolated model cache, built sites, a local server, headless Chromium and
headless Firefox, WebKit. Fixture declarations only: the helpers behind them are in tests/support/."""

from __future__ import annotations

import base64
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from .support.browser import (
    CHROMIUM_ARGS,
    WEBKIT_DRIVER,
    OutsideRequests,
    PageSession,
    chromium_executable,
    firefox_launch_options,
    minibrowser,
    record_traffic,
)
from .support.pagekit import wait_ready
from .support.site import LITE0_PROJECT, build_project, site_servers
from .support.visitor import PREDICT_BYTES, PageTrained


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every test session converts into its own cache unless TEACHKIT_TEST_CACHE names a shared one
    (handy while developing; CI always starts empty)."""
    shared = os.environ.get("TEACHKIT_TEST_CACHE")
    cache = Path(shared) if shared else tmp_path_factory.mktemp("teachkit-cache")
    os.environ["TEACHKIT_CACHE"] = str(cache)
    return cache


# --- Test tiers: `browser` and `convert` marks, from the fixtures a test uses (directly or through
# other fixtures), so a new test is put in its tier by what it asks for. `./dev test quick` runs
# what needs neither (`-m "not browser and not convert"`). A test that builds a real site without
# one of these fixtures carries the mark itself.

# Fixtures that start a browser: Playwright's (Chromium, Firefox) and WebKit's through selenium.
BROWSER_FIXTURES = {
    "playwright",
    "browser",
    "open_page",
    "firefox_browser",
    "webkit",
    "webkit_browser",
    "xvfb_display",
    "page_trained",
}
# Fixtures that convert a model with TensorFlow (a real `teachkit build`, or the converters
# themselves): minutes for the base model on an empty cache. Some are a test module's own.
CONVERT_FIXTURES = {
    "lite0_sites",
    "surfaces_site",
    "surfaces_single_file",
    "page_trained",
    "cached_project",  # test_cli.py
    "deploys",  # test_deploy.py: builds the example project
    "tiny_keras_model",  # test_build.py: builds an author's own (small) model
    "tiny",  # test_litert_choice.py: converts a small model for LiteRT.js
    "installed",  # test_wheel.py: builds a site with the installed wheel
    "python_trained",  # builds the base model in Keras to embed photos (cached in the model cache)
}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--regenerate-golden",
        action="store_true",
        help="rewrite tests/golden/ from what the code renders now (tests/test_page_golden.py)",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if used & BROWSER_FIXTURES:
            item.add_marker(pytest.mark.browser)
        if used & CONVERT_FIXTURES:
            item.add_marker(pytest.mark.convert)


@pytest.fixture
def serve_site() -> Iterator[object]:
    with site_servers() as start:
        yield start


@pytest.fixture(scope="module")
def serve_site_module() -> Iterator[object]:
    with site_servers() as start:
        yield start


@pytest.fixture(scope="session")
def playwright() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="session")
def browser(playwright: object) -> Iterator[object]:
    browser = playwright.chromium.launch(
        executable_path=chromium_executable(), headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def firefox_outside() -> Iterator[OutsideRequests]:
    """Every request the Firefox under test tried to send beyond loopback, page or browser."""
    proxy = OutsideRequests()
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    yield proxy
    proxy.shutdown()
    proxy.server_close()


@pytest.fixture(scope="session")
def firefox_downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("firefox-downloads")


@pytest.fixture(scope="session")
def firefox_browser(
    playwright: object, firefox_outside: OutsideRequests, firefox_downloads: Path
) -> Iterator[object]:
    browser = playwright.firefox.launch(**firefox_launch_options(firefox_outside, firefox_downloads))
    yield browser
    browser.close()


@pytest.fixture
def open_page(browser: object) -> Iterator[object]:
    contexts = []

    def open_(url: str) -> PageSession:
        context = browser.new_context()
        contexts.append(context)
        session = record_traffic(context.new_page())
        session.page.goto(url)
        return session

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def ready_page(serve_site: object, open_page: object) -> object:
    """ready(site) → PageSession: serves a built site, opens it in a fresh context and waits until
    the page is ready (the preamble of most page tests)."""

    def ready(site: Path) -> PageSession:
        session = open_page(serve_site(site).url)
        wait_ready(session.page)
        return session

    return ready


@pytest.fixture(scope="session")
def fixtures_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fixtures")


@pytest.fixture(scope="session")
def lite0_sites(tmp_path_factory: pytest.TempPathFactory) -> object:
    """Built once per session: (quantization, runtime) → built site, for the encodings and base-model
    runtimes the tests need."""
    sites: dict[tuple[str, str], Path] = {}

    def get(quantization: str, runtime: str = "auto") -> Path:
        if (quantization, runtime) not in sites:
            directory = tmp_path_factory.mktemp(f"lite0-{quantization}-{runtime}")
            text = LITE0_PROJECT.format(quantization=quantization) + f'runtime = "{runtime}"\n'
            sites[quantization, runtime] = build_project(directory, text)
        return sites[quantization, runtime]

    return get


@pytest.fixture(scope="session")
def surfaces_site(tmp_path_factory: pytest.TempPathFactory, lite0_sites: object) -> Path:
    """A hosted 3-class site (Brick, Grass, Gravel); the base model's conversion is shared."""
    from .support.pagekit import PROJECT

    lite0_sites("auto")
    return build_project(tmp_path_factory.mktemp("surfaces"), PROJECT)


@pytest.fixture(scope="session")
def surfaces_single_file(tmp_path_factory: pytest.TempPathFactory, lite0_sites: object) -> Path:
    """The same project as one HTML file."""
    from .support.pagekit import PROJECT

    lite0_sites("auto")
    output = build_project(tmp_path_factory.mktemp("surfaces-single"), PROJECT, "--single-file")
    return next(output.glob("*.html"))


@pytest.fixture(scope="session")
def texture_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, list[Path]]]:
    """20 training and 12 held-out crops of each texture (from disjoint halves of the photo)."""
    from .support.images import TEXTURES, texture_crops

    directory = tmp_path_factory.mktemp("textures")
    return {
        texture: {
            "train": texture_crops(directory, texture, 20, "train", seed=index),
            "held-out": texture_crops(directory, texture, 12, "held-out", seed=100 + index),
        }
        for index, texture in enumerate(TEXTURES)
    }


@pytest.fixture(scope="session")
def page_trained(tmp_path_factory, browser, surfaces_site, texture_files) -> object:
    """Trains the Surfaces page as a visitor would (20 photos per class, the default dense head,
    or `head = "knn"`) and saves its project file; built once per head type and session."""
    from playwright.sync_api import expect

    from .support.pagekit import CLASS_OF, collect_and_train

    made: dict[str, PageTrained] = {}

    def get(head: str = "dense") -> PageTrained:
        if head in made:
            return made[head]
        with site_servers() as start:
            context = browser.new_context()
            try:
                page = context.new_page()
                page.goto(start(surfaces_site).url)
                if head != "dense":
                    from .support.pagekit import wait_ready

                    wait_ready(page)
                    page.evaluate("(type) => window.teachkit.setSettings({ head: { type } })", head)
                collect_and_train(page, texture_files)
                predictions = []
                for files in texture_files.values():
                    for photo in files["held-out"]:
                        encoded = base64.b64encode(photo.read_bytes()).decode()
                        result = page.evaluate(PREDICT_BYTES, encoded)
                        predictions.append((photo, result["label"], result["confidences"]))
                assert sum(label == CLASS_OF[p.name.split("-")[0]] for p, label, _ in predictions) >= 30
                with page.expect_download() as download:
                    page.click('[data-testid="export-project"]')
                path = tmp_path_factory.mktemp(f"trained-{head}") / "surfaces.teachkit.zip"
                download.value.save_as(path)
                expect(page.locator('[data-testid="message"]')).to_contain_text("Saved")
            finally:
                context.close()
        made[head] = PageTrained(path, predictions)
        return made[head]

    return get


@pytest.fixture(scope="session")
def python_trained(texture_files) -> object:
    """The project file page_trained saves, written in Python instead (no browser): head →
    PageTrained, whose predictions are the Python model's own. See tests/support/trained_project.py."""
    from .support.trained_project import python_trained as write

    made: dict[str, PageTrained] = {}

    def get(head: str = "dense") -> PageTrained:
        if head not in made:
            made[head] = write(texture_files, head)
        return made[head]

    return get


# --- WebKit: WebKitGTK's MiniBrowser driven by WebKitWebDriver through selenium, on a private Xvfb
# display (MiniBrowser has no headless mode). Its automation sessions are ephemeral, which is what
# Safari's Private Browsing is. The steps: tests/support/webkit_page.py.


@pytest.fixture(scope="session")
def xvfb_display() -> Iterator[str]:
    """A display of its own, numbered by Xvfb itself (-displayfd), so parallel runs never collide."""
    import subprocess

    assert shutil.which("Xvfb"), "Xvfb is missing: install Debian's xvfb (see docs/development.md)"
    read, write = os.pipe()
    process = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
        pass_fds=[write],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as announced:
        number = announced.readline().strip()
    try:
        assert number, f"Xvfb did not start (exit code {process.poll()})"
        yield f":{number}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def webkit_browser(xvfb_display: str) -> object:
    """Opens a MiniBrowser window, a fresh ephemeral session each time: open(camera=False) →
    WebKitPage, with WebKit's mock cameras if `camera`. The display is the test session's; every
    window closes at its test's end (the `webkit` fixture)."""
    from selenium import webdriver
    from selenium.webdriver.webkitgtk.service import Service

    from .support.webkit_page import WebKitPage

    def open_(camera: bool = False) -> WebKitPage:
        options = webdriver.WebKitGTKOptions()
        options.binary_location = minibrowser()
        options.add_argument("--automation")
        if camera:  # WebKit's own test cameras: a moving pattern
            options.add_argument("--enable-media-stream=true")
            options.add_argument("--enable-mock-capture-devices=true")
        assert WEBKIT_DRIVER.exists(), "WebKitWebDriver is missing: install Debian's webkit2gtk-driver"
        service = Service(str(WEBKIT_DRIVER), env={**os.environ, "DISPLAY": xvfb_display})
        return WebKitPage(webdriver.WebKitGTK(options=options, service=service))

    return open_


@pytest.fixture
def webkit(webkit_browser: object) -> Iterator[object]:
    """open(camera=False) → a WebKitPage in a new MiniBrowser window, its own ephemeral session;
    all quit after the test."""
    pages = []

    def open_(camera: bool = False) -> object:
        pages.append(webkit_browser(camera))
        return pages[-1]

    yield open_
    for page in pages:
        page.quit()
