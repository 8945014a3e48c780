"""Shared fixtures: an isolated model cache, built sites, a local server, headless Chromium and
headless Firefox."""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from builder.cli import main as cli_main
from builder.serve import make_server

SYSTEM_CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


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
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if used & BROWSER_FIXTURES:
            item.add_marker(pytest.mark.browser)
        if used & CONVERT_FIXTURES:
            item.add_marker(pytest.mark.convert)


def run_cli(*args: str) -> object:
    result = CliRunner().invoke(cli_main, [str(arg) for arg in args], catch_exceptions=False)
    return result


def write_project(directory: Path, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "project.toml"
    path.write_text(text)
    return path


def build_project(directory: Path, text: str, *extra: str) -> Path:
    """Builds a project and returns its output directory; fails the test with the CLI output."""
    project = write_project(directory, text)
    output = directory / "dist"
    result = run_cli("build", project, "-o", output, *extra)
    assert result.exit_code == 0, result.output
    return output


@dataclass
class Server:
    url: str
    log: list[str] = field(default_factory=list)


@contextlib.contextmanager
def site_servers() -> Iterator[object]:
    """Yields start(directory, isolated=False) -> Server; every server started stops at the end."""
    servers = []

    def start(directory: Path, isolated: bool = False) -> Server:
        server = make_server(directory, "127.0.0.1", 0, isolated, quiet=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return Server(f"http://127.0.0.1:{server.server_address[1]}/")

    try:
        yield start
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


@pytest.fixture
def serve_site() -> Iterator[object]:
    with site_servers() as start:
        yield start


@pytest.fixture(scope="module")
def serve_site_module() -> Iterator[object]:
    with site_servers() as start:
        yield start


def chromium_executable() -> str | None:
    """The system Chromium where there is one (Debian's, as in CI); else Playwright's own browser."""
    configured = os.environ.get("TEACHKIT_CHROMIUM")
    if configured:
        return configured
    return str(SYSTEM_CHROMIUM) if SYSTEM_CHROMIUM.exists() else None


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


SYSTEM_FIREFOX = Path("/usr/bin/firefox-esr")
# Firefox's own switches for running under test: its remote settings would otherwise sync from
# firefox.settings.services.mozilla.com (about 160 connections in the first minute). Release builds
# honour the dummy server only when MOZ_DISABLE_NONLOCAL_CONNECTIONS is set, which also makes a
# Firefox under automation crash rather than connect beyond loopback (the proxy below comes first).
FIREFOX_ENV = {"MOZ_DISABLE_NONLOCAL_CONNECTIONS": "1"}
FIREFOX_PREFS = {
    "services.settings.server": "data:,#remote-settings-dummy/v1",
    # Playwright turns this off; a visitor's Firefox has it on, and the single file runs under it.
    "security.fileuri.strict_origin_policy": True,
}


def firefox_executable() -> str | None:
    """Debian's Firefox ESR where there is one (as in CI); else Playwright's own Firefox."""
    configured = os.environ.get("TEACHKIT_FIREFOX")
    if configured:
        return configured
    return str(SYSTEM_FIREFOX) if SYSTEM_FIREFOX.exists() else None


class OutsideRequests(socketserver.ThreadingTCPServer):
    """The proxy Firefox must use for every host but loopback (which Firefox never proxies): it
    notes each request line and answers none, so nothing leaves the machine and a test can say
    what was tried."""

    daemon_threads = True

    def __init__(self) -> None:
        self.seen: list[str] = []
        outer = self

        class Refuse(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                outer.seen.append(self.rfile.readline(8192).decode("latin-1").strip())

        super().__init__(("127.0.0.1", 0), Refuse)

    def prefs(self) -> dict[str, object]:
        port = self.server_address[1]
        return {
            "network.proxy.type": 1,
            "network.proxy.share_proxy_settings": False,
            **{f"network.proxy.{kind}": "127.0.0.1" for kind in ("http", "ssl", "socks")},
            **{f"network.proxy.{kind}_port": port for kind in ("http", "ssl", "socks")},
        }


@pytest.fixture(scope="session")
def firefox_outside() -> Iterator[OutsideRequests]:
    """Every request the Firefox under test tried to send beyond loopback, page or browser."""
    proxy = OutsideRequests()
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    yield proxy
    proxy.shutdown()
    proxy.server_close()


def firefox_launch_options(outside: OutsideRequests, downloads: Path, **prefs: object) -> dict[str, object]:
    """System Firefox through Playwright's WebDriver BiDi channel (`moz-firefox`; Playwright 1.64:
    1.65 sends a command ESR 153 lacks), or Playwright's own patched Firefox where there is none."""
    executable = firefox_executable()
    system = {"channel": "moz-firefox", "executable_path": executable} if executable else {}
    return {
        **system,
        "headless": True,
        "downloads_path": str(downloads),
        "env": {**os.environ, **FIREFOX_ENV},
        "firefox_user_prefs": {**FIREFOX_PREFS, **outside.prefs(), **prefs},
    }


def firefox_downloads_folder(downloads: Path) -> Path | None:
    """Where to look for a finished download when Playwright reports none: Playwright 1.64 drops
    Firefox's BiDi `downloadWillBegin` for a link to a blob (its `navigation` is null), while
    Firefox saves the file, under its own name, in the folder Playwright gave it. Playwright's own
    Firefox reports downloads as usual."""
    return downloads if firefox_executable() else None


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


@dataclass
class PageSession:
    """A page plus every request it made and every console error, for assertions."""

    page: object
    requests: list[str]
    console_errors: list[str]

    def foreign_requests(self, origin: str) -> list[str]:
        return [url for url in self.requests if not url.startswith((origin, "data:", "blob:"))]


def record_traffic(page: object) -> PageSession:
    session = PageSession(page, [], [])
    page.on("request", lambda request: session.requests.append(request.url))
    page.on("console", lambda msg: msg.type == "error" and session.console_errors.append(msg.text))
    page.on("pageerror", lambda error: session.console_errors.append(str(error)))
    return session


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


@pytest.fixture(scope="session")
def fixtures_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fixtures")


def copy_tree(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


LITE0_PROJECT = """
title = "Probe page"
classes = ["cat", "coffee"]

[model]
base = "efficientnet_lite0"
quantization = "{quantization}"
"""


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
    from .pagekit import PROJECT

    lite0_sites("auto")
    return build_project(tmp_path_factory.mktemp("surfaces"), PROJECT)


@pytest.fixture(scope="session")
def surfaces_single_file(tmp_path_factory: pytest.TempPathFactory, lite0_sites: object) -> Path:
    """The same project as one HTML file."""
    from .pagekit import PROJECT

    lite0_sites("auto")
    output = build_project(tmp_path_factory.mktemp("surfaces-single"), PROJECT, "--single-file")
    return next(output.glob("*.html"))


@pytest.fixture(scope="session")
def texture_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, list[Path]]]:
    """20 training and 12 held-out crops of each texture (from disjoint halves of the photo)."""
    from .images import TEXTURES, texture_crops

    directory = tmp_path_factory.mktemp("textures")
    return {
        texture: {
            "train": texture_crops(directory, texture, 20, "train", seed=index),
            "held-out": texture_crops(directory, texture, 12, "held-out", seed=100 + index),
        }
        for index, texture in enumerate(TEXTURES)
    }


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


@pytest.fixture(scope="session")
def page_trained(tmp_path_factory, browser, surfaces_site, texture_files) -> object:
    """Trains the Surfaces page as a visitor would (20 photos per class, the default dense head,
    or `head = "knn"`) and saves its project file; built once per head type and session."""
    from playwright.sync_api import expect

    from .pagekit import CLASS_OF, collect_and_train

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
                    from .pagekit import wait_ready

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


# --- WebKit: WebKitGTK's MiniBrowser driven by WebKitWebDriver through selenium, on a private Xvfb
# display (MiniBrowser has no headless mode). Its automation sessions are ephemeral, which is what
# Safari's Private Browsing is. The steps: tests/webkit_page.py.

WEBKIT_DRIVER = Path("/usr/bin/WebKitWebDriver")


def minibrowser() -> str:
    configured = os.environ.get("TEACHKIT_MINIBROWSER")
    if configured:
        return configured
    found = sorted(Path("/usr/lib").glob("*/webkit2gtk-4.*/MiniBrowser"))
    assert found, "MiniBrowser is missing: install Debian's webkit2gtk-driver (see docs/development.md)"
    return str(found[-1])


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

    from .webkit_page import WebKitPage

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
