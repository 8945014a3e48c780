"""The whole page benchmark: build the site, run each measurement in turn, write page.json and
page.md."""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import tempfile
from dataclasses import asdict
from pathlib import Path

from bench.sites import save_results, serve

from .camera import measure_camera
from .embedding import measure_embedding
from .harness import CHROMIUM, launch, log
from .inputs import FULL, QUICK, SOURCES, Plan, build_site, make_images, site_scripts
from .memory import measure_memory
from .report import markdown
from .startup import measure_startup
from .training import measure_training
from .upload import measure_upload

RESULTS = Path(__file__).resolve().parent.parent / "results"


def environment(build_summary: str) -> dict:
    version = ""
    if CHROMIUM:  # None: Playwright's own browser
        version = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "chromium": version.split(" built")[0] or "Chromium",
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "build": build_summary,
        "load_before": round(os.getloadavg()[0], 2),
    }


def run(plan: Plan, work: Path) -> dict:
    from playwright.sync_api import sync_playwright

    log("building the site")
    site, summary = build_site(work)
    log(summary)
    results: dict = {"environment": environment(summary)}
    images = make_images(work, plan)
    with sync_playwright() as playwright, serve(site) as url:
        browser = launch(playwright)
        try:
            log("1. embedding: page, isolated page, Keras and TFLite in alternating blocks")
            results["embedding"] = measure_embedding(browser, site, url, plan.embed_runs)
            log("6. first prediction: fresh loads and plain model fetches")
            results["startup"] = measure_startup(browser, url, plan.loads, site_scripts(site))
            log("2. upload 100 images")
            results["upload"] = measure_upload(browser, url, images["upload"], plan.upload_repeats)
            log("3. training 5 x 60 samples, alternating with Keras fit; return visits")
            results["training"] = measure_training(
                browser, url, images["training"], plan.training_repeats, plan.reloads
            )
        finally:
            browser.close()
        log("4. the fake webcam: recording and live prediction")
        results["camera"] = measure_camera(playwright, url, images["y4m"], plan)
        log(f"7. memory with {len(SOURCES) * plan.memory_per_class} images")
        browser = launch(playwright)
        try:
            results["memory"] = measure_memory(browser, url, images["memory"], images["predict"])
        finally:
            browser.close()
    results["training_keras"] = results["training"].pop("keras")
    results["environment"]["load_after"] = round(os.getloadavg()[0], 2)
    results["environment"]["backend"] = results["embedding"]["backend"]
    return results


def main(description: str) -> None:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and images: a smoke run")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where page.json and page.md go")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    plan = QUICK if args.quick else FULL
    with tempfile.TemporaryDirectory(prefix="teachkit-page-bench-") as work:
        results = run(plan, Path(work))
    results["quick"] = args.quick
    results["plan"] = asdict(plan)
    save_results(args.out, "page", results, markdown(results))
