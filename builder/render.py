"""Writes the site into a directory, hosted (a folder of files) or as one self-contained HTML file,
plus a manifest. The project reaches the page only as JSON data."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from . import __version__
from .imagenet import CLASSIFIER_BIN, CLASSIFIER_JSON
from .model_cache import PreparedModel
from .prebuilt import BUNDLES, Bundle, shipped_bundles
from .probes import SELF_CHECK_PROBE, probe_png
from .scaffold import templates_dir

PREPROCESSING = {"crop": "center square", "resize": "bilinear", "pixel_range": "0-255", "channels": "RGB"}

# A page opened from file:// can hold no cross-origin isolation, so the threaded build is useless
# there; the plain build serves browsers without WASM SIMD.
SINGLE_FILE_WASM = ("tfjs-backend-wasm-simd.wasm", "tfjs-backend-wasm.wasm")

LITERT_MODEL = "model/model.tflite"
NOTICE = "NOTICE.txt"
BUNDLE_NAMED = {bundle.name: bundle for bundle in BUNDLES}


def precached(path: str, runtime: str) -> bool:
    """Whether a hosted site's service worker caches the file up front, on the first visit. The
    others are cached when a page first uses them: the bundles whose row in builder/prebuilt.py
    says so, what a panel loads when opened (the ImageNet classifier), the WASM builds that a
    browser uses only with cross-origin isolation or without SIMD, and on LiteRT.js (`runtime`
    "litert") both of its builds (a browser runs one) and the TF.js base model, kept for Download
    model and for a browser where LiteRT.js cannot start."""
    if path in BUNDLE_NAMED:
        return runtime in BUNDLE_NAMED[path].precache
    if path == NOTICE or path.startswith("imagenet/"):
        return False
    if runtime == "litert" and path.startswith("model/") and path != LITERT_MODEL:
        return False
    return not path.startswith("wasm/") or path == f"wasm/{SINGLE_FILE_WASM[0]}"


def content_security_policy(script_sources: str, connect_sources: str, cloud_origin: str | None) -> str:
    """No connection may leave the page's own origin but to the project's cloud receiver, if it has
    one; WebAssembly needs 'wasm-unsafe-eval'."""
    if cloud_origin:
        connect_sources = f"{connect_sources} {cloud_origin}"
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src {script_sources} 'wasm-unsafe-eval'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "media-src 'self' blob: mediastream:",
            f"connect-src {connect_sources}",
            "worker-src 'self' blob:",
            "base-uri 'none'",
            "form-action 'none'",
            "object-src 'none'",
        ]
    )


@dataclass(frozen=True)
class SiteInputs:
    project: object
    model: PreparedModel
    bundles: Path  # the folder of the prebuilt BUNDLES' files (builder/prebuilt.py), by name
    wasm_binaries: list[Path]
    tfjs_version: str
    mode: str  # "hosted" or "single_file"
    baked: dict | None = None  # a trained model the page opens with (builder/baked.py)
    notices: str = ""  # NOTICE.txt: the licences of what the site ships (builder/notices.py)
    runtime: str = "tfjs"  # what runs the base model: "litert" or "tfjs" (builder/runtime.py)
    litert_files: list[Path] = ()  # LiteRT.js's glue scripts and WebAssembly builds
    litert_version: str | None = None

    @property
    def shipped(self) -> list[Bundle]:
        return shipped_bundles(self.runtime, self.mode)

    def bundle_text(self, bundle: Bundle) -> str:
        return (self.bundles / bundle.name).read_text(encoding="utf-8")


def model_fingerprint(model_dir: Path) -> str:
    """Changes whenever the shipped model would compute other embeddings: stored samples made with
    another model are re-embedded by the page."""
    digest = hashlib.sha256()
    for path in sorted(model_dir.iterdir()):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def page_config(inputs: SiteInputs) -> dict:
    return {
        **inputs.project.page_config(),
        "teachkit": __version__,
        "trained": inputs.baked,
        # The app's own scripts by what they are for: files beside a hosted page, or in a single
        # file the name of the copy it carries (templates/app/main.js).
        "scripts": {bundle.url_key: bundle.name for bundle in inputs.shipped if bundle.url_key},
        "model": {
            "input_size": inputs.model.input_size,
            "embedding_size": inputs.model.embedding_size,
            "description": inputs.model.description,
            # Of the TF.js model on either runtime: both follow the Keras model within min_fidelity, so
            # a session moves between a hosted LiteRT.js site and its single file (TF.js) as it is.
            "fingerprint": model_fingerprint(inputs.model.directory),
            "runtime": inputs.runtime,
            # Travels in project files, so `teachkit export` can rebuild the same base model.
            "identity": base_identity(inputs.model),
            # The base model's own ImageNet classifier ships beside it (builder/imagenet.py).
            "imagenet": inputs.model.imagenet is not None,
            "self_check": self_check(inputs),
        },
    }


def self_check(inputs: SiteInputs) -> dict | None:
    """What the page's start-up self-check needs (templates/app/runtime/runtime_ladder.js): one probe photo's
    pixels (a PNG), its float Keras embedding (float32, little-endian) and, by runtime, the cosine
    below which that runtime computes wrongly: model.min_fidelity, or what the build measured if that
    is lower (a build with --allow-lossy)."""
    model = inputs.model
    embedding = model.probe_embeddings.get(SELF_CHECK_PROBE)
    if embedding is None:
        return None
    floor = inputs.project.model.min_fidelity
    measured = {"tfjs": model.conversion.chosen}
    if model.litert is not None and model.litert.chosen is not None:
        measured["litert"] = model.litert.chosen
    return {
        "probe": SELF_CHECK_PROBE,
        "png": _base64(probe_png(model.input_size)),
        "embedding": _base64(np.asarray(embedding, dtype="<f4").tobytes()),
        "min_cosine": {
            runtime: min(floor, math.floor(chosen.fidelity.min_cosine * 1e4) / 1e4)
            for runtime, chosen in measured.items()
        },
    }


def base_identity(model: PreparedModel) -> dict:
    """What the base model is: enough to rebuild it in Python and to tell it from another."""
    return {
        **model.identity,
        "input_size": model.input_size,
        "embedding_size": model.embedding_size,
        "preprocessing": {**PREPROCESSING, "input_size": model.input_size},
        "model_json_sha256": hashlib.sha256((model.directory / "model.json").read_bytes()).hexdigest(),
    }


def _imagenet_files(model: PreparedModel) -> dict[str, bytes]:
    """The "What the base model sees" panel's files: the classifier, the synsets and WordNet's
    licence (which must travel with its data)."""
    synsets = (templates_dir() / "data" / "imagenet_synsets.json").read_bytes()
    return {
        CLASSIFIER_JSON: (model.imagenet / CLASSIFIER_JSON).read_bytes(),
        CLASSIFIER_BIN: (model.imagenet / CLASSIFIER_BIN).read_bytes(),
        "synsets.json": synsets,
        "WORDNET-LICENSE.txt": json.loads(synsets)["licence"].encode(),
    }


def single_file_name(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60]
    return f"{slug or 'teachkit'}.html"


def _render_page(inputs: SiteInputs, logo: str | None, csp: str, single_file: dict | None) -> str:
    environment = Environment(
        loader=FileSystemLoader(templates_dir() / "page"),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    return environment.get_template("index.html").render(
        project=inputs.project,
        page_config=page_config(inputs),
        model_description=inputs.model.description,
        logo=logo,
        csp=csp,
        single_file=single_file,
        scripts={tag: [b.name for b in inputs.shipped if b.tag == tag] for tag in ("head", "body")},
    )


def _inline_script(source: str) -> str:
    # An inline script ends at the first "</script"; inside JS strings "<\/script" means the same.
    return source.replace("</script", "<\\/script")


def _base64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def render_hosted(inputs: SiteInputs, site: Path) -> None:
    page = templates_dir() / "page"
    shutil.copytree(inputs.model.directory, site / "model")
    if inputs.model.imagenet is not None:
        (site / "imagenet").mkdir()
        for name, data in _imagenet_files(inputs.model).items():
            (site / "imagenet" / name).write_bytes(data)
    (site / "wasm").mkdir()
    for binary in inputs.wasm_binaries:
        shutil.copyfile(binary, site / "wasm" / binary.name)
    for bundle in inputs.shipped:
        shutil.copyfile(inputs.bundles / bundle.name, site / bundle.name)
    if inputs.runtime == "litert":
        # The TF.js graph model stays in model/: the page falls back to it and Download model ships it.
        shutil.copyfile(inputs.model.tflite, site / LITERT_MODEL)
        for path in inputs.litert_files:
            shutil.copyfile(path, site / "wasm" / path.name)
    (site / NOTICE).write_text(inputs.notices, encoding="utf-8")
    shutil.copyfile(page / "style.css", site / "style.css")
    logo = inputs.project.theme.logo
    logo_src = None
    if logo is not None:
        logo_src = f"logo{logo.suffix.lower()}"
        shutil.copyfile(logo, site / logo_src)
    # blob: lets the threaded WASM build's workers load TF.js's own glue code, made in-page.
    html = _render_page(
        inputs, logo_src, content_security_policy("'self' blob:", "'self'", inputs.project.cloud.origin), None
    )
    (site / "index.html").write_text(html, encoding="utf-8")
    (site / "manifest.json").write_text(json.dumps(manifest(inputs, site), indent=1))


def _logo_data_url(logo: Path) -> str:
    kind = {".svg": "svg+xml", ".jpg": "jpeg"}.get(logo.suffix.lower(), logo.suffix.lower().lstrip("."))
    return f"data:image/{kind};base64,{_base64(logo.read_bytes())}"


def render_single_file(inputs: SiteInputs, site: Path) -> Path:
    """One HTML file that opens from file:// with no server: script, model and WASM inline."""
    model_json = json.loads((inputs.model.directory / "model.json").read_text())
    weights = b"".join(
        (inputs.model.directory / shard).read_bytes()
        for group in model_json["weightsManifest"]
        for shard in group["paths"]
    )
    (page_script,) = [bundle for bundle in inputs.shipped if bundle.inline == "script"]
    script = _inline_script(inputs.bundle_text(page_script))
    script_hash = _base64(hashlib.sha256(script.encode("utf-8")).digest())
    wasm = {
        binary.name: _base64(binary.read_bytes())
        for binary in inputs.wasm_binaries
        if binary.name in SINGLE_FILE_WASM
    }
    logo = inputs.project.theme.logo
    weight_specs = [spec for group in model_json["weightsManifest"] for spec in group["weights"]]
    single_file = {
        "css": Markup((templates_dir() / "page" / "style.css").read_text(encoding="utf-8")),
        "script": Markup(script),
        # Not run by the page: each becomes a worker's script (a blob URL, allowed by worker-src).
        "texts": {
            bundle.name: Markup(_inline_script(inputs.bundle_text(bundle)))
            for bundle in inputs.shipped
            if bundle.inline == "text"
        },
        # The licences travel inside the file, which is often copied alone.
        "notices": inputs.notices,
        "model": {key: value for key, value in model_json.items() if key != "weightsManifest"}
        | {"weightSpecs": weight_specs},
        "weights": _base64(weights),
        "wasm": wasm,
        # Read by the page only when the panel opens.
        "imagenet": (
            {name: _base64(data) for name, data in _imagenet_files(inputs.model).items()}
            if inputs.model.imagenet is not None
            else None
        ),
    }
    csp = content_security_policy(f"'sha256-{script_hash}'", "blob:", inputs.project.cloud.origin)
    html = _render_page(inputs, _logo_data_url(logo) if logo else None, csp, single_file)
    path = site / single_file_name(inputs.project.title)
    path.write_text(html, encoding="utf-8")
    for bundle in inputs.shipped:
        if not bundle.inline:
            shutil.copyfile(inputs.bundles / bundle.name, site / bundle.name)
    (site / NOTICE).write_text(inputs.notices, encoding="utf-8")
    (site / "manifest.json").write_text(json.dumps(manifest(inputs, site), indent=1))
    return path


def manifest(inputs: SiteInputs, site: Path) -> dict:
    model = inputs.model
    return {
        "teachkit": __version__,
        "tfjs": inputs.tfjs_version,
        "mode": inputs.mode,
        "base_model": {
            **model.identity,
            "description": model.description,
            "input_size": model.input_size,
            "embedding_size": model.embedding_size,
        },
        "preprocessing": {**PREPROCESSING, "input_size": model.input_size},
        "quantization": model.conversion.to_json(),
        # What runs the base model in the page, and every .tflite candidate measured for LiteRT.js.
        "runtime": inputs.runtime,
        "litert": (
            {"version": inputs.litert_version, **model.litert.to_json()} if model.litert is not None else None
        ),
        "probe_embeddings": model.probe_embeddings,
        "files": [
            {
                "path": path.relative_to(site).as_posix(),
                "size": path.stat().st_size,
                "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            }
            # Read by the hosted site's service worker (templates/app/service_worker.js).
            | (
                {"precache": precached(path.relative_to(site).as_posix(), inputs.runtime)}
                if inputs.mode == "hosted"
                else {}
            )
            for path in sorted(site.rglob("*"))
            if path.is_file() and path.name != "manifest.json"
        ],
    }
