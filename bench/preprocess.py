"""The page's one preprocessing (the centre square of a photo or camera frame, shrunk to the model's
224 pixels by templates/app/media/resample.js, a port of PIL's bilinear resize) in headless Chromium,
each number beside a reference measured in the same run:

1. crop: ms per `Cropper.crop(bitmap)` (templates/app/media/crop.js, served as it is, unbundled) on a
   12-megapixel phone photo (4032×3024) and a 640×480 camera frame, each call on an ImageBitmap
   decoded for it as an upload is. Reference, in alternating blocks: the page's previous crop, the
   engine's canvas scaler (drawImage of the centre square onto a 224-pixel canvas,
   imageSmoothingQuality "high", then getImageData). Ratio new/old. Also what reading the square's
   pixels alone costs (drawImage at scale 1 + getImageData, in the same bands), the floor of any
   crop computed on pixels. The crop is one synchronous main-thread task, so its time is also how
   long it blocks the page: each call runs as a task of its own and is timed by a trace
   (devtools.timeline), on the wall clock and as the main thread's CPU time, which stays
   meaningful when the machine is shared.
   And how far each result is from Python's `center_crop_resize` of the same pixels (new: 0).
2. embed: ms per `window.teachkit.embed(bitmap)` on the built page (crop, post to a worker,
   embed) for the same two ImageBitmaps; reference: a 224×224 one, where the crop only copies.
3. live: predictions per second and each frame's latency (the API's `prediction` events) on
   Chromium's fake 640×480 webcam at 30 fps, after a head was trained through the API;
   reference: the camera's own frame rate (requestVideoFrameCallback). The budget a frame has at
   30 fps is 33 ms.

Usage: python bench/preprocess.py [--runs 20] [--out bench/results]
TEACHKIT_CACHE (default ~/.cache/teachkit) keeps the converted model between runs.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pagebench.harness import probe  # noqa: E402
from bench.sites import build_project_site, report_head, save_results, serve  # noqa: E402
from builder.models.preprocess import center_crop_resize  # noqa: E402
from tests.support.browser import CHROMIUM_ARGS, chromium_executable, open_with_camera  # noqa: E402
from tests.support.images import write_y4m  # noqa: E402
from tests.support.photos import full_size_photo  # noqa: E402

SIZES = {"12 MP photo (4032×3024)": (4032, 3024), "camera frame (640×480)": (640, 480)}
CAMERA_FPS = 30
PROJECT = """title = "Preprocessing benchmark"
classes = ["Cat", "Coffee"]

[model]
base = "efficientnet_lite0"
quantization = "auto"
"""

# The harness page: the page's own crop module, and the previous crop as the reference.
HARNESS = """<!doctype html>
<meta charset="utf-8">
<title>crop harness</title>
<script type="module">
import { Cropper } from "./crop.js";

class CanvasCropper {
  constructor(size) {
    this.size = size;
    this.canvas = document.createElement("canvas");
    this.canvas.width = this.canvas.height = size;
    this.context = this.canvas.getContext("2d", { willReadFrequently: true });
    this.context.imageSmoothingQuality = "high";
  }
  crop(source) {
    const { width, height } = source;
    const side = Math.min(width, height);
    const size = this.size;
    this.context.drawImage(source, (width - side) / 2, (height - side) / 2, side, side, 0, 0, size, size);
    return this.context.getImageData(0, 0, size, size);
  }
}
// What any pixel-exact crop pays before it computes: the centre square copied at scale 1 and read
// back, in the bands crop.js reads (its band size).
class ReadOnly {
  constructor() {
    this.context = document.createElement("canvas").getContext("2d", { willReadFrequently: true });
  }
  crop(source) {
    const { width, height } = source;
    const side = Math.min(width, height);
    const left = Math.floor((width - side) / 2);
    const top = Math.floor((height - side) / 2);
    const rows = Math.min(side, Math.max(1, Math.floor((1 << 20) / side)));
    const canvas = this.context.canvas;
    if (canvas.width !== side || canvas.height !== rows) [canvas.width, canvas.height] = [side, rows];
    for (let row = 0; row < side; row += rows) {
      const band = Math.min(rows, side - row);
      this.context.imageSmoothingEnabled = false;
      this.context.drawImage(source, left, top + row, side, band, 0, 0, side, band);
      this.context.getImageData(0, 0, side, band);
    }
    return this.context.getImageData(0, 0, 1, 1);
  }
}
window.croppers = { new: new Cropper(224), old: new CanvasCropper(224), read: new ReadOnly() };
</script>
"""

# What runs in the page, each a function in bench/probes/.
CROP_JS = probe("preprocess_crop")
EMBED_JS = probe("preprocess_embed")
TRAIN_JS = probe("preprocess_train")
LIVE_JS = probe("preprocess_live")


def median(values: list[float]) -> float:
    return round(statistics.median(values), 1)


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def write_photos(directory: Path) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    files = {}
    inputs = [*SIZES.items(), ("224×224 image (input size)", (224, 224))]
    for index, (label, (width, height)) in enumerate(inputs):
        files[label] = directory / f"photo-{width}x{height}.png"
        Image.fromarray(full_size_photo("chelsea", width, height, seed=index)).save(
            files[label], compress_level=1
        )
    return files


def crop_tasks(browser: object, page: object, url: str, runs: int) -> tuple[dict, dict]:
    """Each cropper's calls on `url`'s image, traced: {name: [(wall ms, main-thread CPU ms)]}, and
    each one's pixels. The thread's CPU time is what the crop costs when it has a core to itself;
    the wall time is what this shared machine gave it."""
    browser.start_tracing(page=page, categories=["devtools.timeline"])
    measured = page.evaluate(CROP_JS, {"url": url, "runs": runs, "block": 5})
    events = json.loads(browser.stop_tracing())["traceEvents"]
    timers = sorted(
        (event for event in events if event.get("name") == "TimerFire" and event.get("ph") == "X"),
        key=lambda event: event["ts"],
    )
    calls = len(measured["order"])
    assert len(timers) == calls, f"{len(timers)} timer tasks traced for {calls} calls"
    times: dict[str, list[tuple[float, float]]] = {}
    for name, event in zip(measured["order"], timers, strict=True):
        times.setdefault(name, []).append((event["dur"] / 1000, event["tdur"] / 1000))
    return times, measured["pixels"]


def measure_crop(browser: object, photos: dict[str, Path], runs: int) -> dict:
    harness = Path(tempfile.mkdtemp(prefix="crop-harness-"))
    for name in ("crop.js", "resample.js"):
        shutil.copyfile(ROOT / "templates/app/media" / name, harness / name)
    (harness / "index.html").write_text(HARNESS)
    for path in photos.values():
        shutil.copyfile(path, harness / path.name)
    results = {}
    with serve(harness) as url:
        page = browser.new_page()
        page.goto(url)
        page.wait_for_function("() => window.croppers !== undefined")
        for label, path in photos.items():
            log(f"crop: {label}")
            times, pixels = crop_tasks(browser, page, path.name, runs)
            python = center_crop_resize(np.asarray(Image.open(path).convert("RGB")), 224).ravel()
            results[label] = {}
            for name in ("new", "old", "read"):
                wall, cpu = zip(*times[name], strict=True)
                results[label][name] = {"cpu_ms": median(cpu), "ms": median(wall), "max_ms": max(wall)}
                if name != "read":
                    difference = np.abs(np.array(pixels[name]) - python)
                    results[label][name]["max_diff_from_python"] = int(difference.max())
                    results[label][name]["mean_diff_from_python"] = round(float(difference.mean()), 3)
        page.close()
    shutil.rmtree(harness)
    return results


def measure_page(playwright: object, site: Path, photos: dict[str, Path], runs: int) -> dict:
    reference = Image.open(photos["camera frame (640×480)"]).convert("RGB")
    y4m = site.parent / "camera.y4m"
    write_y4m(y4m, np.asarray(reference), frames=CAMERA_FPS, fps=CAMERA_FPS)
    for path in photos.values():
        shutil.copyfile(path, site / path.name)
    big = photos["12 MP photo (4032×3024)"].name
    with serve(site) as url:
        context, session = open_with_camera(
            playwright, site.parent / "profile", y4m, url, permissions=["camera"]
        )
        try:
            page = session.page
            # Live first: the garbage of sixty 12-megapixel crops would otherwise still be collected
            # while the camera runs.
            log("live: training a head through the API, then the fake camera")
            page.evaluate(TRAIN_JS, {"url": big, "classes": ["Cat", "Coffee"], "count": 8})
            live = page.evaluate(LIVE_JS, {"seconds": 10})
            backend = page.locator('[data-testid="backend"]').text_content()
            log("embed: teachkit.embed on the built page")
            sizes = [*SIZES.values(), (224, 224)]
            urls = [f"photo-{w}x{h}.png" for w, h in sizes]
            times = page.evaluate(EMBED_JS, {"urls": urls, "runs": runs, "block": 5})
            embed = {f"{w}×{h}": median(t) for (w, h), t in zip(sizes, times, strict=True)}
        finally:
            context.close()
    return {
        "backend": backend,
        "embed_ms": embed,
        "live": {
            "fps": round(live["fps"], 1),
            "camera_fps": round(live["cameraFps"], 1),
            "latency_ms": median(live["latencies"]),
            "frames": len(live["latencies"]),
        },
    }


def markdown(results: dict) -> str:
    command = f"python bench/preprocess.py --runs {results['runs']}"
    notes = "Medians; each reference was measured in the same run."
    columns = ["measure", "page", "reference (same run)", "ratio"]
    lines = report_head("Preprocessing benchmark", command, results["environment"], notes, columns)
    for label, crop in results["crop"].items():
        new, old, read = crop["new"], crop["old"], crop["read"]
        lines.append(
            f"| crop of a {label}: main-thread CPU, ms | {new['cpu_ms']} | canvas scaler: {old['cpu_ms']} | "
            f"{new['cpu_ms'] / old['cpu_ms']:.0f} |"
        )
        lines.append(
            f"| the same, wall time (longest), ms | {new['ms']} ({new['max_ms']:.0f}) | "
            f"canvas scaler: {old['ms']} ({old['max_ms']:.0f}) | {new['ms'] / old['ms']:.0f} |"
        )
        lines.append(
            f"| of which reading the square's pixels (scale 1, in bands): CPU, ms | {read['cpu_ms']} | | |"
        )
        lines.append(
            f"| its largest difference from Python's crop (mean), 0–255 | {new['max_diff_from_python']} "
            f"({new['mean_diff_from_python']}) | canvas scaler: {old['max_diff_from_python']} "
            f"({old['mean_diff_from_python']}) | |"
        )
    embed = results["page"]["embed_ms"]
    for size in list(embed)[:2]:
        lines.append(
            f"| `teachkit.embed(bitmap)` {size}, ms | {embed[size]} | 224×224: {embed['224×224']} "
            f"| {embed[size] / embed['224×224']:.2f} |"
        )
    live = results["page"]["live"]
    lines.append(
        f"| live prediction, 640×480 camera, predictions/s | {live['fps']} | "
        f"camera: {live['camera_fps']} fps | {live['fps'] / live['camera_fps']:.2f} |"
    )
    lines.append(
        f"| live prediction, latency per frame, ms | {live['latency_ms']} | budget at 30 fps: 33 | "
        f"{live['latency_ms'] / 33.3:.2f} |"
    )
    lines += ["", f"Page backend: {results['page']['backend']}", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="timed calls per measure (default 20)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    load_before = round(os.getloadavg()[0], 2)
    chromium = chromium_executable()
    version = ""
    if chromium:  # None: Playwright's own browser
        version = subprocess.run([chromium, "--version"], capture_output=True, text=True).stdout
    with tempfile.TemporaryDirectory(prefix="bench-preprocess-") as temporary:
        work = Path(temporary)
        photos = write_photos(work / "photos")
        log("building the site")
        site, summary = build_project_site(work, PROJECT)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
            try:
                crop = measure_crop(browser, photos, args.runs)
            finally:
                browser.close()
            page = measure_page(playwright, site, photos, args.runs)
    results = {
        "runs": args.runs,
        "environment": {
            "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
            "chromium": version.split(" built")[0].strip() or "Chromium",
            "cpus": os.cpu_count(),
            "build": summary,
            "load_before": load_before,
            "load_after": round(os.getloadavg()[0], 2),
        },
        "crop": crop,
        "page": page,
    }
    save_results(args.out, "preprocess", results, markdown(results))


if __name__ == "__main__":
    main()
