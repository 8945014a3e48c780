"""The base model on LiteRT.js against TF.js, in one headless Chromium run, beside native TFLite.

Builds the 2-class EfficientNet-Lite0 project twice (model.runtime "auto", which picks LiteRT.js
for a hosted build, and "tfjs"), serves both on 127.0.0.1 and times `teachkit.embed(canvas)` on a
640x480 photo, one image at a time (latency) and eight at once (ms per image), in alternating
blocks of 10 with the reference: the same Keras model converted to a float32 .tflite in
tf.lite.Interpreter(num_threads=1) with XNNPACK. Pages: LiteRT.js relaxed SIMD build in the
default two workers and in one (?workers=1), its compat build (?litert=compat), and TF.js. Also
the sites' sizes (raw and gzip) and what the build measured for each .tflite candidate.

Usage: python bench/litert.py [--runs N] [--out DIR]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import page as bench  # noqa: E402  (bench/page.py: the browser, the references, the embed steps)
from sites import ROOT, build_project_site, serve  # noqa: E402

PROJECT = """
title = "LiteRT bench"
classes = ["cat", "coffee"]

[model]
base = "efficientnet_lite0"
runtime = "{runtime}"
"""

PAGES = {
    "litert relaxed, 2 workers": ("auto", ""),
    "litert relaxed, 1 worker": ("auto", "?workers=1"),
    "litert compat, 2 workers": ("auto", "?litert=compat"),
    "tfjs, 2 workers": ("tfjs", ""),
}


def site_size(site: Path) -> dict:
    files = [path for path in site.rglob("*") if path.is_file()]
    raw = sum(path.stat().st_size for path in files)
    packed = sum(len(gzip.compress(path.read_bytes(), 6)) for path in files)
    return {"raw_mb": round(raw / 1e6, 2), "gzip_mb": round(packed / 1e6, 2)}


def load_average() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def measure(runs: int, work: Path) -> dict:
    from playwright.sync_api import sync_playwright

    sites, summaries = {}, {}
    for runtime in ("auto", "tfjs"):
        (work / runtime).mkdir()
        sites[runtime], summaries[runtime] = build_project_site(
            work / runtime, PROJECT.format(runtime=runtime)
        )
    runners, notes = bench.python_runners()
    reference = next(runner for runner in runners if runner.name == "tflite_xnnpack")
    times: dict[str, dict[str, list[float]]] = {name: {} for name in PAGES}
    times["tflite_xnnpack"] = {"embed": []}
    before = load_average()
    with (
        sync_playwright() as playwright,
        serve(sites["auto"]) as litert_url,
        serve(sites["tfjs"]) as tfjs_url,
    ):
        browser = bench.launch(playwright)
        tabs, shown = {}, {}
        for name, (runtime, query) in PAGES.items():
            tabs[name], shown[name] = bench.open_embedding_tab(
                browser, (litert_url if runtime == "auto" else tfjs_url) + query
            )
        for _ in range(max(1, runs // 10)):
            for name, tab in tabs.items():
                block = tab.page.evaluate(bench.EMBED_BLOCK_JS, 10)
                for step in ("embed", "eight"):
                    times[name].setdefault(step, []).extend(block["times"][step])
            times["tflite_xnnpack"]["embed"] += bench.timed_ms(reference.run, 10)
        for tab in tabs.values():
            tab.close()
        browser.close()
    native = bench.median(times["tflite_xnnpack"]["embed"])
    pages = {}
    for name in PAGES:
        one = bench.median(times[name]["embed"])
        eight = bench.median(times[name]["eight"]) / 8
        pages[name] = {
            "embed_ms": round(one, 1),
            "eight_ms_per_image": round(eight, 1),
            "ratio_to_native": round(one / native, 2),
            "backend": shown[name],
        }
    manifest = json.loads((sites["auto"] / "manifest.json").read_text())
    return {
        "native_tflite_fp32_1_thread_ms": round(native, 1),
        "pages": pages,
        "summaries": summaries,
        "sizes": {runtime: site_size(site) for runtime, site in sites.items()},
        "candidates": manifest["litert"]["tried"],
        "load_before": before,
        "load_after": load_average(),
        "runs": runs,
        "notes": notes,
    }


def markdown(results: dict) -> str:
    native = results["native_tflite_fp32_1_thread_ms"]
    lines = [
        f"Native TFLite + XNNPACK fp32, 1 thread: {native} ms (same run).",
        "",
        "| page | one image | eight at once (per image) | one image / native |",
        "| --- | --- | --- | --- |",
    ]
    for name, row in results["pages"].items():
        lines.append(
            f"| {name} | {row['embed_ms']} ms | {row['eight_ms_per_image']} ms | {row['ratio_to_native']}× |"
        )
    lines += [
        "",
        "| .tflite candidate (measured by the build in Node.js) | size | min cosine | relaxed / compat ms |",
    ]
    lines.append("| --- | --- | --- | --- |")
    for item in results["candidates"]:
        ms = item["milliseconds"]
        lines.append(
            f"| {item['encoding']} | {item['size_bytes'] / 1e6:.2f} MB "
            f"| {item['fidelity']['min_cosine']:.4f} "
            f"| {ms['relaxed']:.1f} / {ms['compat']:.1f} |"
        )
    lines += ["", "| site | raw | gzip |", "| --- | --- | --- |"]
    for runtime, size in results["sizes"].items():
        lines.append(f"| {runtime} | {size['raw_mb']} MB | {size['gzip_mb']} MB |")
    lines += ["", f"Load before: {results['load_before']}", f"Load after: {results['load_after']}", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40, help="embeddings per page (blocks of 10)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with tempfile.TemporaryDirectory(prefix="teachkit-litert-bench-") as work:
        results = measure(args.runs, Path(work))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "litert.json").write_text(json.dumps(results, indent=2) + "\n")
    report = markdown(results)
    (args.out / "litert.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
