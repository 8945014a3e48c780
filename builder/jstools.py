"""The JavaScript side of the build: Node.js, the locked npm dependencies, esbuild.

In a source checkout the dependencies live in the repository's node_modules; an installed wheel
carries package.json + package-lock.json and installs them once into a cache directory.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .errors import BuildError
from .progress import NO_PROGRESS, Progress

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent


def cache_root() -> Path:
    """Where teachkit keeps converted models and installed JS dependencies."""
    configured = os.environ.get("TEACHKIT_CACHE")
    if configured:
        return Path(configured).expanduser().resolve()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "teachkit"


@dataclass(frozen=True)
class JsToolchain:
    root: Path  # holds package.json and node_modules

    @property
    def node_modules(self) -> Path:
        return self.root / "node_modules"

    def package_version(self, name: str) -> str:
        return json.loads((self.node_modules / name / "package.json").read_text())["version"]

    def wasm_binaries(self) -> list[Path]:
        return sorted((self.node_modules / "@tensorflow/tfjs-backend-wasm/dist").glob("*.wasm"))

    def litert_files(self) -> list[Path]:
        """LiteRT.js's two single-threaded WebAssembly builds (relaxed SIMD and compat) with their
        Emscripten glue scripts; the threaded and JSPI builds are never used by the page."""
        wasm = self.node_modules / "@litertjs/core/wasm"
        names = (f"litert_wasm{kind}_internal.{ext}" for kind in ("", "_compat") for ext in ("js", "wasm"))
        return [wasm / name for name in names]

    def run_node(self, script: Path, *args: str, node_options: list[str] | None = None) -> str:
        """Runs a Node.js script that imports the locked packages; returns its stdout."""
        if not script.resolve().is_relative_to(self.root):
            # ES module imports resolve against the script's own location, not the cwd.
            local = self.root / ".teachkit-tools" / script.name
            local.parent.mkdir(exist_ok=True)
            shutil.copyfile(script, local)
            script = local
        command = [_require("node"), *(node_options or []), str(script), *args]
        return _run(command, self.root, f"node {script.name}")

    def esbuild(
        self,
        entry: Path,
        outfile: Path,
        *,
        minify: bool = True,
        format: str = "iife",
        global_name: str = "",
        metafile: Path | None = None,
    ) -> None:
        """Bundles `entry`: an IIFE (a classic script, `global_name` its export) or an ES module;
        `metafile` receives esbuild's list of what went in (for the site's NOTICE.txt)."""
        binary = self.node_modules / ".bin" / "esbuild"
        args = [
            str(binary),
            str(entry),
            "--bundle",
            f"--format={format}",
            "--target=es2020",
            f"--outfile={outfile}",
            "--log-level=warning",
            # tfjs-backend-wasm mentions Node's modules behind runtime checks; the page never runs them.
            "--external:fs",
            "--external:path",
            "--external:worker_threads",
            "--external:perf_hooks",
            "--external:os",
            '--define:process.env.NODE_ENV="production"',
        ]
        if global_name:
            args.append(f"--global-name={global_name}")
        if format == "iife":
            # A classic script has no import.meta; modules that also build as one find their URL
            # through document.currentScript instead.
            args.append("--define:import.meta.url=undefined")
        if minify:
            args.append("--minify")
        if metafile:
            args.append(f"--metafile={metafile}")
        # The app's sources may live outside `root` (an installed wheel): resolve packages from here.
        _run(args, self.root, "esbuild", {**os.environ, "NODE_PATH": str(self.node_modules)})


def _require(program: str) -> str:
    found = shutil.which(program)
    if not found:
        raise BuildError(
            f"{program} was not found on PATH; teachkit needs Node.js 18 or newer (with npm) to bundle "
            "the page.\nHint: install Node.js from your package manager, e.g. apt-get install nodejs npm."
        )
    return found


def _run(args: list[str], cwd: Path, what: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()[-2000:]
        raise BuildError(f"{what} failed (exit code {result.returncode}):\n{detail}")
    return result.stdout


def _installed_root() -> Path:
    """An installed wheel carries package.json + the lockfile; the packages go into the cache."""
    shipped = PACKAGE_DIR / "js"
    lock = shipped / "package-lock.json"
    if not lock.exists():
        raise BuildError(f"the JavaScript lockfile is missing: {lock}. Reinstall teachkit.")
    root = cache_root() / "js" / hashlib.sha256(lock.read_bytes()).hexdigest()[:16]
    root.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shipped / "package.json", root / "package.json")
    shutil.copyfile(lock, root / "package-lock.json")
    return root


def js_toolchain(progress: Progress = NO_PROGRESS) -> JsToolchain:
    """Finds (or installs once, from the locked versions) the JS dependencies."""
    source = PACKAGE_DIR.parent
    in_checkout = (source / "package-lock.json").exists() and (source / "builder").is_dir()
    toolchain = JsToolchain(source if in_checkout else _installed_root())
    if not (toolchain.node_modules / ".package-lock.json").exists():
        progress.start("Installing the JavaScript packages (once)", 1)
        log.debug("installing the JavaScript dependencies into %s (once)", toolchain.root)
        # An installed teachkit needs only the page's packages, not the repository's dev tools.
        omit_dev = [] if in_checkout else ["--omit=dev"]
        _run([_require("npm"), "ci", *omit_dev, "--no-audit", "--no-fund"], toolchain.root, "npm ci")
        progress.advance()
    return toolchain
