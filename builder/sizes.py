"""What a hosted site weighs for a visitor: its first visit transfers the files that its service
worker keeps up front (the manifest's `precache` entries), the manifest and sw.js, uncompressed
and gzip-compressed as GitHub Pages and most static hosts send them."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path

from .prebuilt import SERVICE_WORKER

# nginx's and most CDNs' default level; GitHub Pages compresses close to it.
GZIP_LEVEL = 6


@dataclass(frozen=True)
class Transfer:
    raw_bytes: int
    gzip_bytes: int

    def describe(self) -> str:
        return f"{self.raw_bytes / 1e6:.1f} MB ({self.gzip_bytes / 1e6:.1f} MB gzip)"


def gzip_size(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0))


def transfer_of(paths: list[Path]) -> Transfer:
    contents = [path.read_bytes() for path in paths]
    return Transfer(sum(map(len, contents)), sum(map(gzip_size, contents)))


# On LiteRT.js a browser fetches one of its two builds (the service worker keeps that one only):
# the relaxed SIMD one, as current Chromium, Firefox and Safari run.
LITERT_BUILD_FILES = ("wasm/litert_wasm_internal.js", "wasm/litert_wasm_internal.wasm")


def first_visit_files(site: Path) -> list[Path]:
    """The files a browser fetches on a first visit of the hosted site in `site`, once its service
    worker has kept the site (a browser with WASM SIMD and relaxed SIMD, not cross-origin isolated,
    as most are)."""
    manifest = json.loads((site / "manifest.json").read_text(encoding="utf-8"))
    paths = [entry["path"] for entry in manifest["files"] if entry.get("precache")]
    paths += [path for path in LITERT_BUILD_FILES if manifest.get("runtime") == "litert"]
    return [site / path for path in [*paths, "manifest.json", SERVICE_WORKER.name] if (site / path).is_file()]


def first_visit(site: Path) -> Transfer:
    return transfer_of(first_visit_files(site))
