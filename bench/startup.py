"""Opening the page until the first possible prediction, hosted (over HTTP) and as a single file
(from file://), for a visitor who trained before: the page must load the model, restore the
samples and the trained head from IndexedDB, and be ready to predict.

Also prints what each mode weighs: the single file's size, and the hosted page's total transfer on
a first (uncached) visit. Medians over --runs page loads; the reference is the same browser opening
a blank page from the same server, measured in the same run.

Usage: python bench/startup.py [--runs 7] [--out bench/results]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from builder.serve import make_server  # noqa: E402
from tests.conftest import CHROMIUM_ARGS, chromium_executable  # noqa: E402
from tests.images import TEXTURES, texture_crops  # noqa: E402

PROJECT = 'title = "Surfaces"\nclasses = ["Brick", "Grass", "Gravel"]\n'
MARKS = """() => Object.fromEntries(["teachkit:ready", "teachkit:prediction-ready"].map(
  (name) => [name, performance.getEntriesByName(name)[0]?.startTime ?? null]))"""


def build(work: Path) -> tuple[Path, Path]:
    (work / "project.toml").write_text(PROJECT)
    environment = {
        **os.environ,
        "TEACHKIT_CACHE": os.environ.get("TEACHKIT_CACHE", str(Path.home() / ".cache/teachkit")),
    }
    for extra, output in (([], "hosted"), (["--single-file"], "single")):
        command = [
            sys.executable,
            "-m",
            "builder.cli",
            "-q",
            "build",
            str(work / "project.toml"),
            "-o",
            str(work / output),
        ]
        subprocess.run(command + extra, check=True, env=environment, capture_output=True)
    return work / "hosted", next((work / "single").glob("*.html"))


def train_once(page, images: dict[str, list[Path]]) -> None:
    expect(page.locator('[data-testid="status"]')).to_have_attribute("data-state", "ready", timeout=60_000)
    for name, files in images.items():
        card = page.locator(f'[data-testid="class"][data-class-name="{name}"]')
        card.locator('[data-testid="sample-upload"]').set_input_files([str(f) for f in files])
        expect(card.locator('[data-testid="sample-count"]')).to_have_text(str(len(files)), timeout=60_000)
    page.click('[data-testid="train"]')
    expect(page.locator('[data-testid="train-status"]')).to_have_attribute(
        "data-state", "done", timeout=120_000
    )


def timed_opens(context, url: str, runs: int) -> list[dict]:
    results = []
    for _ in range(runs):
        page = context.new_page()
        page.goto(url)
        expect(page.locator('[data-testid="train-status"]')).to_have_attribute(
            "data-state", "done", timeout=60_000
        )
        results.append(page.evaluate(MARKS))
        page.close()
    return results


def blank_page_ms(context, url: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        page = context.new_page()
        page.goto(url)
        times.append(page.evaluate("() => performance.getEntriesByType('navigation')[0].loadEventEnd"))
        page.close()
    return statistics.median(times)


def measure(runs: int, work: Path) -> dict:
    hosted, single = build(work)
    (work / "blank").mkdir()
    (work / "blank" / "index.html").write_text("<!doctype html><title>blank</title><p>blank</p>")
    images = {
        name: texture_crops(work / "images", texture, 5, "train", seed=index)
        for index, (name, texture) in enumerate(zip(["Brick", "Grass", "Gravel"], TEXTURES, strict=True))
    }
    servers = {
        name: make_server(path, "127.0.0.1", 0, False, quiet=True)
        for name, path in (("hosted", hosted), ("blank", work / "blank"))
    }
    for server in servers.values():
        threading.Thread(target=server.serve_forever, daemon=True).start()
    url = {name: f"http://127.0.0.1:{server.server_address[1]}/" for name, server in servers.items()}
    result = {"single_file_bytes": single.stat().st_size}
    try:
        with sync_playwright() as playwright:
            for mode, address in (("hosted", url["hosted"]), ("single_file", single.as_uri())):
                context = playwright.chromium.launch_persistent_context(
                    str(work / f"profile-{mode}"),
                    executable_path=chromium_executable(),
                    headless=True,
                    args=CHROMIUM_ARGS,
                )
                first = context.new_page()
                # Counted from the responses rather than the page's resource timing, which does not
                # see what its workers fetch (the model). Once per URL: the second worker's requests
                # are answered by the browser's cache.
                bodies: dict[str, int] = {}

                def note(response: object, bodies: dict[str, int] = bodies) -> None:
                    if response.status == 200:
                        bodies.setdefault(response.url, int(response.headers.get("content-length", 0)))

                context.on("response", note)
                first.goto(address)
                train_once(first, images)
                if mode == "hosted":
                    result["hosted_transfer_bytes"] = sum(bodies.values())
                first.close()
                opens = timed_opens(context, address, runs)
                result[mode] = {
                    "ready_ms": statistics.median(o["teachkit:ready"] for o in opens),
                    "prediction_ready_ms": statistics.median(o["teachkit:prediction-ready"] for o in opens),
                }
                if mode == "hosted":
                    result["blank_page_ms"] = blank_page_ms(context, url["blank"], runs)
                context.close()
    finally:
        for server in servers.values():
            server.shutdown()
            server.server_close()
    result["runs"] = runs
    return result


def table(result: dict) -> str:
    hosted, single = result["hosted"], result["single_file"]
    rows = [
        "| mode | size | page ready (median) | first prediction possible (median) |",
        "| --- | --- | --- | --- |",
        f"| hosted | {result['hosted_transfer_bytes'] / 1e6:.1f} MB transferred on a first visit | "
        f"{hosted['ready_ms']:.0f} ms | {hosted['prediction_ready_ms']:.0f} ms |",
        f"| single file (file://) | {result['single_file_bytes'] / 1e6:.1f} MB | "
        f"{single['ready_ms']:.0f} ms | {single['prediction_ready_ms']:.0f} ms |",
        f"| reference: blank page from the same server | – | {result['blank_page_ms']:.0f} ms | – |",
    ]
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work_text:
        result = measure(args.runs, Path(work_text))
    text = table(result)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "startup.json").write_text(json.dumps(result, indent=1))
    (args.out / "startup.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
