"""A test set of 500 images through `window.teachkit.evaluate`, against a plain `predict` loop over the
same images in the same run.

Builds the 3-class Surfaces project (EfficientNet-Lite0, quantization auto) with `teachkit build`,
serves it on 127.0.0.1 and drives headless Chromium with Playwright through the public API only:
trains on 20 photo crops per class (`addImages`, `train`), hands the page 500 held-out crops (128x128
PNG Blobs, from the other half of each photo) once, then per round times, with the page's own clock,
`await teachkit.evaluate(items)` over all 500 and `for (image of images) await teachkit.predict(image)`
over the same 500, alternating which goes first. Prints the median total, the median time per image
(evaluate: total / 500, it answers once; predict: the median single call, and total / 500) and the
ratio evaluate / predict loop, and writes test_set.json and test_set.md (bench/results/ unless --out).

Usage: python bench/test_set.py [--rounds 3] [--images 500] [--out DIR]
TEACHKIT_CACHE (default ~/.cache/teachkit) keeps the converted model between runs.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sites import build_project_site, save_results, serve  # noqa: E402

from tests.support.browser import CHROMIUM_ARGS, chromium_executable  # noqa: E402
from tests.support.images import TEXTURES, texture_crops  # noqa: E402
from tests.support.pagekit import CLASS_OF, PROJECT  # noqa: E402

SECOND = 1000  # ms, for Playwright timeouts

# Hands the page its images once, as Blobs kept in a variable of this benchmark's own.
RECEIVE = """(sets) => {
  const bytes = (data) => Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const blob = (data) => new Blob([bytes(data)], { type: "image/png" });
  const items = (list) => list.map(({ data, className, name }) => ({ image: blob(data), className, name }));
  window.benchImages = { train: items(sets.train), test: items(sets.test) };
}"""

TRAIN = """async () => {
  const byClass = {};
  for (const { image, className } of window.benchImages.train) (byClass[className] ??= []).push(image);
  for (const [className, images] of Object.entries(byClass))
    await window.teachkit.addImages(className, images);
  const result = await window.teachkit.train();
  return { epochs: result.history.length, accuracy: result.evaluation.accuracy };
}"""

EVALUATE = """async () => {
  const items = window.benchImages.test;
  const started = performance.now();
  const report = await window.teachkit.evaluate(items);
  return { ms: performance.now() - started, count: report.count, accuracy: report.accuracy };
}"""

PREDICT_LOOP = """async () => {
  const items = window.benchImages.test;
  const each = [];
  let right = 0;
  const started = performance.now();
  for (const { image, className } of items) {
    const before = performance.now();
    const result = await window.teachkit.predict(image);
    each.push(performance.now() - before);
    if (result.label === className) right += 1;
  }
  return { ms: performance.now() - started, each, accuracy: right / items.length };
}"""


def encoded(paths: list[Path], classes: list[str]) -> list[dict]:
    return [
        {"data": base64.b64encode(path.read_bytes()).decode(), "className": cls, "name": path.name}
        for path, cls in zip(paths, classes, strict=True)
    ]


def make_images(work: Path, count: int) -> dict[str, list[dict]]:
    train, test = [], []
    for index, texture in enumerate(TEXTURES):
        cls = CLASS_OF[texture]
        crops = texture_crops(work / "train", texture, 20, "train", seed=index)
        train += encoded(crops, [cls] * len(crops))
        share = count // len(TEXTURES) + (index < count % len(TEXTURES))
        crops = texture_crops(work / "test", texture, share, "held-out", seed=500 + index)
        test += encoded(crops, [cls] * len(crops))
    return {"train": train, "test": test}


def build_site(work: Path) -> Path:
    return build_project_site(work, PROJECT)[0]


def run(rounds: int, count: int, work: Path) -> dict:
    from playwright.sync_api import expect, sync_playwright

    site = build_site(work)
    images = make_images(work / "images", count)
    load_before = round(os.getloadavg()[0], 2)
    with sync_playwright() as playwright, serve(site) as url:
        browser = playwright.chromium.launch(
            executable_path=chromium_executable(), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page()
        page.goto(url)
        expect(page.locator('[data-testid="status"]')).to_have_attribute(
            "data-state", "ready", timeout=120 * SECOND
        )
        backend = page.evaluate("() => window.teachkit.status().backend")
        page.evaluate(RECEIVE, images)
        trained = page.evaluate(TRAIN)
        page.evaluate("() => window.teachkit.predict(window.benchImages.test[0].image)")  # warm-up
        evaluations, loops = [], []
        for index in range(rounds):
            order = [("evaluate", EVALUATE), ("predict", PREDICT_LOOP)]
            for name, script in order if index % 2 == 0 else order[::-1]:
                result = page.evaluate(script)
                (evaluations if name == "evaluate" else loops).append(result)
                print(f"round {index + 1}: {name} {result['ms'] / 1000:.1f} s", flush=True)
        browser.close()
    total = statistics.median(result["ms"] for result in evaluations)
    loop_total = statistics.median(result["ms"] for result in loops)
    return {
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "cpus": os.cpu_count(),
        "load_before": load_before,
        "load_after": round(os.getloadavg()[0], 2),
        "backend": backend,
        "images": len(images["test"]),
        "rounds": rounds,
        "trained": trained,
        "evaluate_total_ms": [result["ms"] for result in evaluations],
        "predict_loop_total_ms": [result["ms"] for result in loops],
        "median": {
            "evaluate_total_s": total / 1000,
            "evaluate_per_image_ms": total / len(images["test"]),
            "predict_loop_total_s": loop_total / 1000,
            "predict_loop_per_image_ms": loop_total / len(images["test"]),
            "predict_call_ms": statistics.median(ms for result in loops for ms in result["each"]),
            "ratio_evaluate_to_predict_loop": total / loop_total,
        },
        "accuracy": {"evaluate": evaluations[-1]["accuracy"], "predict": loops[-1]["accuracy"]},
    }


def markdown(results: dict) -> str:
    m = results["median"]
    backend = results["backend"] or {}
    return "\n".join(
        [
            "# Test set benchmark",
            "",
            f"`python bench/test_set.py --rounds {results['rounds']}`, {results['date']}: headless Chromium, "
            f"{backend.get('name')} ({backend.get('build')}, {backend.get('workers')} workers); "
            f"{results['cpus']} cores, load average {results['load_before']} before and "
            f"{results['load_after']} after (a shared machine). Medians over {results['rounds']} rounds "
            f"of {results['images']} held-out photo crops; both measured in the same run, alternating.",
            "",
            "| measure | evaluate(items) | predict loop | ratio |",
            "| --- | --- | --- | --- |",
            f"| total for {results['images']} images | {m['evaluate_total_s']:.1f} s | "
            f"{m['predict_loop_total_s']:.1f} s | {m['ratio_evaluate_to_predict_loop']:.2f} |",
            f"| per image (total / n) | {m['evaluate_per_image_ms']:.1f} ms | "
            f"{m['predict_loop_per_image_ms']:.1f} ms | |",
            f"| one predict call (median) | | {m['predict_call_ms']:.1f} ms | |",
            f"| accuracy (last round) | {results['accuracy']['evaluate']:.3f} | "
            f"{results['accuracy']['predict']:.3f} | |",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        results = run(args.rounds, args.images, Path(work))
    save_results(args.out, "test_set", results, markdown(results))


if __name__ == "__main__":
    main()
