"""The teaching page on a slow device: Chromium's CPU slowed 4×, beside the same page at full speed,
in the same run, as a stand-in for a school Chromebook or an old phone.

Builds a 3-class EfficientNet-Lite0 project (quantization auto), serves it on 127.0.0.1, opens it in
headless Chromium with a fake webcam (a 30 fps Y4M made from a photo), trains it on uploaded photos,
then measures, in alternating rounds at full speed and slowed 4×:

1. one embedding: ms per `teachkit.embed(canvas)` of a 640×480 frame (median of 20 after one warm-up);
2. live prediction: predictions per second on the fake camera (`teachkit.status().predictions` over
   a window), and each frame's latency (the API's `prediction` event);
3. adding 20 photos (1024×768 JPEG files) to a class through its file input: seconds from the
   input's change event to the class's count showing 20 more.

How the CPU is slowed. Chromium's DevTools protocol slows only a page's main thread:
`Emulation.setCPUThrottlingRate` sent to a worker's own target is refused ("Operation is only
supported for pages, not workers", asked and recorded in every run), yet the page embeds in its
workers. So the slow device here is the renderer process slowed as a whole, the way Chromium's own
throttler slows one thread: after each slice (10 ms, longer on a busy machine) the process is
stopped (SIGSTOP, SIGCONT) for (rate − 1) × the time its busiest thread ran or waited for a core in
the slice. A thread that computes takes four times as long, idle threads are not charged, and the
browser's other processes (the camera, the GPU process, IndexedDB) keep their speed, as a camera
and storage would on a slow device. Two biases, both towards slower: the page's main thread also
waits while a worker is charged, and the pauses come in steps of tens of milliseconds that a frame
may wait out; a pipeline of hand-offs (live prediction) therefore slows somewhat more than 4×. The
run checks that the slowdown reaches both threads: the same integer loop timed on the page and in
one of its workers, at full speed, with the protocol's page-only throttle and with the renderer
slowed, in turn.

The machine is shared: compare the ratios of one run, not the absolute numbers of two runs.
Reaches the page through `window.teachkit` and data-testid attributes (docs/automation.md), plus
Playwright's evaluation in a worker for the calibration loop.

Usage: python bench/slow_device.py [--rounds 3] [--out DIR]
TEACHKIT_CACHE (default ~/.cache/teachkit) keeps the converted model between runs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The page benchmark's inputs and steps.
from bench.pagebench.camera import live_rate  # noqa: E402
from bench.pagebench.harness import (  # noqa: E402
    CAMERA_ARGS,
    launch,
    log,
    median,
    open_tab,
    probe,
    rounded,
    train,
    upload,
)
from bench.pagebench.inputs import CAMERA_FPS, photo, photo_crops  # noqa: E402
from bench.pagebench.run import environment  # noqa: E402
from bench.sites import build_project_site, save_results, serve  # noqa: E402
from tests.support.images import write_y4m  # noqa: E402

RATE = 4
CLASSES = {"Coffee": "coffee", "Astronaut": "astronaut", "Cat": "chelsea"}  # class → photo
PROJECT = """title = "Slow device benchmark"
classes = [{classes}]

[model]
base = "efficientnet_lite0"
quantization = "auto"
"""
PHOTOS, PHOTO_SIZE = 20, (1024, 768)
TRAINING_PER_CLASS = 8
EMBEDS = 20
LIVE_S = 6.0
LOOP = 40_000_000  # iterations of the calibration loop: a few hundred ms, many throttle slices

# ms per `teachkit.embed` of a 640×480 frame (two colours and a gradient), median of `count`.
EMBED_JS = """async (count) => {
  const canvas = document.createElement("canvas");
  canvas.width = 640;
  canvas.height = 480;
  const context = canvas.getContext("2d");
  const gradient = context.createLinearGradient(0, 0, 640, 480);
  gradient.addColorStop(0, "#a83");
  gradient.addColorStop(1, "#38a");
  context.fillStyle = gradient;
  context.fillRect(0, 0, 640, 480);
  await window.teachkit.embed(canvas);
  const times = [];
  for (let i = 0; i < count; i += 1) {
    const started = performance.now();
    await window.teachkit.embed(canvas);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(count / 2)];
}"""
LOOP_JS = """(count) => {
  const started = performance.now();
  let x = 0;
  for (let i = 0; i < count; i += 1) x = (x + i * 7) % 1000003;
  return [performance.now() - started, x];
}"""


# ---- the slow CPU ---------------------------------------------------------------------------------


def renderer_pids() -> list[int]:
    """Chromium's renderer processes started by this benchmark (descendants of this process)."""
    ours = os.getpid()

    def parent(pid: int) -> int:
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{pid}/stat").read_text()
            return int(stat.rsplit(")", 1)[1].split()[1])
        return 0

    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if b"--type=renderer" not in (entry / "cmdline").read_bytes():
                continue
            ancestor = int(entry.name)
            while ancestor > 1 and ancestor != ours:
                ancestor = parent(ancestor)
            if ancestor == ours:
                found.append(int(entry.name))
    return found


def thread_busy_ns(pids: list[int]) -> dict[tuple[int, str], int]:
    """How long (ns) every thread of `pids` has run or waited to run so far (/proc schedstat: time
    on a CPU plus time in the run queue). The wait counts because this machine is shared: a thread
    that gets a quarter of a core computes as slowly, in wall time, as one that has it all."""
    times = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{pid}/task").iterdir():
                with contextlib.suppress(OSError, ValueError):
                    running, waiting = (task / "schedstat").read_text().split()[:2]
                    times[pid, task.name] = int(running) + int(waiting)
    return times


@contextlib.contextmanager
def renderer_slowed(rate: float, slice_s: float = 0.01) -> Iterator[dict]:
    """Slows Chromium's renderer processes `rate`× while the block runs (see the module's text);
    yields counters: how many pauses and their total seconds."""
    pids = renderer_pids()
    if not pids:
        raise SystemExit("no Chromium renderer process found to slow down")
    stop = threading.Event()
    counters = {"renderers": len(pids), "pauses": 0, "paused_s": 0.0}

    def run() -> None:
        before = thread_busy_ns(pids)
        while not stop.wait(slice_s):
            now = thread_busy_ns(pids)
            busiest = max((now[key] - before.get(key, now[key]) for key in now), default=0) / 1e9
            if busiest > 0:
                pause = (rate - 1) * busiest
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGSTOP)
                time.sleep(pause)
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGCONT)
                counters["pauses"] += 1
                counters["paused_s"] += pause
            before = now  # stopped threads neither run nor wait: each slice is charged once

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield counters
    finally:
        stop.set()
        thread.join()
        for pid in pids:  # never leave a renderer stopped
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


@contextlib.contextmanager
def page_throttled(cdp, rate: float) -> Iterator[None]:
    """The DevTools protocol's own throttle: the page's main thread only."""
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
    try:
        yield
    finally:
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})


def worker_throttle_answer(page, cdp) -> dict:
    """What Chromium answers when a worker's own target is asked to throttle its CPU (the page's
    session, non-flattened, since Playwright's sessions cannot address a flattened child). Waits
    with the page's timer: Playwright hands over events only while it is called."""
    attached, answers = [], []
    cdp.on("Target.attachedToTarget", lambda event: attached.append(event))
    cdp.on("Target.receivedMessageFromTarget", lambda event: answers.append(event))
    cdp.send("Target.setAutoAttach", {"autoAttach": True, "waitForDebuggerOnStart": False, "flatten": False})
    deadline = time.monotonic() + 30
    while not any(a["targetInfo"]["type"] == "worker" for a in attached) and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    workers = [a for a in attached if a["targetInfo"]["type"] == "worker"]
    for number, worker in enumerate(workers, start=1):
        message = {"id": number, "method": "Emulation.setCPUThrottlingRate", "params": {"rate": RATE}}
        cdp.send(
            "Target.sendMessageToTarget", {"sessionId": worker["sessionId"], "message": json.dumps(message)}
        )
    deadline = time.monotonic() + 30
    replies: dict[str, dict] = {}
    while len(replies) < len(workers) and time.monotonic() < deadline:
        page.wait_for_timeout(50)
        for answer in answers:
            message = json.loads(answer["message"])
            if "id" in message:
                replies[answer["sessionId"]] = message
    errors = {reply.get("error", {}).get("message", "accepted") for reply in replies.values()}
    cdp.send("Target.setAutoAttach", {"autoAttach": False, "waitForDebuggerOnStart": False, "flatten": False})
    return {"workers": len(workers), "answers": sorted(errors)}


# ---- the inputs -----------------------------------------------------------------------------------


def photo_files(directory: Path, source: str, count: int, seed: int) -> list[Path]:
    """`count` JPEG photos of PHOTO_SIZE: one photo enlarged, each a slightly different framing."""
    image = Image.fromarray(photo(source))
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    files = []
    for index in range(count):
        width, height = image.size
        left, top = rng.integers(0, width // 8), rng.integers(0, height // 8)
        framed = image.crop((left, top, left + width * 7 // 8, top + height * 7 // 8)).resize(PHOTO_SIZE)
        path = directory / f"{source}-{seed}-{index}.jpg"
        framed.save(path, quality=90)
        files.append(path)
    return files


# ---- the measures ---------------------------------------------------------------------------------


def calibration(page, cdp, repeats: int = 5) -> dict:
    """The same loop on the page and in one of its workers: at full speed, with the protocol's
    page-only throttle and with the renderer slowed, the three in turn; ms and each repeat's ratio
    to the full speed just before it (medians)."""
    worker = page.workers[0]
    page.evaluate(LOOP_JS, LOOP)  # compiled and warm before the first timing
    worker.evaluate(LOOP_JS, LOOP)
    conditions = {
        "full_speed": contextlib.nullcontext,
        "devtools_page_only": lambda: page_throttled(cdp, RATE),
        "renderer_slowed": lambda: renderer_slowed(RATE),
    }
    times: dict[str, dict[str, list[float]]] = {key: {"page": [], "worker": []} for key in conditions}
    for _ in range(repeats):
        for key, condition in conditions.items():
            with condition():
                times[key]["page"].append(page.evaluate(LOOP_JS, LOOP)[0])
                times[key]["worker"].append(worker.evaluate(LOOP_JS, LOOP)[0])
    full = times["full_speed"]
    return {
        "worker_url": worker.url,
        **{
            key: {
                **{f"{where}_ms": median(runs) for where, runs in value.items()},
                **{
                    f"{where}_ratio": median([t / f for t, f in zip(runs, full[where], strict=True)])
                    for where, runs in value.items()
                },
                "runs": value,
            }
            for key, value in times.items()
        },
    }


def measure(page, name: str, upload_files: list[Path]) -> dict:
    measured = {"embed_ms": page.evaluate(EMBED_JS, EMBEDS)}
    live = live_rate(page, LIVE_S)
    measured["live_fps"] = live["fps"]
    measured["live_latency_ms"] = live["latency_ms"]
    measured["add_20_s"] = upload(page, name, upload_files, timeout_s=600).seconds
    return measured


def one_round(page, cdp, name: str, upload_files: list[Path]) -> dict:
    """Full speed, the slowed renderer (the slow device) and the protocol's page-only throttle."""
    result = {"full_speed": measure(page, name, upload_files)}
    started = time.monotonic()
    with renderer_slowed(RATE) as counters:
        result["slowed"] = measure(page, name, upload_files)
    result["slowed"]["paused_share"] = counters["paused_s"] / (time.monotonic() - started)
    with page_throttled(cdp, RATE):
        result["devtools_page_only"] = measure(page, name, upload_files)
    return result


def run(rounds: int, work: Path) -> dict:
    from playwright.sync_api import sync_playwright

    log("building the site")
    site, summary = build_project_site(
        work, PROJECT.format(classes=", ".join(json.dumps(name) for name in CLASSES))
    )
    log(summary)
    results: dict = {"environment": environment(summary), "rate": RATE, "rounds": []}
    y4m = write_y4m(work / "camera.y4m", photo("coffee"), frames=CAMERA_FPS, fps=CAMERA_FPS)
    training = {
        name: photo_crops(work / "train", source, TRAINING_PER_CLASS, 256, seed=index)
        for index, (name, source) in enumerate(CLASSES.items())
    }
    uploads = photo_files(work / "photos", "astronaut", PHOTOS, seed=99)
    with sync_playwright() as playwright, serve(site) as url:
        browser = launch(playwright, [*CAMERA_ARGS, f"--use-file-for-fake-video-capture={y4m}"])
        try:
            tab = open_tab(browser, url, permissions=["camera"])
            page = tab.page
            cdp = tab.context.new_cdp_session(page)
            results["backend"] = page.locator('[data-testid="backend"]').text_content()
            for name, files in training.items():
                upload(page, name, files, timeout_s=120)
            train(page, timeout_s=600)
            page.click('[data-testid="camera-toggle"]')
            results["camera_fps"] = rounded(page.evaluate(probe("camera_fps"), 3), 1)
            log("what Chromium says to throttling a worker; the calibration loop")
            results["worker_target_throttle"] = worker_throttle_answer(page, cdp)
            results["calibration"] = calibration(page, cdp)
            for number in range(rounds):
                log(f"round {number + 1} of {rounds}: full speed, then slowed {RATE}×")
                name = list(CLASSES)[number % len(CLASSES)]
                results["rounds"].append(one_round(page, cdp, name, uploads))
            results["foreign_requests"] = tab.foreign_requests()
            results["console_errors"] = list(tab.errors)
            tab.close()
        finally:
            browser.close()
    results["environment"]["load_after"] = round(os.getloadavg()[0], 2)
    return results


# ---- the report -----------------------------------------------------------------------------------


def medians(results: dict, condition: str, key: str) -> float | None:
    return median([r[condition][key] for r in results["rounds"]])


def paired_ratio(results: dict, condition: str, key: str, fewer: bool) -> str:
    """The median over rounds of each round's `condition` ÷ full speed (full speed ÷ `condition`
    where less is worse): the load of a shared machine changes between rounds, less within one."""
    ratios = [
        (r["full_speed"][key] / r[condition][key]) if fewer else (r[condition][key] / r["full_speed"][key])
        for r in results["rounds"]
    ]
    return f"{median(ratios):.1f}×" + (" fewer" if fewer else "")


def markdown(results: dict) -> str:
    env, cal = results["environment"], results["calibration"]
    answer = results["worker_target_throttle"]

    def row(label: str, key: str, unit: str, digits: int, fewer: bool = False) -> str:
        full, slowed, page_only = (
            f"{medians(results, condition, key):.{digits}f} {unit}"
            for condition in ("full_speed", "slowed", "devtools_page_only")
        )
        change = paired_ratio(results, "slowed", key, fewer)
        change_page_only = paired_ratio(results, "devtools_page_only", key, fewer)
        return f"| {label} | {full} | {slowed} | {change} | {page_only} ({change_page_only}) |"

    photos = f"add {PHOTOS} photos ({PHOTO_SIZE[0]}×{PHOTO_SIZE[1]} JPEG) to a class: change → count"
    rows = [
        row("one embedding, `teachkit.embed` (640×480 frame)", "embed_ms", "ms", 0),
        row(
            f"live prediction on the fake camera ({results['camera_fps']:.0f} fps)",
            "live_fps",
            "fps",
            1,
            True,
        ),
        row("   latency per frame (frame taken → answer)", "live_latency_ms", "ms", 0),
        row(photos, "add_20_s", "s", 1),
    ]
    calibration_rows = [
        f"| {label} | {cal[key]['page_ms']:.0f} ms ({cal[key]['page_ratio']:.1f}×) | "
        f"{cal[key]['worker_ms']:.0f} ms ({cal[key]['worker_ratio']:.1f}×) |"
        for label, key in (
            ("full speed", "full_speed"),
            (f"DevTools `Emulation.setCPUThrottlingRate` {RATE} on the page", "devtools_page_only"),
            (f"renderer slowed {RATE}× (this benchmark)", "renderer_slowed"),
        )
    ]
    lines = [
        "# Slow device benchmark",
        "",
        f"`python bench/slow_device.py --rounds {len(results['rounds'])}`, {env['date']}: {env['chromium']} "
        f"headless, {results['backend']}; {env['cpus']} cores, load average {env['load_before']} before "
        f"and {env['load_after']} after (a shared machine). Medians of {len(results['rounds'])} round(s), "
        f"each at full speed, then slowed {RATE}×, then with only the DevTools page throttle, in one "
        "browser and one page; ratio: the median of each round's slowed ÷ full speed.",
        "",
        f"| measure | full speed | CPU slowed {RATE}× | ratio | DevTools throttle {RATE}× on the page only |",
        "| --- | --- | --- | --- | --- |",
        *rows,
        "",
        f"Is the slowdown where the work is? The same integer loop ({LOOP:,} iterations) on the page and "
        f"in one of its workers (`{cal['worker_url'].rsplit('/', 1)[-1]}`), medians of 5; in brackets "
        "the median of each repeat's ratio to the full speed just before it:",
        "",
        "| CPU | on the page | in a worker of the page |",
        "| --- | --- | --- |",
        *calibration_rows,
        "",
        f"`Emulation.setCPUThrottlingRate` sent to each of the page's {answer['workers']} workers' own "
        f"targets: {'; '.join(answer['answers']) or 'no answer'}. So this benchmark slows the renderer "
        "process as a whole (module docstring); the renderer was paused for "
        f"{median([r['slowed']['paused_share'] for r in results['rounds']]):.0%} of the slowed rounds.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="full-speed and slowed rounds")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "bench" / "results", help="where slow_device.json and .md go"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="teachkit-slow-device-") as work:
        results = run(args.rounds, Path(work))
    save_results(args.out, "slow_device", results, markdown(results))


if __name__ == "__main__":
    main()
