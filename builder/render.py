"""Writes the site into a directory: the page, the bundled app, the model, the WASM binaries and a
manifest. The project reaches the page only as JSON data."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from . import __version__
from .model_cache import PreparedModel
from .scaffold import templates_dir

# No connection may leave the page's own origin; WebAssembly needs 'wasm-unsafe-eval'.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob: mediastream:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "base-uri 'none'",
        "form-action 'none'",
        "object-src 'none'",
    ]
)

PREPROCESSING = {"crop": "center square", "resize": "bilinear", "pixel_range": "0-255", "channels": "RGB"}


@dataclass(frozen=True)
class SiteInputs:
    project: object
    model: PreparedModel
    app_script: Path
    wasm_binaries: list[Path]
    tfjs_version: str


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
        "model": {
            "input_size": inputs.model.input_size,
            "embedding_size": inputs.model.embedding_size,
            "description": inputs.model.description,
            "fingerprint": model_fingerprint(inputs.model.directory),
        },
    }


def render_site(inputs: SiteInputs, site: Path) -> None:
    page = templates_dir() / "page"
    shutil.copytree(inputs.model.directory, site / "model")
    (site / "wasm").mkdir()
    for binary in inputs.wasm_binaries:
        shutil.copyfile(binary, site / "wasm" / binary.name)
    shutil.copyfile(inputs.app_script, site / "app.js")
    shutil.copyfile(page / "style.css", site / "style.css")
    logo = inputs.project.theme.logo
    logo_name = None
    if logo is not None:
        logo_name = f"logo{logo.suffix.lower()}"
        shutil.copyfile(logo, site / logo_name)

    environment = Environment(
        loader=FileSystemLoader(page), autoescape=True, undefined=StrictUndefined, keep_trailing_newline=True
    )
    html = environment.get_template("index.html").render(
        project=inputs.project,
        page_config=page_config(inputs),
        model_description=inputs.model.description,
        logo=logo_name,
        csp=CONTENT_SECURITY_POLICY,
    )
    (site / "index.html").write_text(html, encoding="utf-8")
    (site / "manifest.json").write_text(json.dumps(manifest(inputs, site), indent=1))


def manifest(inputs: SiteInputs, site: Path) -> dict:
    model = inputs.model
    return {
        "teachkit": __version__,
        "tfjs": inputs.tfjs_version,
        "base_model": {
            **model.identity,
            "description": model.description,
            "input_size": model.input_size,
            "embedding_size": model.embedding_size,
        },
        "preprocessing": {**PREPROCESSING, "input_size": model.input_size},
        "quantization": model.conversion.to_json(),
        "probe_embeddings": model.probe_embeddings,
        "files": [
            {
                "path": path.relative_to(site).as_posix(),
                "size": path.stat().st_size,
                "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            }
            for path in sorted(site.rglob("*"))
            if path.is_file() and path.name != "manifest.json"
        ],
    }
