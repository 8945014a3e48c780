"""What the benchmarks share: building a project into a site with the real CLI, and serving it on
loopback while a benchmark runs."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from builder.serve import make_server  # noqa: E402


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
