"""The base model on LiteRT.js against TF.js, in one headless Chromium run, beside native TFLite.

Builds the 2-class EfficientNet-Lite0 project twice (model.runtime "auto", which picks LiteRT.js
for a hosted build, and "tfjs"), serves both on 127.0.0.1 and times `teachkit.embed(canvas)` on a
640x480 photo, one image at a time (latency) and eight at once (ms per image), in alternating
blocks of 10 with the reference: the same Keras model converted to a float32 .tflite in
tf.lite.Interpreter(num_threads=1) with XNNPACK. Pages: LiteRT.js relaxed SIMD build in the
default two workers and in one (?workers=1), its compat build (?litert=compat), and TF.js. Also
the sites' sizes (raw and gzip) and what the build measured for each .tflite candidate.

Two rows explain the LiteRT.js times: the shipped int8 .tflite itself in tf.lite.Interpreter
(native XNNPACK, 1 thread, so int8 against fp32 natively), and how this browser computes
WebAssembly's relaxed dot product, which decides which int8 kernels XNNPACK runs in the page.

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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# The page benchmark's browser, references and embed steps.
from bench.pagebench import embedding, harness, inputs  # noqa: E402
from bench.sites import ROOT, build_project_site, save_results, serve  # noqa: E402

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


# XNNPACK chooses its int8 matrix kernels in WebAssembly by testing the browser's
# i32x4.relaxed_dot_i8x16_i7x16_add_s on bytes of 0x80 and 0xff (XNNPACK src/configs/
# hardware-config.c): its fast dot-product kernels run only where the answer equals the signed × signed
# or the signed × unsigned sum without saturation; otherwise it falls back to 16-bit multiplies. This
# module is wat2wasm of:
#   (module (memory (export "mem") 1) (func (export "run")
#     (v128.store (i32.const 0) (i32x4.relaxed_dot_i8x16_i7x16_add_s
#       (v128.const i32x4 0x80808080 0x80808080 0x80808080 0x80808080)
#       (v128.const i32x4 0x80808080 0xffff8080 0x8080ffff 0xffffffff) (v128.const i32x4 0 0 0 0)))
#     (v128.store (i32.const 16) (i32x4.relaxed_dot_i8x16_i7x16_add_s
#       (v128.const i32x4 0x01000000 0x00010000 0x00000100 0x00000001)
#       (v128.const i32x4 0x80000000 0x00800000 0x00008000 0x00000080) (v128.const i32x4 0 0 0 0)))))
RELAXED_DOT_PROBE = (
    "0061736d01000000010401600000030201000503010001070d02036d656d02000372756e00000a8301018001004100"
    "fd0c80808080808080808080808080808080fd0c808080808080ffffffff8080fffffffffd0c000000000000000000"
    "00000000000000fd9302fd0b04004110fd0c00000001000001000001000001000000fd0c0000008000008000008000"
    "0080000000fd0c00000000000000000000000000000000fd9302fd0b04000b"
)
RELAXED_DOT_JS = """async (hex) => {
  const bytes = new Uint8Array(hex.match(/../g).map((pair) => parseInt(pair, 16)));
  const { instance } = await WebAssembly.instantiate(bytes);
  instance.exports.run();
  return Array.from(new Int32Array(instance.exports.mem.buffer, 0, 8));
}"""
# The first four lanes for each reading of the operands (the last four only tell, with small numbers,
# whether the second operand counts as signed).
RELAXED_DOT_READINGS = {
    "signed × signed (XNNPACK's sdot kernels)": [65536, 33024, 33024, 512],
    "signed × unsigned, exact (XNNPACK's usdot kernels)": [-65536, -98048, -98048, -130560],
}


def relaxed_dot(page: object) -> dict:
    lanes = page.evaluate(RELAXED_DOT_JS, RELAXED_DOT_PROBE)[:4]
    reading = next((name for name, want in RELAXED_DOT_READINGS.items() if lanes == want), None)
    return {
        "lanes": lanes,
        "reading": reading or "neither: saturated 16-bit sums (x86 pmaddubsw)",
        "xnnpack_int8_kernels": "dot-product" if reading else "16-bit multiplies (plain SIMD)",
    }


def shipped_tflite_ms(site: Path, runs: int) -> float:
    """The page's own .tflite in tf.lite.Interpreter with XNNPACK, 1 thread, on the bench photo."""
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_path=str(site / "model" / "model.tflite"), num_threads=1)
    interpreter.allocate_tensors()
    source = interpreter.get_input_details()[0]["index"]
    x = inputs.reference_pixels()

    def invoke() -> None:
        interpreter.set_tensor(source, x)
        interpreter.invoke()

    harness.timed_ms(invoke, 3)
    return harness.median(harness.timed_ms(invoke, runs))


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
    runners, notes = embedding.python_runners()
    reference = next(runner for runner in runners if runner.name == "tflite_xnnpack")
    times: dict[str, dict[str, list[float]]] = {name: {} for name in PAGES}
    times["tflite_xnnpack"] = {"embed": []}
    before = load_average()
    with (
        sync_playwright() as playwright,
        serve(sites["auto"]) as litert_url,
        serve(sites["tfjs"]) as tfjs_url,
    ):
        browser = harness.launch(playwright)
        tabs, shown = {}, {}
        for name, (runtime, query) in PAGES.items():
            tabs[name], shown[name] = embedding.open_embedding_tab(
                browser, (litert_url if runtime == "auto" else tfjs_url) + query
            )
        for _ in range(max(1, runs // 10)):
            for name, tab in tabs.items():
                block = tab.page.evaluate(harness.probe("embed_block"), 10)
                for step in ("embed", "eight"):
                    times[name].setdefault(step, []).extend(block["times"][step])
            times["tflite_xnnpack"]["embed"] += harness.timed_ms(reference.run, 10)
            times["tflite_xnnpack"].setdefault("shipped", []).append(shipped_tflite_ms(sites["auto"], 10))
        dot = relaxed_dot(next(iter(tabs.values())).page)
        for tab in tabs.values():
            tab.close()
        browser.close()
    native = harness.median(times["tflite_xnnpack"]["embed"])
    pages = {}
    for name in PAGES:
        one = harness.median(times[name]["embed"])
        eight = harness.median(times[name]["eight"]) / 8
        pages[name] = {
            "embed_ms": round(one, 1),
            "eight_ms_per_image": round(eight, 1),
            "ratio_to_native": round(one / native, 2),
            "backend": shown[name],
        }
    manifest = json.loads((sites["auto"] / "manifest.json").read_text())
    shipped = harness.median(times["tflite_xnnpack"]["shipped"])
    return {
        "native_tflite_fp32_1_thread_ms": round(native, 1),
        "native_shipped_int8_tflite_1_thread_ms": round(shipped, 1),
        "relaxed_dot": dot,
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
        f"Native TFLite + XNNPACK fp32, 1 thread: {native} ms (same run); the shipped int8 .tflite "
        f"natively: {results['native_shipped_int8_tflite_1_thread_ms']} ms.",
        "",
        f"This browser's relaxed dot product gives {results['relaxed_dot']['lanes']}: "
        f"{results['relaxed_dot']['reading']}, so XNNPACK's int8 kernels in the page use "
        f"{results['relaxed_dot']['xnnpack_int8_kernels']}.",
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
    save_results(args.out, "litert", results, markdown(results))


if __name__ == "__main__":
    main()
