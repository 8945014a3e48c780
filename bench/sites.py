"""What the benchmarks share: building a project into a site with the real CLI, and serving it on
loopback while a benchmark runs."""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from builder.serve import SiteHandler, make_server  # noqa: E402
from builder.sizes import gzip_size  # noqa: E402


def save_results(directory: Path, name: str, results: object, report: str) -> None:
    """Writes a benchmark's results as NAME.json and its report as NAME.md into `directory`
    (bench/results/ by default) and prints the report."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{name}.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    (directory / f"{name}.md").write_text(report.rstrip("\n") + "\n")
    print(report)


def report_head(title: str, command: str, env: dict, notes: str, columns: list[str]) -> list[str]:
    """A report's first lines: its title; the command, when, in which Chromium (and on which backend
    the page ran, where `env` says) on how many cores under what load, then `notes`; and its
    table's header."""
    backend = f", {env['backend']}" if "backend" in env else ""
    ran = (
        f"`{command}`, {env['date']}: {env['chromium']} headless{backend}; {env['cpus']} cores, load "
        f"average {env['load_before']} before and {env['load_after']} after (a shared machine)."
    )
    return [
        f"# {title}",
        "",
        f"{ran} {notes}",
        "",
        "| " + " | ".join(columns) + " |",
        "|" + " --- |" * len(columns),
    ]


def build_project_site(work: Path, project_text: str) -> tuple[Path, str]:
    """Builds `project_text` with `teachkit build` into work/site (the converted model is cached in
    TEACHKIT_CACHE, by default the user's cache); returns the site and the build's summary line."""
    project = work / "project" / "project.toml"
    project.parent.mkdir(parents=True)
    project.write_text(project_text)
    env = dict(os.environ)
    env.setdefault("TEACHKIT_CACHE", str(Path.home() / ".cache" / "teachkit"))
    output = work / "site"
    done = subprocess.run(
        [sys.executable, "-m", "builder.cli", "build", str(project), "-o", str(output)],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=1800,
    )
    if done.returncode != 0:
        raise SystemExit(f"teachkit build failed:\n{done.stdout}\n{done.stderr}")
    return output, next(line for line in done.stdout.splitlines() if line.startswith("Built "))


@contextlib.contextmanager
def serve(site: Path, isolated: bool = False) -> Iterator[str]:
    server = make_server(site, "127.0.0.1", 0, isolated, quiet=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Traffic:
    """What a served site sent: each response's path and status, and the bytes on the wire (headers
    and bodies, uncompressed as this server sends them)."""

    site: Path
    responses: list[tuple[str, int]] = field(default_factory=list)
    wire_bytes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        with self.lock:
            self.responses.clear()
            self.wire_bytes = 0

    def gzip_bytes(self) -> int:
        """The same transfer as a host that gzips every file (as GitHub Pages does) would send it:
        the files of the full (200) responses compressed, the rest as they were."""
        compressed = self.wire_bytes
        for path, status in self.responses:
            if status == 200:
                file = self.site / (path.split("?")[0].lstrip("/") or "index.html")
                data = file.read_bytes()
                compressed -= len(data) - gzip_size(data)
        return compressed


@contextlib.contextmanager
def serve_counted(site: Path) -> Iterator[tuple[str, Traffic]]:
    """Serves `site` like `serve`, counting what it sends."""
    traffic = Traffic(site)

    class Handler(SiteHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def log_request(self, code: object = "-", size: object = "-") -> None:
            with traffic.lock:
                traffic.responses.append((self.path, int(code)))

        def flush_headers(self) -> None:
            with traffic.lock:
                traffic.wire_bytes += sum(map(len, getattr(self, "_headers_buffer", [])))
            super().flush_headers()

        def copyfile(self, source, outputfile) -> None:
            data = source.read()
            with traffic.lock:
                traffic.wire_bytes += len(data)
            outputfile.write(data)

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(site))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", traffic
    finally:
        server.shutdown()
        server.server_close()
