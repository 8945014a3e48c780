"""A class of 30 models compared on the teacher's 200 test images (`teachkit.compareSubmissions`),
beside one model's test of the same images (`teachkit.evaluate`) in the same run.

Builds the 3-class Surfaces project (EfficientNet-Lite0, quantization auto) with `[cloud] url`,
serves it on 127.0.0.1 beside a real `teachkit receive` (a folder store, `--rate 6000` so that the
run is not rate limited) and a class made with `teachkit class create`, and drives headless
Chromium through the public API only:

- one student page trains --models different models, one after the other (every third a kNN head,
  the others dense; each on its own few photo crops of its own size and seed, from the top halves
  of the textures) and hands each in under its own name with `teachkit.handIn`;
- a teacher page (`?teacher`, a fresh context) is given --images held-out crops (the bottom halves)
  as Blobs once, embeds one of them as a warm-up, then per round times with the page's own clock
  `await teachkit.compareSubmissions({code, token}, items, {ensemble: true})`: the first round
  reads every model's files from the receiver, later rounds take them from the page's own copy;
- the student page, as the reference, times `await teachkit.evaluate(items)` of its last model on
  the same images (one embedding per image and one head), alternating with the teacher's rounds.

Prints and writes (class_compare.json and .md, bench/results/ unless --out) the median totals, ms
per image and per image per model, the ratio compare / evaluate, the requests the teacher's page
sent the receiver each round, and the ensemble's accuracy beside the best and worst member's.

Usage: python bench/class_compare.py [--models 30] [--images 200] [--rounds 3] [--out DIR] [--quick]
TEACHKIT_CACHE (default ~/.cache/teachkit) keeps the converted model between runs.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sites import build_project_site, report_head, save_results, serve  # noqa: E402
from tests.support.browser import CHROMIUM_ARGS, chromium_executable  # noqa: E402
from tests.support.images import TEXTURES, texture_crops  # noqa: E402
from tests.support.pagekit import CLASS_OF, PROJECT, wait_ready  # noqa: E402
from tests.support.receivers import make_class, start_receiver  # noqa: E402

QUICK = {"models": 4, "images": 24, "rounds": 2}
# Each model's crops per class and their size in pixels, cycled over the students so that the
# models differ (few and small crops make weaker models).
COUNTS = (1, 2, 3, 5)
SIZES = (24, 32, 48, 96, 128)
# The test crops' sizes, cycled: a small crop shows less of its texture, as a far photo would.
TEST_SIZES = (24, 40, 64, 96, 128, 160)

# Blobs from [[base64, className], …], as the page's file inputs would give them.
BLOBS = """const blobs = (list) => list.map(([data, className]) => ({
    image: new Blob([Uint8Array.from(atob(data), (c) => c.charCodeAt(0))], { type: "image/png" }),
    className,
  }));"""

RECEIVE_TESTS = (
    """(items) => {
  """
    + BLOBS
    + """
  window.benchTests = blobs(items);
  return window.benchTests.length;
}"""
)

# One student's model: the page's classes emptied, this model's photos added, its head chosen,
# trained and handed in under its own name. Returns how long each part took.
TRAIN_AND_HAND_IN = (
    """async ({ crops, head, seed, code, name }) => {
  """
    + BLOBS
    + """
  const tk = window.teachkit;
  const started = performance.now();
  for (const { name: className } of await tk.classes()) await tk.clearClass(className);
  const byClass = {};
  for (const { image, className } of blobs(crops)) (byClass[className] ??= []).push(image);
  for (const [className, images] of Object.entries(byClass)) await tk.addImages(className, images);
  await tk.setSettings({ head: { type: head }, training: { seed } });
  const added = performance.now();
  await tk.train();
  const trained = performance.now();
  const { id } = await tk.handIn({ code, name });
  return { id, add_ms: added - started, train_ms: trained - added, hand_in_ms: performance.now() - trained };
}"""
)

COMPARE = """async (auth) => {
  const started = performance.now();
  const report = await window.teachkit.compareSubmissions(auth, window.benchTests, { ensemble: true });
  const ms = performance.now() - started;
  const { ensemble, spread } = report;
  return {
    ms,
    items: report.items.map(({ id, name, accuracy, correct, count }) => ({
      id, name, accuracy, correct, count,
    })),
    notComparable: report.notComparable,
    ensemble: ensemble && {
      accuracy: ensemble.accuracy, correct: ensemble.correct, count: ensemble.count,
      interval: ensemble.interval, members: ensemble.ids.length,
    },
    spread,
  };
}"""

EVALUATE = """async () => {
  const started = performance.now();
  const report = await window.teachkit.evaluate(window.benchTests);
  const ms = performance.now() - started;
  return { ms, accuracy: report.accuracy, correct: report.correct, count: report.count };
}"""

WARM_UP = "() => window.teachkit.embed(window.benchTests[0].image).then(() => true)"


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def encoded(paths: list[Path], class_name: str) -> list[list[str]]:
    return [[base64.b64encode(path.read_bytes()).decode(), class_name] for path in paths]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def plan_models(work: Path, count: int) -> list[dict]:
    """Each student's model: its name, head, seed and crops (from the textures' top halves)."""
    models = []
    for index in range(count):
        per_class, size = COUNTS[index % len(COUNTS)], SIZES[index % len(SIZES)]
        crops = []
        for number, texture in enumerate(TEXTURES):
            paths = texture_crops(
                work / f"model-{index}", texture, per_class, "train", seed=1000 * index + number, size=size
            )
            crops += encoded(paths, CLASS_OF[texture])
        head = "knn" if index % 3 == 2 else "dense"
        models.append(
            {
                "name": f"Student {index + 1:02d}",
                "head": head,
                "seed": index + 1,
                "per_class": per_class,
                "size": size,
                "crops": crops,
            }
        )
    return models


def held_out_items(work: Path, count: int) -> list[list[str]]:
    """`count` held-out crops (the textures' bottom halves, never trained on), spread over the classes."""
    items = []
    for index, texture in enumerate(TEXTURES):
        share = count // len(TEXTURES) + (index < count % len(TEXTURES))
        for number in range(share):
            size = TEST_SIZES[number % len(TEST_SIZES)]
            folder = work / "test" / f"{texture}-{number}"
            paths = texture_crops(folder, texture, 1, "held-out", seed=500 + 100 * index + number, size=size)
            items += encoded(paths, CLASS_OF[texture])
    return items


def chromium_version() -> str:
    executable = chromium_executable()
    if not executable:  # Playwright's own browser
        return "Chromium"
    output = subprocess.run([executable, "--version"], capture_output=True, text=True).stdout
    return output.split(" built")[0].strip() or "Chromium"


def hand_in_class(browser, site_url: str, code: str, models: list[dict], tests: list) -> tuple:
    """Trains and hands in every model from one student page; returns the page (kept open for the
    reference), its context, and each model's timings."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(site_url)
    wait_ready(page)
    page.evaluate(RECEIVE_TESTS, tests)
    timings = []
    for model in models:
        arguments = {key: model[key] for key in ("crops", "head", "seed", "name")}
        done = page.evaluate(TRAIN_AND_HAND_IN, {**arguments, "code": code})
        timings.append({"name": model["name"], "head": model["head"], **done})
        log(
            f"{model['name']} ({model['head']}, {model['per_class']} × {model['size']} px a class): handed in"
        )
    # Each hand-in under a new name after training again is a submission of its own.
    if len({timing["id"] for timing in timings}) != len(models):
        raise SystemExit(f"the class holds fewer submissions than the {len(models)} handed in")
    return context, page, timings


def run(models: int, images: int, rounds: int, work: Path) -> dict:
    from playwright.sync_api import sync_playwright

    port = free_port()
    cloud = f"http://127.0.0.1:{port}/"
    log("building the site")
    site, summary = build_project_site(work, PROJECT + f'\n[cloud]\nurl = "{cloud}"\n')
    plan = plan_models(work / "images", models)
    tests = held_out_items(work / "images", images)
    store = str(work / "store")
    load_before = round(os.getloadavg()[0], 2)
    with (
        sync_playwright() as playwright,
        serve(site) as site_url,
        start_receiver(
            store, [site_url.rstrip("/")], extra_args=["--port", str(port), "--rate", "6000"]
        ) as receiver,
    ):
        klass = make_class("Benchmark class", store=store)
        auth = {"code": klass["code"], "token": klass["teacher_token"]}
        browser = playwright.chromium.launch(
            executable_path=chromium_executable(), headless=True, args=CHROMIUM_ARGS
        )
        try:
            started = time.monotonic()
            student_context, student, timings = hand_in_class(browser, site_url, auth["code"], plan, tests)
            setup_s = time.monotonic() - started
            backend = student.evaluate("() => window.teachkit.status().backend")
            teacher_context = browser.new_context()
            teacher = teacher_context.new_page()
            to_receiver = []
            teacher.on(
                "request", lambda request: request.url.startswith(receiver.url) and to_receiver.append(1)
            )
            teacher.goto(site_url + "?teacher")
            wait_ready(teacher)
            teacher.evaluate(RECEIVE_TESTS, tests)
            teacher.evaluate(WARM_UP)
            compares, evaluations = [], []
            for index in range(rounds):
                order = ["compare", "evaluate"] if index % 2 == 0 else ["evaluate", "compare"]
                for name in order:
                    if name == "compare":
                        to_receiver.clear()
                        result = teacher.evaluate(COMPARE, auth)
                        result["receiver_requests"] = len(to_receiver)
                        compares.append(result)
                    else:
                        result = student.evaluate(EVALUATE)
                        evaluations.append(result)
                    log(f"round {index + 1}: {name} {result['ms'] / 1000:.1f} s")
            teacher_context.close()
            student_context.close()
        finally:
            browser.close()
    return summarise(
        {
            "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
            "chromium": chromium_version(),
            "backend": f"{backend.get('name')} ({backend.get('build')}, {backend.get('workers')} workers)",
            "cpus": os.cpu_count(),
            "load_before": load_before,
            "load_after": round(os.getloadavg()[0], 2),
            "build": summary,
        },
        plan,
        timings,
        setup_s,
        compares,
        evaluations,
    )


def summarise(
    env: dict, plan: list, timings: list, setup_s: float, compares: list, evaluations: list
) -> dict:
    models, images = len(plan), evaluations[0]["count"]
    first = compares[0]["ms"]
    # One round only (--rounds 1): the first round stands for the cached ones too.
    cached = statistics.median(result["ms"] for result in compares[1:] or compares)
    evaluate = statistics.median(result["ms"] for result in evaluations)
    last = compares[-1]
    accuracies = [item["accuracy"] for item in last["items"]]
    reference_name = plan[-1]["name"]
    as_compared = next((item for item in last["items"] if item["name"] == reference_name), None)
    return {
        "environment": env,
        "models": models,
        "heads": {head: sum(model["head"] == head for model in plan) for head in ("dense", "knn")},
        "images": images,
        "rounds": len(compares),
        "class_setup": {
            "total_s": setup_s,
            "per_model_median_ms": {
                part: statistics.median(timing[f"{part}_ms"] for timing in timings)
                for part in ("add", "train", "hand_in")
            },
            "per_model": timings,
        },
        "compare_total_ms": [result["ms"] for result in compares],
        "evaluate_total_ms": [result["ms"] for result in evaluations],
        "receiver_requests": [result["receiver_requests"] for result in compares],
        "median": {
            "compare_first_s": first / 1000,
            "compare_cached_s": cached / 1000,
            "evaluate_s": evaluate / 1000,
            "compare_first_per_image_ms": first / images,
            "compare_cached_per_image_ms": cached / images,
            "evaluate_per_image_ms": evaluate / images,
            "compare_first_per_image_per_model_ms": first / images / models,
            "compare_cached_per_image_per_model_ms": cached / images / models,
            # What each model beyond the first adds to an image (its head), over evaluate's one.
            "each_further_model_per_image_ms": (cached - evaluate) / images / max(models - 1, 1),
            "ratio_first_to_evaluate": first / evaluate,
            "ratio_cached_to_evaluate": cached / evaluate,
        },
        "accuracy": {
            "compared": len(last["items"]),
            "not_comparable": last["notComparable"],
            "ensemble": last["ensemble"],
            "best": max(accuracies),
            "worst": min(accuracies),
            "spread": last["spread"],
            "members": last["items"],
            # The student page's last model, tested by evaluate and by the teacher's comparison.
            "reference": {
                "name": reference_name,
                "evaluate": evaluations[-1]["accuracy"],
                "compare": as_compared and as_compared["accuracy"],
            },
        },
    }


def percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f} %"


def markdown(results: dict, command: str) -> str:
    m, a, setup = results["median"], results["accuracy"], results["class_setup"]
    n, k = results["images"], results["models"]
    ensemble = a["ensemble"] or {}
    reference = a["reference"]
    requests = results["receiver_requests"]
    notes = (
        f"A class of {k} models ({results['heads']['dense']} dense, {results['heads']['knn']} kNN) handed "
        f"in with `teachkit.handIn` to a real `teachkit receive` on loopback ({a['compared']} comparable, "
        f"{len(a['not_comparable'])} not), compared on {n} held-out photo crops by "
        "`teachkit.compareSubmissions` on the teacher's page (`?teacher`, its own browser context), beside "
        f"`teachkit.evaluate` of one of the models on the student's page; alternating, {results['rounds']} "
        "rounds. The first round reads every model's files from the receiver; later rounds take them from "
        "the page's own copy (their median)."
    )
    columns = ["measure", f"compare, {k} models", "evaluate, 1 model", "ratio, or each model beyond 1"]
    lines = report_head("Class comparison benchmark", command, results["environment"], notes, columns)
    per_model = setup["per_model_median_ms"]
    lines += [
        f"| total for {n} images, first round (files fetched) | {m['compare_first_s']:.1f} s | "
        f"{m['evaluate_s']:.1f} s | {m['ratio_first_to_evaluate']:.2f}× |",
        f"| total for {n} images, later rounds (files kept) | {m['compare_cached_s']:.1f} s | "
        f"{m['evaluate_s']:.1f} s | {m['ratio_cached_to_evaluate']:.2f}× |",
        f"| per image (later rounds) | {m['compare_cached_per_image_ms']:.1f} ms | "
        f"{m['evaluate_per_image_ms']:.1f} ms | {m['each_further_model_per_image_ms']:.2f} ms |",
        f"| per image per model (later rounds) | {m['compare_cached_per_image_per_model_ms']:.2f} ms | "
        f"{m['evaluate_per_image_ms']:.1f} ms | |",
        f"| requests to the receiver, first round / later | {requests[0]} / "
        f"{' / '.join(map(str, requests[1:])) or '–'} | 0 | |",
        f"| accuracy: ensemble of {ensemble.get('members', 0)} ({ensemble.get('correct', 0)} of "
        f"{ensemble.get('count', 0)}) | {percent(ensemble.get('accuracy'))} | | |",
        f"| accuracy: best / median / worst member | {percent(a['best'])} / "
        f"{percent(a['spread']['median'])} / {percent(a['worst'])} | "
        f"{percent(reference['evaluate'])} ({reference['name']}; compared: {percent(reference['compare'])}) "
        "| |",
        "",
        f"{k} models cost {m['ratio_cached_to_evaluate']:.1f}× one model's test of the same {n} images "
        f"({m['ratio_first_to_evaluate']:.1f}× the first time): each image is embedded once, and every "
        f"model's head answers it. Handing the class in took {setup['total_s']:.0f} s from one page "
        f"(median per model: adding its photos {per_model['add'] / 1000:.1f} s, training "
        f"{per_model['train'] / 1000:.1f} s, handing in {per_model['hand_in'] / 1000:.2f} s).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=30)
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 4 models, 24 images, 2 rounds")
    args = parser.parse_args()
    if args.quick:
        args.models, args.images, args.rounds = QUICK["models"], QUICK["images"], QUICK["rounds"]
    command = (
        f"python bench/class_compare.py --models {args.models} --images {args.images} --rounds {args.rounds}"
    )
    with tempfile.TemporaryDirectory(prefix="bench-class-") as work:
        results = run(args.models, args.images, args.rounds, Path(work))
    save_results(args.out, "class_compare", results, markdown(results, command))


if __name__ == "__main__":
    main()
