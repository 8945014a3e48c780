"""A small static server for a built site on localhost, with the MIME types the page needs and,
on request, the headers that make the page cross-origin isolated (threaded WASM)."""

from __future__ import annotations

import functools
import http.server
from pathlib import Path

from .errors import BuildError

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


# Scripts that host pages on other origins import (an ES module import from another origin needs
# CORS); GitHub Pages sends the same header for every file.
HOST_SCRIPTS = ("/embed.js", "/embed-classic.js")


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES}
    isolated = False

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-cache")
        if self.path.split("?", 1)[0].endswith(HOST_SCRIPTS):
            self.send_header("Access-Control-Allow-Origin", "*")
        if self.isolated:
            self.send_header("Cross-Origin-Opener-Policy", "same-origin")
            self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        super().end_headers()


def make_server(directory: Path, host: str, port: int, isolated: bool, quiet: bool) -> http.server.HTTPServer:
    if not (directory / "index.html").is_file():
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
