"""The table of bundled entries (builder/prebuilt.py BUNDLES) and a source checkout's cache of
prebuilt JavaScript, which keeps its last few source states only. No npm run: the bundling step is
replaced by one that writes a fake entry."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from builder import prebuilt
from builder.prebuilt import (
    BUNDLES,
    IN_USE_SECONDS,
    KEEP_PREBUILT,
    PrebuiltJs,
    prebuilt_js,
    prune_prebuilt,
    shipped_bundles,
)
from builder.render import precached

HOUR = 3600


def made_folders(folder: Path, ages_in_hours: list[float], now: float) -> list[Path]:
    paths = []
    for number, age in enumerate(ages_in_hours):
        path = folder / f"digest{number}"
        (path / "bundles").mkdir(parents=True)
        (path / prebuilt.INDEX).write_text("{}\n")
        os.utime(path, (now - age * HOUR, now - age * HOUR))
        paths.append(path)
    return paths


def test_pruning_keeps_the_most_recently_used_few(tmp_path):
    now = time.time()
    paths = made_folders(tmp_path, [5, 1.5, 30, 2, 48, 3, 200], now)
    (tmp_path / ".making-x").mkdir()  # another build's, under way
    deleted = prune_prebuilt(tmp_path, now=now)
    by_age = [paths[1], paths[3], paths[5], paths[0], paths[2], paths[4], paths[6]]
    assert KEEP_PREBUILT == 4
    assert sorted(deleted) == sorted(by_age[KEEP_PREBUILT:])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [".making-x", *(p.name for p in by_age[:KEEP_PREBUILT])]
    )


def test_pruning_spares_a_folder_in_use(tmp_path):
    """Another checkout sharing the cache may be copying from an older folder right now."""
    now = time.time()
    paths = made_folders(tmp_path, [0.1, 0.2, 0.3, 0.4, 0.5, 10], now)
    assert IN_USE_SECONDS >= HOUR
    assert prune_prebuilt(tmp_path, now=now) == [paths[5]]
    assert all(path.is_dir() for path in paths[:5])


def test_making_a_new_prebuilt_prunes_the_old_ones_and_using_one_marks_it(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("TEACHKIT_CACHE", str(cache))
    monkeypatch.setattr(prebuilt, "WHEEL_DIR", tmp_path / "no-wheel")
    monkeypatch.setattr(prebuilt, "checkout_toolchain", lambda progress: None)
    made = []

    def fake_make(toolchain: object, dest: Path) -> None:
        (dest / prebuilt.INDEX).write_text("{}\n")
        made.append(dest)

    monkeypatch.setattr(prebuilt, "make_prebuilt", fake_make)
    now = time.time()
    old = made_folders(cache / "prebuilt", [30, 40, 50, 60, 70], now)
    monkeypatch.setattr(prebuilt, "_sources_digest", lambda: old[4].name)
    assert prebuilt_js() == PrebuiltJs(old[4])
    assert not made, "an existing folder is used as it is"
    assert old[4].stat().st_mtime > now - HOUR, "using a folder marks it as used"

    monkeypatch.setattr(prebuilt, "_sources_digest", lambda: "newdigest")
    assert prebuilt_js() == PrebuiltJs(cache / "prebuilt" / "newdigest")
    assert len(made) == 1
    kept = sorted(path.name for path in (cache / "prebuilt").iterdir())
    assert kept == sorted(["newdigest", old[4].name, old[0].name, old[1].name])


@pytest.mark.parametrize("mode", ["hosted", "single_file"])
@pytest.mark.parametrize("runtime", ["tfjs", "litert"])
def test_the_table_names_each_file_once_and_what_needs_it(runtime, mode):
    names = [bundle.name for bundle in BUNDLES]
    assert len(names) == len(set(names))
    keys = [bundle.url_key for bundle in BUNDLES if bundle.url_key]
    assert len(keys) == len(set(keys))
    shipped = shipped_bundles(runtime, mode)
    if mode == "single_file":
        assert [b.name for b in shipped if b.inline == "script"] == ["app.js"]
        assert {b.name for b in shipped if b.inline == "text"} == {"tfjs-worker.js", "umap-worker.js"}
    assert ("litert-worker.js" in [b.name for b in shipped]) == (runtime == "litert")
    assert ("sw.js" in [b.name for b in shipped]) == (mode == "hosted")


def test_precache_follows_the_table():
    assert precached("app.js", "tfjs") and precached("app.js", "litert")
    assert precached("tfjs-worker.js", "tfjs") and not precached("tfjs-worker.js", "litert")
    assert precached("litert-worker.js", "litert") and precached("litert-start.js", "litert")
    for name in ("sw.js", "umap-worker.js", "embed.js", "embed-classic.js", "embed.d.ts"):
        assert not precached(name, "tfjs") and not precached(name, "litert"), name
