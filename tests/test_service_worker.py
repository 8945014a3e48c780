"""A hosted page that loads once: its service worker keeps the site on the device after the first
visit, a return visit fetches only a revalidation of manifest.json, a visit with the network cut
still loads and predicts, and a rebuilt site replaces the kept one on the next visit."""

from __future__ import annotations

import functools
import http.server
import json
import re
import threading
from pathlib import Path

from playwright.sync_api import expect

from builder.serve import SiteHandler

from .support.browser import record_traffic
from .support.pagekit import PROJECT, predict, wait_ready
from .support.site import build_project

CACHE_NAMES = "async () => (await caches.keys()).filter((name) => name.startsWith('teachkit:'))"


class LoggedServer:
    """Serves `root` on loopback and notes every request's path and status, as a host would see them."""

    def __init__(self, root: Path) -> None:
        self.requests: list[tuple[str, int]] = []
        requests = self.requests

        class Handler(SiteHandler):
            def log_request(self, code: object = "-", size: object = "-") -> None:
                requests.append((self.path, int(code)))

        self.server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(Handler, directory=str(root))
        )
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def open_saved(context, url: str):
    """Opens the page and waits until it is ready and its build is kept on this device."""
    session = record_traffic(context.new_page())
    session.page.goto(url)
    wait_ready(session.page)
    expect(session.page.locator('[data-testid="offline"]')).to_have_attribute(
        "data-state", "saved", timeout=60_000
    )
    return session


def test_a_return_visit_fetches_only_a_revalidation_and_works_with_the_network_cut(
    browser, surfaces_site, texture_files, tmp_path
):
    server = LoggedServer(surfaces_site.parent)
    url = f"{server.origin}/{surfaces_site.name}/?model=abc"  # a sub-path, and a ?model= link
    context = browser.new_context()
    try:
        first = open_saved(context, url)
        page = first.page
        for name, texture in (("Brick", "brick"), ("Grass", "grass"), ("Gravel", "gravel")):
            page.locator(
                f'[data-testid="class"][data-class-name="{name}"] [data-testid="sample-upload"]'
            ).set_input_files([str(f) for f in texture_files[texture]["train"][:6]])
        for name in ("Brick", "Grass", "Gravel"):
            expect(
                page.locator(f'[data-testid="class"][data-class-name="{name}"] [data-testid="sample-count"]')
            ).to_have_text("6", timeout=60_000)
        page.click('[data-testid="train"]')
        expect(page.locator('[data-testid="train-status"]')).to_have_attribute(
            "data-state", "done", timeout=120_000
        )
        fetched = {path for path, status in server.requests if status == 200}
        # Up front, only what a page uses; a panel's files or another browser's WASM build wait.
        assert not any("/imagenet/" in path or path.endswith("umap-worker.js") for path in fetched), fetched
        assert all(path.startswith(f"/{surfaces_site.name}/") for path, _ in server.requests)
        page.close()

        server.requests.clear()
        again = open_saved(context, url)
        expect(again.page.locator('[data-testid="train-status"]')).to_have_attribute("data-state", "done")
        # The browser may also check sw.js for an update (a few kB); nothing else leaves the device.
        assert (f"/{surfaces_site.name}/manifest.json", 304) in server.requests
        assert {path for path, _ in server.requests} <= {
            f"/{surfaces_site.name}/manifest.json",
            f"/{surfaces_site.name}/sw.js",
        }, server.requests
        again.page.close()

        # The network cut: every request the pages make is refused, and the server is gone too
        # (Playwright's routes do not see what a service worker fetches).
        server.close()
        context.route(re.compile(r"^(https?|wss?)://"), lambda route: route.abort())
        offline = open_saved(context, url)
        expect(offline.page.locator('[data-testid="train-status"]')).to_have_attribute("data-state", "done")
        assert predict(offline.page, texture_files["grass"]["held-out"][0])[0] == "Grass"
        assert offline.console_errors == []
    finally:
        context.close()
        server.close()


def test_a_rebuilt_site_replaces_the_kept_one_on_the_next_visit(browser, lite0_sites, tmp_path):
    lite0_sites("auto")  # the base model's conversion is shared
    project = tmp_path / "project"
    site = build_project(project, PROJECT)
    server = LoggedServer(site)
    context = browser.new_context()
    try:
        first = open_saved(context, server.origin + "/")
        expect(first.page.locator("h1")).to_have_text("Surfaces")
        old_caches = first.page.evaluate(CACHE_NAMES)
        first.page.close()

        build_project(project, PROJECT.replace('"Surfaces"', '"Surfaces, rebuilt"'))
        second = open_saved(context, server.origin + "/")
        expect(second.page.locator("h1")).to_have_text("Surfaces, rebuilt")
        new_caches = second.page.evaluate(CACHE_NAMES)
        # One build kept: the new one; the old one is deleted once nothing uses it.
        assert len([name for name in new_caches if ":build:" in name]) == 1
        assert set(new_caches) - set(old_caches)
        assert not set(name for name in old_caches if ":build:" in name) & set(new_caches)
        manifest = json.loads((site / "manifest.json").read_text())
        served = {path.lstrip("/") for path, status in server.requests if status == 200}
        assert {entry["path"] for entry in manifest["files"] if entry["precache"]} <= served | {"index.html"}
        second.page.close()

        server.close()
        offline = open_saved(context, server.origin + "/")
        expect(offline.page.locator("h1")).to_have_text("Surfaces, rebuilt")
    finally:
        context.close()
        server.close()


def test_the_single_file_registers_no_service_worker(browser, surfaces_single_file):
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(surfaces_single_file.as_uri())
        wait_ready(page)
        expect(page.locator('[data-testid="offline"]')).to_have_attribute("data-state", "none")
        expect(page.locator('[data-testid="offline"]')).to_be_hidden()
        assert context.service_workers == []
    finally:
        context.close()
