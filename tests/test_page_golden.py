"""Golden tests of the rendered page: a small project rendered with a fake prepared model (a
model.json and one shard, no TensorFlow, no conversion) and fake prebuilt scripts, compared with
the files in tests/golden/, so that any change to what the page says or loads is a reviewable diff.
They end in .golden so that linters and the duplicates check read them as data, not as source.

What may legitimately vary is replaced before comparing: teachkit's version, the self-check
probe's PNG (its bytes depend on Pillow's encoder, not on teachkit) and, in the single file, the
inlined style sheet (templates/page/style.css is its own file to review).

After an intended change, regenerate the golden files and review their diff:

    .venv/bin/python -m pytest tests/test_page_golden.py --regenerate-golden
    git diff --word-diff tests/golden/  # the page config is one line of JSON
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from builder import __version__
from builder.config import load_project
from builder.convert import ConversionResult, Fidelity, Measured
from builder.model_cache import PreparedModel
from builder.prebuilt import BUNDLES
from builder.probes import SELF_CHECK_PROBE
from builder.render import SiteInputs, render_hosted, render_single_file
from builder.scaffold import templates_dir

GOLDEN = Path(__file__).parent / "golden"
INPUT_SIZE = 32
EMBEDDING_SIZE = 4

PROJECT = """
title = "Leaves & <Bark>"
description = "Tell leaves from bark."
classes = ["Leaf", "Bark", "Moss"]

[model]
base = "efficientnet_lite0"

[theme]
intro = "Collect, train, try."
footer = "A golden page."
"""


def fake_model(folder: Path) -> PreparedModel:
    """A prepared model as builder/model_cache.py hands it to the renderer, made by hand."""
    directory = folder / "model"
    directory.mkdir(parents=True)
    weights = [{"name": "dense/kernel", "shape": [EMBEDDING_SIZE], "dtype": "float32"}]
    model_json = {
        "format": "graph-model",
        "modelTopology": {"node": []},
        "weightsManifest": [{"paths": ["group1-shard1of1.bin"], "weights": weights}],
    }
    (directory / "model.json").write_text(json.dumps(model_json))
    (directory / "group1-shard1of1.bin").write_bytes(bytes(range(4 * EMBEDDING_SIZE)))
    chosen = Measured("float16", 1234, Fidelity(0.9987, 0.9995, 1.0))
    return PreparedModel(
        directory=directory,
        input_size=INPUT_SIZE,
        embedding_size=EMBEDDING_SIZE,
        description="A fake base model",
        identity={"base": "efficientnet_lite0", "weights": "0" * 64},
        conversion=ConversionResult(chosen, [chosen]),
        probe_embeddings={SELF_CHECK_PROBE: [0.5, -0.25, 0.125, 1.0]},
        from_cache=True,
    )


def fake_inputs(tmp_path: Path, mode: str) -> SiteInputs:
    project_file = tmp_path / "project" / "project.toml"
    project_file.parent.mkdir()
    project_file.write_text(PROJECT)
    bundles = tmp_path / "bundles"
    bundles.mkdir()
    for bundle in BUNDLES:
        (bundles / bundle.name).write_text(f"/* {bundle.name} from {bundle.entry} */\n")
    wasm = tmp_path / "wasm"
    wasm.mkdir()
    binaries = []
    for name in ("tfjs-backend-wasm-simd.wasm", "tfjs-backend-wasm.wasm"):
        (wasm / name).write_bytes(b"\0asm" + name.encode())
        binaries.append(wasm / name)
    return SiteInputs(
        project=load_project(project_file),
        model=fake_model(tmp_path),
        bundles=bundles,
        wasm_binaries=binaries,
        tfjs_version="0.0.0",
        mode=mode,
        notices="The licences.\n",
    )


def normalised(html: str) -> str:
    html = html.replace(f'"teachkit": "{__version__}"', '"teachkit": "<version>"')
    html = html.replace((templates_dir() / "page" / "style.css").read_text(encoding="utf-8"), "<style.css>")
    return re.sub(r'"png": "[A-Za-z0-9+/=]+"', '"png": "<png>"', html)


def check_golden(rendered: str, name: str, regenerate: bool) -> None:
    golden = GOLDEN / name
    if regenerate:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(rendered, encoding="utf-8")
    assert golden.is_file(), f"no {golden}: run pytest {__file__} --regenerate-golden"
    expected = golden.read_text(encoding="utf-8")
    assert rendered == expected, (
        f"the rendered page differs from {golden}; if the change is intended, run pytest "
        f"{Path(__file__).name} --regenerate-golden and review the diff"
    )


def test_the_hosted_index_html_matches_the_golden_file(tmp_path, request):
    site = tmp_path / "site"
    site.mkdir()
    render_hosted(fake_inputs(tmp_path, "hosted"), site)
    rendered = normalised((site / "index.html").read_text(encoding="utf-8"))
    check_golden(rendered, "index.html.golden", request.config.getoption("--regenerate-golden"))


def test_the_single_file_matches_the_golden_file(tmp_path, request):
    site = tmp_path / "site"
    site.mkdir()
    page = render_single_file(fake_inputs(tmp_path, "single_file"), site)
    rendered = normalised(page.read_text(encoding="utf-8"))
    check_golden(rendered, "single_file.html.golden", request.config.getoption("--regenerate-golden"))
