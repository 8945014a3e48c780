"""Opening the page until the first possible prediction, hosted (over HTTP) and as a single file
(from file://), for a visitor who trained before: the page must load the model, restore the
samples and the trained head from IndexedDB, and be ready to predict.

Also first visits of the hosted page (a new browser context each: no cache, no service worker),
and what each mode weighs: the single file's size, and what the hosted page transfers on a first
visit (until its service worker has kept the site) and on a return visit, counted at the server,
uncompressed and as a host that gzips would send it. Medians over --runs page loads; the reference
is the same browser opening a blank page from the same server, measured in the same run.

Usage: python bench/startup.py [--runs 7] [--out bench/results]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.sites import Traffic, save_results, serve, serve_counted  # noqa: E402
from builder.sizes import first_visit, gzip_size  # noqa: E402
from tests.support.browser import CHROMIUM_ARGS, chromium_executable  # noqa: E402
from tests.support.images import TEXTURES, texture_crops  # noqa: E402

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


def timed_opens(context, url: str, runs: int, traffic: Traffic | None = None) -> list[dict]:
    """Return visits: each a new page in the trained profile; with `traffic`, what each transferred."""
    results = []
    for _ in range(runs):
        if traffic:
            traffic.clear()
        page = context.new_page()
        page.goto(url)
        expect(page.locator('[data-testid="train-status"]')).to_have_attribute(
            "data-state", "done", timeout=60_000
        )
        marks = page.evaluate(MARKS)
        if traffic:
            expect(page.locator('[data-testid="offline"]')).to_have_attribute("data-state", "saved")
            marks["transfer_bytes"] = traffic.wire_bytes
        results.append(marks)
        page.close()
    return results


def first_visits(browser, url: str, runs: int, traffic: Traffic) -> dict:
    """Each in a new context (no cache, no service worker, no samples): until the model is ready,
    and what the visit transferred once the service worker has kept the site."""
    ready, raw, compressed = [], [], []
    for _ in range(runs):
        context = browser.new_context()
        traffic.clear()
        page = context.new_page()
        page.goto(url)
        expect(page.locator('[data-testid="status"]')).to_have_attribute(
            "data-state", "ready", timeout=60_000
        )
        ready.append(page.evaluate(MARKS)["teachkit:ready"])
        expect(page.locator('[data-testid="offline"]')).to_have_attribute(
            "data-state", "saved", timeout=60_000
        )
        raw.append(traffic.wire_bytes)
        compressed.append(traffic.gzip_bytes())
        context.close()
    return {
        "ready_ms": statistics.median(ready),
        "transfer_bytes": statistics.median(raw),
        "transfer_gzip_bytes": statistics.median(compressed),
    }


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
    result = {
        "single_file_bytes": single.stat().st_size,
        "single_file_gzip_bytes": gzip_size(single.read_bytes()),
        "built_first_visit": dataclasses.asdict(first_visit(hosted)),
    }
    with (
        serve_counted(hosted) as (hosted_url, traffic),
        serve(work / "blank") as blank_url,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(
            executable_path=chromium_executable(), headless=True, args=CHROMIUM_ARGS
        )
        result["hosted_first_visit"] = first_visits(browser, hosted_url, runs, traffic)
        browser.close()
        for mode, address in (("hosted", hosted_url), ("single_file", single.as_uri())):
            context = playwright.chromium.launch_persistent_context(
                str(work / f"profile-{mode}"),
                executable_path=chromium_executable(),
                headless=True,
                args=CHROMIUM_ARGS,
            )
            first = context.new_page()
            first.goto(address)
            train_once(first, images)
            if mode == "hosted":
                expect(first.locator('[data-testid="offline"]')).to_have_attribute("data-state", "saved")
            first.close()
            opens = timed_opens(context, address, runs, traffic if mode == "hosted" else None)
            result[mode] = {
                "ready_ms": statistics.median(o["teachkit:ready"] for o in opens),
                "prediction_ready_ms": statistics.median(o["teachkit:prediction-ready"] for o in opens),
            }
            if mode == "hosted":
                result[mode]["transfer_bytes"] = statistics.median(o["transfer_bytes"] for o in opens)
                result["blank_page_ms"] = blank_page_ms(context, blank_url, runs)
            context.close()
    result["runs"] = runs
    result["load_average"] = os.getloadavg()
    return result


def table(result: dict) -> str:
    first, hosted, single = result["hosted_first_visit"], result["hosted"], result["single_file"]
    megabytes = lambda size: f"{size / 1e6:.2f}"  # noqa: E731
    rows = [
        "| visit | transferred (uncompressed / gzip) | page ready (median) "
        "| first prediction possible (median) |",
        "| --- | --- | --- | --- |",
        f"| hosted, first visit | {megabytes(first['transfer_bytes'])} / "
        f"{megabytes(first['transfer_gzip_bytes'])} MB | "
        f"{first['ready_ms']:.0f} ms | {first['ready_ms']:.0f} ms (nothing trained yet) |",
        f"| hosted, return visit (trained before) | {hosted['transfer_bytes'] / 1e3:.1f} kB | "
        f"{hosted['ready_ms']:.0f} ms | {hosted['prediction_ready_ms']:.0f} ms |",
        f"| single file (file://), return visit | {result['single_file_bytes'] / 1e6:.2f} MB file, nothing "
        f"transferred | {single['ready_ms']:.0f} ms | {single['prediction_ready_ms']:.0f} ms |",
        f"| reference: blank page from the same server | – | {result['blank_page_ms']:.0f} ms | – |",
    ]
    built = result["built_first_visit"]
    load = ", ".join(f"{value:.1f}" for value in result["load_average"])
    notes = [
        "",
        f"Build summary's first visit: {megabytes(built['raw_bytes'])} MB "
        f"({megabytes(built['gzip_bytes'])} MB gzip); "
        f"single file gzip-compressed: {result['single_file_gzip_bytes'] / 1e6:.2f} MB. "
        f"Medians of {result['runs']} runs; load average at the end {load}.",
    ]
    return "\n".join(rows + notes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work_text:
        result = measure(args.runs, Path(work_text))
    save_results(args.out, "startup", result, table(result))


if __name__ == "__main__":
    main()
