"""embed.d.ts, embed.js's types for a host page's editor, ships beside embed.js in a hosted site, listed
in its manifest and never precached; a single file's folder keeps its exact list without it."""

import json
from pathlib import Path

TYPES = Path(__file__).resolve().parent.parent / "templates" / "app" / "embed.d.ts"


def test_a_hosted_site_ships_embed_js_types_for_host_pages(surfaces_site, surfaces_single_file):
    shipped = surfaces_site / "embed.d.ts"
    assert shipped.read_bytes() == TYPES.read_bytes()
    manifest = json.loads((surfaces_site / "manifest.json").read_text())
    listed = {entry["path"]: entry for entry in manifest["files"]}
    assert listed["embed.d.ts"]["precache"] is False
    assert listed["embed.d.ts"]["size"] == shipped.stat().st_size
    assert listed["embed.js"]["precache"] is False
    assert not (surfaces_single_file.parent / "embed.d.ts").exists()
