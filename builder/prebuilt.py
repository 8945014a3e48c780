"""The JavaScript a build takes, made once: the page's bundles, the Node.js tools the build runs, the
WebAssembly builds a site ships and the licence texts of the npm packages in them. The project
reaches the page only as JSON, so none of it depends on the project.

A wheel carries it (made by hatch_build.py when the wheel is built, so an author needs neither npm
nor esbuild); a source checkout makes it from node_modules into the cache, again whenever the app's
sources or the lockfile change. Both are made by make_prebuilt."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .jstools import (
    CHECKOUT,
    LICENCE_FILE,
    PACKAGE_DIR,
    TFJS_WASM_PACKAGE,
    JsToolchain,
    Packages,
    bundled_packages,
    cache_root,
    checkout_toolchain,
    package_of,
    run_node,
)
from .progress import NO_PROGRESS, Progress

APP_SOURCES = CHECKOUT / "templates" / "app"
TOOL_SOURCES = CHECKOUT / "templates" / "tools"
WHEEL_DIR = PACKAGE_DIR / "js"  # where a wheel carries it
INDEX = "prebuilt.json"  # which npm packages went into each bundle
# A source checkout keeps the prebuilt JavaScript of its last few source states (about 26 MB each):
# enough to switch between a few branches, or for a few worktrees sharing one cache, without
# bundling again, while the cache stops growing with every edit of the app.
KEEP_PREBUILT = 4
# One used more recently than this is kept anyway: a build of another checkout sharing the cache
# may be copying from it right now.
IN_USE_SECONDS = 3600


# When a bundle ships: on every site, on hosted sites only, or on hosted sites whose base model
# runs on LiteRT.js (a single file always runs TF.js: builder/runtime.py).
EVERY_SITE = "every site"
HOSTED = "hosted"
LITERT = "litert"
RUNTIMES = ("tfjs", "litert")


@dataclass(frozen=True)
class Bundle:
    """One file of the page's JavaScript, and what every place that handles it needs to know: the
    prebuilt step (entry, format), the renderer (ships, precache, tag, inline), the page config
    (url_key) and, through the manifest, the service worker and the benchmarks."""

    name: str  # the file a hosted site ships
    entry: str  # its source in templates/app/
    format: str = "iife"  # esbuild's output format; "copy" ships the source as it is
    global_name: str = ""
    ships: str = EVERY_SITE  # EVERY_SITE, HOSTED or LITERT
    # The runtimes (RUNTIMES) on whose hosted site the service worker keeps it on the first visit;
    # the others it keeps once the page first fetches them.
    precache: tuple[str, ...] = ()
    tag: str = ""  # a hosted index.html loads it: "head" (async, in <head>) or "body" (at its end)
    # In a single file: "script", the page's own script; "text", carried as text that the app runs
    # as a worker from a blob URL. A bundle shipped everywhere and not inlined goes beside the file.
    inline: str = ""
    url_key: str = ""  # the page config's `scripts` names it under this key for the app

    def ships_with(self, runtime: str, mode: str) -> bool:
        """Whether a site whose base model runs on `runtime`, built as `mode`, has this bundle."""
        if self.ships == LITERT:
            return runtime == "litert"
        return self.ships == EVERY_SITE or mode == "hosted"


SERVICE_WORKER = Bundle("sw.js", "service_worker.js", ships=HOSTED, url_key="service_worker")
BUNDLES = (
    Bundle("app.js", "main.js", precache=RUNTIMES, tag="body", inline="script"),
    # Runs the base model off the page's thread; on LiteRT.js kept for Download model and for a
    # browser where LiteRT.js cannot start.
    Bundle("tfjs-worker.js", "tfjs_worker.js", precache=("tfjs",), inline="text", url_key="tfjs_worker"),
    # Runs when the visitor asks for the refined map of the examples.
    Bundle("umap-worker.js", "umap_worker.js", inline="text", url_key="umap_worker"),
    SERVICE_WORKER,
    Bundle("litert-worker.js", "litert_worker.js", ships=LITERT, precache=RUNTIMES, url_key="litert_worker"),
    # Starts fetching LiteRT.js's files from the <head>, before app.js has loaded.
    Bundle("litert-start.js", "litert_start.js", ships=LITERT, precache=RUNTIMES, tag="head"),
    # For host pages (a visitor of the page itself never loads them): an ES module, and a classic
    # script for hosts opened from file://.
    Bundle("embed.js", "embed.js", format="esm"),
    Bundle("embed-classic.js", "embed.js", global_name="teachkitEmbed"),
    # Runs a model download in any page (embed.js's load() imports it on demand).
    Bundle("teachkit-classifier.js", "classifier.js", format="esm"),
    # embed.js's types for a host's editor; a single file's host has no editor to serve it to.
    Bundle("embed.d.ts", "embed.d.ts", format="copy", ships=HOSTED),
)


def shipped_bundles(runtime: str, mode: str) -> list[Bundle]:
    return [bundle for bundle in BUNDLES if bundle.ships_with(runtime, mode)]


# Run by the build in Node.js to measure what conversion and quantization do to the embeddings.
TOOLS = ("embed_node.mjs", "embed_litert.mjs")


@dataclass(frozen=True)
class PrebuiltJs:
    root: Path

    @property
    def bundles(self) -> Path:
        """The folder of BUNDLES' files, by name."""
        return self.root / "bundles"

    @property
    def packages(self) -> Packages:
        return Packages(self.root / "packages")

    def packages_in(self, bundles: list[str]) -> set[str]:
        """The npm packages that went into these bundles, and whose WASM builds every site ships."""
        index = json.loads((self.root / INDEX).read_text())
        return {TFJS_WASM_PACKAGE} | {package for name in bundles for package in index[name]}

    def run_tool(self, name: str, *args: str) -> str:
        return run_node(self.root / "tools" / name, *args)


def make_prebuilt(toolchain: JsToolchain, dest: Path) -> None:
    """Bundles the page and the tools into `dest` and copies what sites ship from node_modules."""
    for folder in ("bundles", "tools", "meta"):
        (dest / folder).mkdir(parents=True, exist_ok=True)
    index = {}
    for bundle in BUNDLES:
        if bundle.format == "copy":
            shutil.copyfile(APP_SOURCES / bundle.entry, dest / "bundles" / bundle.name)
            index[bundle.name] = []
            continue
        meta = dest / "meta" / f"{bundle.name}.json"
        toolchain.esbuild(
            APP_SOURCES / bundle.entry,
            dest / "bundles" / bundle.name,
            format=bundle.format,
            global_name=bundle.global_name,
            metafile=meta,
        )
        index[bundle.name] = sorted(bundled_packages([meta]))
    for tool in TOOLS:
        meta = dest / "meta" / f"{tool}.json"
        toolchain.esbuild(
            TOOL_SOURCES / tool, dest / "tools" / tool, format="esm", platform="node", metafile=meta
        )
    source = toolchain.packages
    shipped = [*source.wasm_binaries(), *source.litert_files()]
    names = bundled_packages(sorted((dest / "meta").glob("*.json"))) | {package_of(str(p)) for p in shipped}
    for name in names:
        # package.json for its version; the licence texts travel with every copy of its code.
        for file in (source.node_modules / name).iterdir():
            if file.name == "package.json" or (file.is_file() and LICENCE_FILE.match(file.name)):
                _copy(file, dest / "packages" / name / file.name)
    for file in shipped:
        _copy(file, dest / "packages" / file.relative_to(source.node_modules))
    shutil.rmtree(dest / "meta")
    (dest / INDEX).write_text(json.dumps(index, indent=1) + "\n")


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def _sources_digest() -> str:
    """Changes whenever the prebuilt JavaScript of a checkout would change."""
    digest = hashlib.sha256()
    files = [*APP_SOURCES.rglob("*.js"), *TOOL_SOURCES.glob("*.mjs"), CHECKOUT / "package-lock.json"]
    files += [APP_SOURCES / bundle.entry for bundle in BUNDLES if bundle.format == "copy"]
    files += [Path(__file__), Path(__file__).with_name("jstools.py")]
    for path in sorted(files):
        digest.update(str(path.relative_to(CHECKOUT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def prebuilt_js(progress: Progress = NO_PROGRESS) -> PrebuiltJs:
    """The wheel's prebuilt JavaScript, or a source checkout's, made now if its sources changed."""
    if (WHEEL_DIR / INDEX).exists():
        return PrebuiltJs(WHEEL_DIR)
    made = cache_root() / "prebuilt" / _sources_digest()
    if (made / INDEX).exists():
        with contextlib.suppress(OSError):  # a read-only cache is used as it is
            os.utime(made)  # its modification time says when a build last used it
    else:
        toolchain = checkout_toolchain(progress)
        progress.start("Bundling the page", 1)
        made.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".making-", dir=made.parent))
        try:
            make_prebuilt(toolchain, staging)
            try:
                os.replace(staging, made)
            except OSError:  # another build made it meanwhile
                pass
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        prune_prebuilt(made.parent)
        progress.advance()
    return PrebuiltJs(made)


def prune_prebuilt(folder: Path, keep: int = KEEP_PREBUILT, now: float | None = None) -> list[Path]:
    """Deletes all but the `keep` most recently used prebuilt folders in `folder` (a checkout's
    cache/prebuilt/), sparing any used within IN_USE_SECONDS; returns the deleted ones. Folders
    being made (".making-…") are another build's and left alone."""
    now = time.time() if now is None else now
    used = {}
    for path in folder.iterdir():
        if path.is_dir() and not path.name.startswith("."):
            with contextlib.suppress(OSError):  # pruned by another build meanwhile
                used[path] = path.stat().st_mtime
    newest_first = sorted(used, key=used.get, reverse=True)
    stale = [path for path in newest_first[keep:] if now - used[path] > IN_USE_SECONDS]
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    return stale
