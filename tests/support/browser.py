"""Launching browsers (system Chromium, Firefox ESR through BiDi, WebKitGTK's MiniBrowser) and
recording what a page requests and logs."""

from __future__ import annotations

import os
import socketserver
from dataclasses import dataclass
from pathlib import Path

from .pagekit import wait_ready

SYSTEM_CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def chromium_executable() -> str | None:
    """The system Chromium where there is one (Debian's, as in CI); else Playwright's own browser."""
    configured = os.environ.get("TEACHKIT_CHROMIUM")
    if configured:
        return configured
    return str(SYSTEM_CHROMIUM) if SYSTEM_CHROMIUM.exists() else None


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


WEBKIT_DRIVER = Path("/usr/bin/WebKitWebDriver")


def minibrowser() -> str:
    configured = os.environ.get("TEACHKIT_MINIBROWSER")
    if configured:
        return configured
    found = sorted(Path("/usr/lib").glob("*/webkit2gtk-4.*/MiniBrowser"))
    assert found, "MiniBrowser is missing: install Debian's webkit2gtk-driver (see docs/development.md)"
    return str(found[-1])


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
