"""The core flow in every engine Playwright drives here: Chromium and Firefox (Debian's ESR over
WebDriver BiDi), hosted, from file:// and (Firefox) in a private window. WebKit runs the same steps
through Selenium in its own file. Chromium also has the whole suite; this file is where the claim
"the core flow works in each engine" reads the same for each."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from .support import core_flow as flow
from .support.browser import firefox_downloads_folder, firefox_launch_options, record_traffic
from .test_browser_embeddings import (
    assert_like_python,
    embed_in_page,
    probe_files,  # noqa: F401 (the fixture, shared)
)


@dataclass
class Engine:
    browser: object
    outside: Callable[[], list[str]]  # what it tried to send beyond loopback during the test
    downloads_folder: Path | None = None  # see tests/support/browser.py firefox_downloads_folder


def firefox_outside_since_now(proxy) -> Callable[[], list[str]]:
    start = len(proxy.seen)
    return lambda: proxy.seen[start:]


@pytest.fixture(params=["chromium", "firefox"])
def engine(request) -> Engine:
    """The session's browser of each engine (launched once, shared with other tests). Firefox
    sends everything but loopback to a proxy that notes it and answers nothing; Chromium runs
    with its background networking off and is not watched there."""
    if request.param == "chromium":
        return Engine(request.getfixturevalue("browser"), lambda: [])
    return Engine(
        request.getfixturevalue("firefox_browser"),
        firefox_outside_since_now(request.getfixturevalue("firefox_outside")),
        firefox_downloads_folder(request.getfixturevalue("firefox_downloads")),
    )


@pytest.fixture
def contexts(engine) -> object:
    """new() → a fresh browser context (its own storage); all closed at the end."""
    made = []

    class Contexts:
        @staticmethod
        def new():
            made.append(engine.browser.new_context())
            return made[-1]

    yield Contexts
    for context in made:
        context.close()


def test_hosted_page(engine, contexts, surfaces_site, serve_site, texture_files, tmp_path):
    server = serve_site(surfaces_site)
    session = flow.open_session(contexts.new(), server.url)
    flow.upload_photos(session, texture_files)
    flow.train_model(session)
    flow.predict_held_out(session, texture_files)
    flow.reload_keeps_samples(session)
    saved = flow.save_project_file(session, tmp_path, engine.downloads_folder)

    fresh = flow.open_session(contexts.new(), server.url)
    assert set(flow.sample_counts(fresh.page).values()) == {0}
    flow.open_project_file(fresh, saved)
    flow.predict_held_out(fresh, texture_files)

    for each in (session, fresh):
        assert flow.foreign_requests(each, server.url) == []
    assert engine.outside() == []


def test_single_file_from_file_url(engine, contexts, surfaces_single_file, texture_files):
    session = flow.open_session(contexts.new(), surfaces_single_file.as_uri())
    flow.upload_photos(session, texture_files)
    flow.train_model(session)
    flow.predict_held_out(session, texture_files)
    flow.reload_keeps_samples(session)

    assert flow.foreign_requests(session, "file:") == []
    assert engine.outside() == []


def test_probe_embeddings_follow_python(request, engine, contexts, surfaces_site, serve_site):
    """Whatever base-model runtime the engine gets computes what Python does: the build's probe
    photos, added on the page, are within cosine 0.99 of the manifest's embeddings."""
    manifest = json.loads((surfaces_site / "manifest.json").read_text())
    server = serve_site(surfaces_site)
    session = flow.open_session(contexts.new(), server.url)

    embeddings = embed_in_page(session, request.getfixturevalue("probe_files"))

    assert_like_python(embeddings, manifest, engine.browser.browser_type.name)
    flow.check_page(session)
    assert flow.foreign_requests(session, server.url) == []
    assert engine.outside() == []


def site_storage(profile: Path, kind: str) -> list[str]:
    """The origins that have storage of `kind` ("default", or "private": private windows') in a
    Firefox profile."""
    folder = profile / "storage" / kind
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def test_firefox_private_window(
    playwright, firefox_outside, surfaces_site, serve_site, texture_files, tmp_path
):
    """Firefox in permanent private browsing (every window private, as with a private window or
    "never remember history"): the page's IndexedDB lives encrypted under storage/private while
    the window is open and is gone once it closes. A plain new context, by contrast, is an
    ordinary profile."""
    outside = firefox_outside_since_now(firefox_outside)
    profile, downloads = tmp_path / "profile", tmp_path / "downloads"
    downloads.mkdir()
    options = firefox_launch_options(
        firefox_outside, downloads, **{"browser.privatebrowsing.autostart": True}
    )
    context = playwright.firefox.launch_persistent_context(str(profile), **options)
    try:
        server = serve_site(surfaces_site)
        session = record_traffic(context.pages[0] if context.pages else context.new_page())
        session.page.goto(server.url)
        flow.load(session)
        flow.upload_photos(session, texture_files)
        flow.train_model(session)
        flow.predict_held_out(session, texture_files)
        flow.reload_keeps_samples(session)
        flow.save_project_file(session, tmp_path, firefox_downloads_folder(downloads))

        assert site_storage(profile, "default") == []
        assert len(site_storage(profile, "private")) == 1
        assert flow.foreign_requests(session, server.url) == []
        assert outside() == []
    finally:
        context.close()
    assert site_storage(profile, "private") == []  # closed: only the saved project file is left
