"""Building and serving sites: the CLI in-process, project files, local servers."""

from __future__ import annotations

import contextlib
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from click.testing import CliRunner

from builder.cli import main as cli_main
from builder.serve import make_server


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
