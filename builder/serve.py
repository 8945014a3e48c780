"""A small static server for a built site on localhost, with the MIME types the page needs and,
on request, the headers that make the page cross-origin isolated (threaded WASM). The site is
named by its folder, or by the project that builds it."""

from __future__ import annotations

import functools
import http.server
import json
import logging
import shlex
from dataclasses import dataclass
from pathlib import Path

from .errors import BuildError

log = logging.getLogger(__name__)

MIME_TYPES = {
    ".wasm": "application/wasm",
    ".json": "application/json",
    ".bin": "application/octet-stream",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
}


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES}
    isolated = False

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-cache")
        # Host pages on other origins import embed.js and the classifier, which fetch the WASM
        # binaries and model downloads; GitHub Pages sends this header for every file too.
        self.send_header("Access-Control-Allow-Origin", "*")
        if self.isolated:
            self.send_header("Cross-Origin-Opener-Policy", "same-origin")
            self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        # One line per request, for -v; the default terminal stays quiet while the author works.
        log.debug("%s - %s", self.address_string(), format % args)


@dataclass(frozen=True)
class Site:
    root: Path  # the folder served
    page: str  # what to open in it: "" for index.html, or a single-file page's name


def built_site(directory: Path) -> Site | None:
    """The site a build wrote into `directory`: a hosted one (index.html) or a single HTML file."""
    if (directory / "index.html").is_file():
        return Site(directory, "")
    try:
        manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("mode") != "single_file":
        return None
    pages = [
        entry.get("path")
        for entry in manifest.get("files", [])
        if isinstance(entry, dict) and str(entry.get("path", "")).endswith(".html")
    ]
    return Site(directory, pages[0]) if pages and (directory / pages[0]).is_file() else None


def find_site(given: Path) -> Site:
    """The built site that `given` names: a built output folder, a project folder, or a project
    file (whose output.dir is served)."""
    from .config import PROJECT_FILE_NAME, load_project

    path = given.resolve()
    if path.is_dir():
        site = built_site(path)
        if site is not None:
            return site
        if not (path / PROJECT_FILE_NAME).is_file():
            raise BuildError(
                f"{given} has no index.html; build a site first with: teachkit build project.toml\n"
                "Hint: give the folder a build wrote, or a project folder or its project.toml."
            )
        given, path = given / PROJECT_FILE_NAME, path / PROJECT_FILE_NAME
    elif not path.exists():
        raise BuildError(
            f"{given} does not exist; give the folder a build wrote, or a project folder or its project.toml."
        )
    elif path.suffix.lower() == ".html":
        return Site(path.parent, path.name)
    elif path.suffix.lower() != ".toml":
        raise BuildError(
            f"{given} is neither a site nor a project file; give the folder a build wrote, or a project "
            "folder or its project.toml."
        )
    project = load_project(path)
    site = built_site(project.output.dir)
    if site is None:
        raise BuildError(
            f"{given} is not built yet: its output folder {project.output.dir} holds no site; "
            f"build it first with: teachkit build {shlex.quote(str(given))}"
        )
    return site


def make_server(directory: Path, host: str, port: int, isolated: bool, quiet: bool) -> http.server.HTTPServer:
    """Serves the built site in `directory`; `quiet` drops the request log (otherwise logged at DEBUG)."""
    if built_site(directory) is None:
        raise BuildError(
            f"{directory} has no index.html; build a site first with: teachkit build project.toml"
        )
    handler_class = type("Handler", (SiteHandler,), {"isolated": isolated})
    if quiet:
        handler_class.log_message = lambda *args: None
    handler = functools.partial(handler_class, directory=str(directory))
    try:
        return http.server.ThreadingHTTPServer((host, port), handler)
    except OSError as error:
        raise BuildError(
            f"cannot listen on {host}:{port}: {error.strerror or error}; try another --port."
        ) from error
