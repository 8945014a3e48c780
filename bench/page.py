"""The teaching page in headless Chromium, measured against references taken in the same run.

Builds a 5-class EfficientNet-Lite0 project (quantization auto), serves it on 127.0.0.1, drives it
with Playwright and writes bench/results/page.json and page.md. Every number is a median; every
page number sits beside a reference measured by this same run on this same (shared) machine:

1. embedding: ms per image for `window.teachkit.extractor.embed(canvas)` (a 640x480 photo, after
   warm-up), split into draw, model (predict + dataSync on a ready tensor) and a whole sample
   (embed + the two JPEG encodes `makeSample` does). References: the same Keras model called as
   model(x) on one image (eager, and wrapped in tf.function; TensorFlow's default threads) and the
   model converted to TFLite run by tf.lite.Interpreter(num_threads=1) with its default XNNPACK
   delegate (and without it). Ratio page/TFLite. Also the page when cross-origin isolated
   (threaded WASM), as an extra row.
2. upload: s to add 100 PNG files (256x256 photo crops) to one class, from the input's change
   event to the sample count showing 100 (in-page clock), and ms per image.
3. training: s from the click on Train to data-state="done" for 5 classes x 60 samples, 50 epochs
   (page defaults: Dense(100, relu) -> softmax, Adam 0.001, batch 16, 15 % held back); also the
   page's own DenseHead.train on the same split without the UI (charts, state). Reference: Keras
   fit of the same head on the page's own embeddings and split (fit only). Ratio page/Keras.
4. live: predictions per second on Chromium's fake webcam (a 30 fps Y4M of a photo), counted from
   window.teachkit.state.predictionCount over a window, after recording samples by holding the
   record button. Reference: the fake camera's frame rate (requestVideoFrameCallback count).
5. longest main-thread task (PerformanceObserver 'longtask', >= 50 ms) while recording from the
   camera, while uploading, while training and while predicting live. Target: none over 100 ms.
6. first prediction: ms from navigation start to [data-testid=status] data-state="ready" on fresh
   page loads (new browser context: empty cache and IndexedDB), and on return visits that restore
   300 samples and a trained head (a prediction is possible at ready). Reference: fetching
   model.json and its weight shards with nothing else, from a fresh context, in the same browser.
7. memory: performance.memory.usedJSHeapSize (after a forced GC) before and after adding 1,500
   images (128x128 crops, 300 per class), plus TF.js tensors, WASM heap and IndexedDB usage;
   then train and predict an image to show the page still responds, and time a reload.

Usage: python bench/page.py [--quick] [--out DIR]
TEACHKIT_CACHE (default ~/.cache/teachkit) keeps the converted model between runs.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from builder.serve import make_server  # noqa: E402
from tests.images import write_y4m  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--enable-precise-memory-info",
]
# Class name → the scikit-image photo its samples are cropped from.
SOURCES = {"Brick": "brick", "Grass": "grass", "Gravel": "gravel", "Coffee": "coffee", "Astronaut": "astronaut"}
PROJECT = """title = "Page benchmark"
classes = [{classes}]

[model]
base = "efficientnet_lite0"
quantization = "auto"
"""
EPOCHS, BATCH_SIZE, LEARNING_RATE, HIDDEN_UNITS = 50, 16, 0.001, 100  # the page's defaults
CAMERA_FPS = 30
SECOND = 1000  # ms, for Playwright timeouts

# Installed before any page script: long tasks, data-state changes of [data-testid] elements,
# sample-count text changes, and the time of clicks, file choices and pointer presses.
INIT_SCRIPT = """(() => {
  const bench = (window.__bench = { longtasks: [], events: [], longtaskError: null, trainedAtReady: null });
  const now = () => performance.now();
  try {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) bench.longtasks.push([entry.startTime, entry.duration]);
    }).observe({ type: "longtask", buffered: true });
  } catch (error) {
    bench.longtaskError = String(error);
  }
  new MutationObserver((records) => {
    const t = now();
    for (const record of records) {
      const target = record.target;
      const testid = target.dataset?.testid;
      if (record.type === "attributes" && testid) {
        const value = target.getAttribute("data-state");
        bench.events.push([t, testid, value]);
        if (testid === "status" && value === "ready" && bench.trainedAtReady === null) {
          bench.trainedAtReady = Boolean(window.teachkit?.trained);
        }
      } else if (record.type === "childList" && testid === "sample-count") {
        const name = target.closest('[data-testid="class"]')?.dataset.className ?? "";
        bench.events.push([t, `sample-count:${name}`, target.textContent]);
      }
    }
  }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-state"] });
  for (const type of ["click", "change", "pointerdown"]) {
    document.addEventListener(type, (event) => bench.events.push([now(), type, event.target?.dataset?.testid ?? ""]), true);
  }
})();"""


# ---- small helpers ----------------------------------------------------------------------------


def median(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


@contextlib.contextmanager
def captured_output() -> Iterator[dict[str, str]]:
    """Captures what C++ code writes to file descriptors 1 and 2 (TF's converter is chatty; the
    TFLite interpreter says there whether it created the XNNPACK delegate)."""
    result: dict[str, str] = {}
    with tempfile.TemporaryFile() as sink:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = [os.dup(1), os.dup(2)]
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield result
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for descriptor in saved:
                os.close(descriptor)
            sink.seek(0)
            result["text"] = sink.read().decode(errors="replace")


def timed_runs(run: Callable[[], object], runs: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        run()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return times


# ---- inputs: the site, images, the camera video -------------------------------------------------


def build_site(work: Path) -> tuple[Path, str]:
    """Builds the 5-class project with `teachkit build`; returns the site and the summary line."""
    project = work / "project" / "project.toml"
    project.parent.mkdir(parents=True)
    project.write_text(PROJECT.format(classes=", ".join(json.dumps(name) for name in SOURCES)))
    env = dict(os.environ)
    env.setdefault("TEACHKIT_CACHE", str(Path.home() / ".cache" / "teachkit"))
    output = work / "site"
    teachkit = Path(sys.executable).with_name("teachkit")
    command = [str(teachkit)] if teachkit.exists() else [sys.executable, "-m", "builder.cli"]
    done = subprocess.run(
        [*command, "build", str(project), "-o", str(output)],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if done.returncode != 0:
        raise SystemExit(f"teachkit build failed:\n{done.stdout}\n{done.stderr}")
    return output, done.stdout.strip().splitlines()[-1]


def photo(name: str) -> np.ndarray:
    import skimage.data

    image = getattr(skimage.data, name)()
    return np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image[..., :3]


def photo_crops(directory: Path, source: str, count: int, size: int, seed: int) -> list[Path]:
    """Random square crops (random flips, a little brightness jitter) of one photo, as PNG files."""
    image = photo(source)
    rng = np.random.default_rng(seed)
    height, width = image.shape[:2]
    side = min(size, height, width)
    directory.mkdir(parents=True, exist_ok=True)
    files = []
    for index in range(count):
        y, x = int(rng.integers(0, height - side + 1)), int(rng.integers(0, width - side + 1))
        crop = image[y : y + side, x : x + side].astype(np.float32) * rng.uniform(0.85, 1.15)
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        path = directory / f"{source}-{size}-{seed}-{index}.png"
        Image.fromarray(np.clip(crop, 0, 255).astype(np.uint8)).resize((size, size)).save(path)
        files.append(path)
    return files


def camera_frame() -> tuple[str, int, int]:
    """A 640x480 photo (chelsea) as base64 RGBA, the size of a webcam frame."""
    width, height = 640, 480
    rgba = Image.fromarray(photo("chelsea")).resize((width, height), Image.BILINEAR).convert("RGBA")
    return base64.b64encode(rgba.tobytes()).decode(), width, height


def reference_pixels() -> np.ndarray:
    """The same photo's centre square at 224x224, as the model's float32 input batch."""
    image = Image.fromarray(photo("chelsea")).resize((640, 480), Image.BILINEAR)
    square = image.crop((80, 0, 560, 480)).resize((224, 224), Image.BILINEAR)
    return np.asarray(square, dtype=np.float32)[None]


# ---- serving and the browser --------------------------------------------------------------------


@contextlib.contextmanager
def serve(site: Path, isolated: bool = False) -> Iterator[str]:
    server = make_server(site, "127.0.0.1", 0, isolated, quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def launch(playwright: object, extra_args: list[str] = ()) -> object:
    return playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, *extra_args]
    )


@dataclass
class Tab:
    """A page in its own browser context, with every request, console error and crash noted."""

    context: object
    page: object
    origin: str
    requests: list[str]
    errors: list[str]
    crashed: list[bool]

    def foreign_requests(self) -> list[str]:
        return [u for u in self.requests if not u.startswith((self.origin, "data:", "blob:"))]

    def close(self) -> None:
        self.context.close()


def open_tab(browser: object, url: str, ready_timeout_s: float = 120, **context_options: object) -> Tab:
    context = browser.new_context(**context_options)
    context.add_init_script(INIT_SCRIPT)
    page = context.new_page()
    page.set_default_timeout(120 * SECOND)
    tab = Tab(context, page, url, [], [], [])
    page.on("request", lambda request: tab.requests.append(request.url))
    page.on("console", lambda msg: msg.type == "error" and tab.errors.append(msg.text))
    page.on("pageerror", lambda error: tab.errors.append(str(error)))
    page.on("crash", lambda _: tab.crashed.append(True))
    page.goto(url)
    try:
        wait_ready(page, ready_timeout_s)
    except AssertionError:
        context.close()
        raise
    return tab


def wait_ready(page: object, timeout_s: float = 120) -> None:
    from playwright.sync_api import expect

    expect(page.locator('[data-testid="status"]')).to_have_attribute(
        "data-state", "ready", timeout=timeout_s * SECOND
    )


def card(page: object, name: str) -> object:
    return page.locator(f'[data-testid="class"][data-class-name={json.dumps(name)}]')


def page_now(page: object) -> float:
    return page.evaluate("performance.now()")


def bench_log(page: object) -> dict:
    return page.evaluate("window.__bench")


def first_event(page: object, key: str, value: str, after: float) -> float | None:
    """In-page time of the first recorded event `key` with `value` at or after `after`."""
    for t, event_key, event_value in bench_log(page)["events"]:
        if t >= after and event_key == key and event_value == value:
            return t
    return None


def last_event(page: object, key: str, before: float = math.inf) -> float | None:
    times = [t for t, event_key, _ in bench_log(page)["events"] if event_key == key and t <= before]
    return max(times) if times else None


def longest_task(page: object, start: float, end: float) -> float:
    """The longest main-thread task (ms) that started in [start, end]; 0 if none reached 50 ms."""
    tasks = [d for t, d in bench_log(page)["longtasks"] if start <= t <= end]
    return max(tasks, default=0.0)


def poll(page: object, script: str, timeout_s: float, arg: object = None) -> object:
    """Evaluates `script` until it returns something truthy (string wait_for_function breaks on
    the page's CSP)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = page.evaluate(script, arg)
        if value:
            return value
        time.sleep(0.05)
    raise TimeoutError(f"timed out after {timeout_s} s waiting for {script}")


def upload(page: object, name: str, files: list[Path], expected: int, timeout_s: float) -> tuple[float, float]:
    """Chooses `files` for the class and waits for its count to read `expected`; returns the
    in-page (change event, count shown) times in ms."""
    from playwright.sync_api import expect

    before = page_now(page)
    card(page, name).locator('[data-testid="sample-upload"]').set_input_files([str(f) for f in files])
    expect(card(page, name).locator('[data-testid="sample-count"]')).to_have_text(
        str(expected), timeout=timeout_s * SECOND
    )
    changed = first_event(page, "change", "sample-upload", before)
    shown = first_event(page, f"sample-count:{name}", str(expected), before)
    return changed, shown


def train(page: object, timeout_s: float) -> tuple[float, float]:
    """Clicks Train and waits for data-state="done"; returns the in-page (click, done) times."""
    from playwright.sync_api import expect

    before = page_now(page)
    page.click('[data-testid="train"]')
    expect(page.locator('[data-testid="train-status"]')).to_have_attribute(
        "data-state", "done", timeout=timeout_s * SECOND
    )
    clicked = first_event(page, "click", "train", before)
    return clicked, first_event(page, "train-status", "done", clicked)


def collect_garbage(page: object) -> None:
    session = page.context.new_cdp_session(page)
    try:
        session.send("HeapProfiler.collectGarbage")
    finally:
        session.detach()


MEMORY_JS = """async () => {
  const engine = window._tfengine;
  const tensors = engine?.memory();
  const heap = engine?.backend?.wasm?.HEAPU8?.buffer?.byteLength ?? null;
  const storage = await navigator.storage.estimate();
  return {
    usedJSHeapSize: performance.memory.usedJSHeapSize,
    totalJSHeapSize: performance.memory.totalJSHeapSize,
    tfTensors: tensors?.numTensors ?? null,
    tfBytes: tensors?.numBytes ?? null,
    wasmHeapBytes: heap,
    indexedDbBytes: storage.usage ?? null,
    samples: window.teachkit.state.dataset.samples.length,
  };
}"""


def memory_snapshot(page: object) -> dict:
    collect_garbage(page)
    return page.evaluate(MEMORY_JS)


# ---- 1. embedding ----------------------------------------------------------------------------

EMBED_JS = """async ({ rgba, width, height, runs, warmup }) => {
  const bytes = Uint8ClampedArray.from(atob(rgba), (c) => c.charCodeAt(0));
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  canvas.getContext("2d").putImageData(new ImageData(bytes, width, height), 0, 0);
  const app = window.teachkit;
  const extractor = app.extractor;
  const size = extractor.inputSize;
  const input = window._tfengine.makeTensor(new Float32Array(size * size * 3).fill(128), [1, size, size, 3], "float32");
  const classId = app.state.dataset.classes[0].id;
  const png = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
  const steps = {
    decode: async () => (await createImageBitmap(png)).close(),
    draw: () => extractor.draw(canvas),
    model: () => {
      const output = extractor.model.predict(input);
      output.dataSync();
      output.dispose();
    },
    embed: () => extractor.embed(canvas),
    sample: () => app.makeSample(classId, canvas),
  };
  const times = Object.fromEntries(Object.keys(steps).map((name) => [name, []]));
  const tensorsBefore = window._tfengine.memory().numTensors;
  for (let i = 0; i < warmup + runs; i += 1) {
    for (const [name, step] of Object.entries(steps)) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      const started = performance.now();
      await step();
      if (i >= warmup) times[name].push(performance.now() - started);
    }
  }
  const leaked = window._tfengine.memory().numTensors - tensorsBefore;
  input.dispose();
  return { times, leakedTensors: leaked, backend: document.querySelector('[data-testid="backend"]').textContent };
}"""


def page_embedding(browser: object, url: str, runs: int, **context_options: object) -> dict:
    rgba, width, height = camera_frame()
    tab = open_tab(browser, url, **context_options)
    try:
        result = tab.page.evaluate(
            EMBED_JS, {"rgba": rgba, "width": width, "height": height, "runs": runs, "warmup": 5}
        )
    finally:
        tab.close()
    medians = {name: rounded(median(times), 2) for name, times in result["times"].items()}
    return {"median_ms": medians, "runs": runs, "backend": result["backend"], "leaked_tensors": result["leakedTensors"]}


def isolated_embedding(browser: object, site: Path, runs: int) -> dict:
    """The page served cross-origin isolated (`teachkit serve --isolated`), which makes TF.js pick
    its threaded WASM binary. Its pthread workers load blob: scripts that the page's CSP may
    refuse; if the page never gets ready, the embedding is measured with the CSP bypassed (what a
    fixed page would do) and the failure is recorded."""
    with serve(site, isolated=True) as url:
        failure = None
        try:
            open_tab(browser, url, ready_timeout_s=30).close()
        except AssertionError:
            failure = "status stays 'loading' for 30 s (no message on the page)"
        result = page_embedding(browser, url, runs, bypass_csp=failure is not None)
    result["ready_with_csp"] = failure is None
    result["failure_with_csp"] = failure
    return result


def keras_embedding(runs: int) -> dict:
    import tensorflow as tf

    from builder.models.efficientnet_lite0 import build_efficientnet_lite0

    model = build_efficientnet_lite0().keras_model
    x = reference_pixels()
    eager = timed_runs(lambda: model(x, training=False).numpy(), runs, warmup=3)
    compiled = tf.function(lambda batch: model(batch, training=False))
    graph = timed_runs(lambda: compiled(x).numpy(), runs, warmup=3)
    return {
        "eager_ms": rounded(median(eager), 2),
        "tf_function_ms": rounded(median(graph), 2),
        "threads": f"TensorFlow default (intra-op {tf.config.threading.get_intra_op_parallelism_threads()} "
        f"= all {os.cpu_count()} cores)",
        "model": model,
    }


def tflite_embedding(model: object, runs: int) -> dict:
    import tensorflow as tf

    with captured_output():
        flatbuffer = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    x = reference_pixels()
    result = {"size_mb": round(len(flatbuffer) / 1e6, 2)}
    without = tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    for label, options in (("xnnpack", {}), ("no_delegate", {"experimental_op_resolver_type": without})):
        with captured_output() as output:
            interpreter = tf.lite.Interpreter(model_content=flatbuffer, num_threads=1, **options)
            interpreter.allocate_tensors()
        source = interpreter.get_input_details()[0]["index"]
        target = interpreter.get_output_details()[0]["index"]

        def run(interpreter: object = interpreter, source: int = source, target: int = target) -> None:
            interpreter.set_tensor(source, x)
            interpreter.invoke()
            interpreter.get_tensor(target)

        result[f"{label}_ms"] = rounded(median(timed_runs(run, runs, warmup=3)), 2)
        result[f"{label}_log_mentions_xnnpack"] = "XNNPACK" in output["text"]
    return result


# ---- 2. upload -------------------------------------------------------------------------------


def page_upload(browser: object, url: str, files: list[Path], repeats: int) -> dict:
    name = next(iter(SOURCES))
    totals, longest = [], []
    for _ in range(repeats):
        tab = open_tab(browser, url)
        try:
            changed, shown = upload(tab.page, name, files, len(files), timeout_s=600)
            totals.append((shown - changed) / 1000)
            longest.append(longest_task(tab.page, changed, shown))
        finally:
            tab.close()
    total = median(totals)
    return {
        "images": len(files),
        "total_s": rounded(total, 2),
        "per_image_ms": rounded(total * 1000 / len(files), 1),
        "runs_s": [rounded(t, 2) for t in totals],
        "longest_task_ms": rounded(max(longest), 1),
    }


# ---- 3. training, and 6b return visits --------------------------------------------------------

PURE_TRAIN_JS = """async () => {
  const app = window.teachkit;
  const { dataset, settings } = app.state;
  const { training, validation } = dataset.split(settings.training.validation_fraction, settings.training.seed);
  const Head = app.head.constructor;
  const config = { ...settings.head, seed: settings.training.seed };
  const head = new Head(config, app.project.model.embedding_size, dataset.classes.map((item) => item.id));
  const started = performance.now();
  await head.train(training, validation, settings.training, { onEpoch: () => {}, shouldStop: () => false });
  const elapsed = performance.now() - started;
  head.dispose();
  return elapsed;
}"""

SPLIT_JS = """() => {
  const { dataset, settings } = window.teachkit.state;
  const ids = dataset.classes.map((item) => item.id);
  const { training, validation } = dataset.split(settings.training.validation_fraction, settings.training.seed);
  const rows = (samples) => ({ x: samples.map((s) => Array.from(s.embedding)), y: samples.map((s) => ids.indexOf(s.classId)) });
  const evaluation = window.teachkit.state.training.evaluation;
  return { training: rows(training), validation: rows(validation), accuracy: evaluation?.accuracy ?? null };
}"""


def page_training(browser: object, url: str, files: dict[str, list[Path]], repeats: int, reloads: int) -> dict:
    tab = open_tab(browser, url)
    page = tab.page
    try:
        for name, class_files in files.items():
            upload(page, name, class_files, len(class_files), timeout_s=600)
        clicks, longest = [], []
        for _ in range(repeats):
            clicked, done = train(page, timeout_s=900)
            clicks.append((done - clicked) / 1000)
            longest.append(longest_task(page, clicked, done))
        pure = [page.evaluate(PURE_TRAIN_JS) / 1000 for _ in range(repeats)]
        split = page.evaluate(SPLIT_JS)
        returns = [reload_time(page) for _ in range(reloads)]
        foreign = tab.foreign_requests()
        errors = list(tab.errors)
    finally:
        tab.close()
    samples = len(split["training"]["y"]) + len(split["validation"]["y"])
    steps = math.ceil(len(split["training"]["y"]) / BATCH_SIZE) * EPOCHS
    return {
        "samples": samples,
        "training_samples": len(split["training"]["y"]),
        "total_s": rounded(median(clicks), 2),
        "runs_s": [rounded(t, 2) for t in clicks],
        "without_ui_s": rounded(median(pure), 2),
        "ms_per_step_without_ui": rounded(median(pure) * 1000 / steps, 2),
        "steps": steps,
        "validation_accuracy": split["accuracy"],
        "longest_task_ms": rounded(max(longest), 1),
        "return_visit": {
            "ready_ms": rounded(median([r["ready_ms"] for r in returns]), 0),
            "runs_ms": [rounded(r["ready_ms"], 0) for r in returns],
            "trained_at_ready": all(r["trained_at_ready"] for r in returns),
        },
        "foreign_requests": foreign,
        "console_errors": errors,
        "split": split,
    }


def reload_time(page: object) -> dict:
    page.reload()
    wait_ready(page)
    log_ = bench_log(page)
    return {"ready_ms": first_event(page, "status", "ready", 0), "trained_at_ready": log_["trainedAtReady"]}


def keras_training(split: dict, repeats: int) -> dict:
    import keras

    x = np.asarray(split["training"]["x"], dtype=np.float32)
    y = np.asarray(split["training"]["y"])
    validation = (np.asarray(split["validation"]["x"], dtype=np.float32), np.asarray(split["validation"]["y"]))
    classes = int(max(y.max(), validation[1].max())) + 1
    times, accuracies = [], []
    for run in range(repeats):
        keras.utils.set_random_seed(42 + run)
        model = keras.Sequential(
            [
                keras.Input((x.shape[1],)),
                keras.layers.Dense(HIDDEN_UNITS, activation="relu"),
                keras.layers.Dense(classes, activation="softmax"),
            ]
        )
        model.compile(
            optimizer=keras.optimizers.Adam(LEARNING_RATE),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        started = time.perf_counter()
        history = model.fit(
            x, y, batch_size=BATCH_SIZE, epochs=EPOCHS, validation_data=validation, verbose=0, shuffle=True
        )
        times.append(time.perf_counter() - started)
        accuracies.append(history.history["val_accuracy"][-1])
    return {
        "fit_s": rounded(median(times), 2),
        "runs_s": [rounded(t, 2) for t in times],
        "validation_accuracy": rounded(median(accuracies), 4),
    }


# ---- 6. first prediction ----------------------------------------------------------------------

RESOURCES_JS = """() => {
  const ends = { app: 0, wasm: 0, model: 0 };
  for (const entry of performance.getEntriesByType("resource")) {
    const path = new URL(entry.name).pathname;
    const kind = path.endsWith("app.js") ? "app" : path.includes("/wasm/") ? "wasm" : path.includes("/model/") ? "model" : null;
    if (kind) ends[kind] = Math.max(ends[kind], entry.responseEnd);
  }
  return ends;
}"""

FETCH_MODEL_JS = """async () => {
  const started = performance.now();
  const manifest = await (await fetch("model/model.json")).json();
  const paths = manifest.weightsManifest.flatMap((group) => group.paths);
  await Promise.all(paths.map(async (path) => (await fetch(`model/${path}`)).arrayBuffer()));
  return performance.now() - started;
}"""


def page_startup(browser: object, url: str, loads: int) -> dict:
    ready, breakdown, fetches = [], [], []
    for _ in range(loads):
        tab = open_tab(browser, url)
        try:
            ready.append(first_event(tab.page, "status", "ready", 0))
            breakdown.append(tab.page.evaluate(RESOURCES_JS))
        finally:
            tab.close()
        context = browser.new_context()
        try:
            page = context.new_page()
            page.goto(url + "manifest.json")
            fetches.append(page.evaluate(FETCH_MODEL_JS))
        finally:
            context.close()
    return {
        "ready_ms": rounded(median(ready), 0),
        "runs_ms": [rounded(t, 0) for t in ready],
        "app_js_loaded_ms": rounded(median([b["app"] for b in breakdown]), 0),
        "model_files_loaded_ms": rounded(median([b["model"] for b in breakdown]), 0),
        "wasm_loaded_ms": rounded(median([b["wasm"] for b in breakdown]), 0),
        "fetch_model_only_ms": rounded(median(fetches), 0),
        "fetch_runs_ms": [rounded(t, 0) for t in fetches],
    }


# ---- 4 and 5. the camera: recording and live prediction ----------------------------------------

CAMERA_FPS_JS = """async (seconds) => {
  const video = document.querySelector('[data-testid="video"]');
  for (let i = 0; i < 200 && video.readyState < 2; i += 1) await new Promise((r) => setTimeout(r, 50));
  if (!video.requestVideoFrameCallback) return null;
  const first = await new Promise((r) => video.requestVideoFrameCallback((now, meta) => r(meta)));
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const last = await new Promise((r) => video.requestVideoFrameCallback((now, meta) => r(meta)));
  return (last.presentedFrames - first.presentedFrames) / ((last.expectedDisplayTime - first.expectedDisplayTime) / 1000);
}"""


def hold_record(page: object, name: str, seconds: float) -> tuple[float, float, int]:
    """Holds the class's record button for `seconds`; returns in-page (press, saved) times and
    how many frames the class gained."""
    button = card(page, name).locator('[data-testid="record"]')
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    before = int(card(page, name).locator('[data-testid="sample-count"]').text_content())
    sequence = page.evaluate("window.teachkit.state.notice.sequence")
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    time.sleep(seconds)
    page.mouse.up()
    poll(
        page,
        """(sequence) => { const n = window.teachkit.state.notice;
           return n.sequence > sequence && n.text.startsWith("Recorded") && !window.teachkit.state.recordingClassId; }""",
        60,
        sequence,
    )
    saved = page_now(page)
    pressed = [t for t, key, value in bench_log(page)["events"] if key == "pointerdown" and value == "record"][-1]
    after = int(card(page, name).locator('[data-testid="sample-count"]').text_content())
    return pressed, saved, after - before


def page_camera(playwright: object, url: str, y4m: Path, hold_s: float, live_s: float, reference_s: float) -> dict:
    browser = launch(
        playwright,
        [
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={y4m}",
        ],
    )
    try:
        tab = open_tab(browser, url, permissions=["camera"])
        page = tab.page
        page.click('[data-testid="camera-toggle"]')
        camera_fps = page.evaluate(CAMERA_FPS_JS, reference_s)
        recordings = [hold_record(page, name, hold_s) for name in SOURCES]
        capture_longest = max(longest_task(page, start, end) for start, end, _ in recordings)
        recorded_fps = median([frames / ((end - start) / 1000) for start, end, frames in recordings])
        clicked, done = train(page, timeout_s=600)
        page.click('[data-testid="live-toggle"]')
        time.sleep(2)  # the first predictions, and the first fps reading
        first = page.evaluate("({ n: window.teachkit.state.predictionCount, t: performance.now() })")
        time.sleep(live_s)
        last = page.evaluate("({ n: window.teachkit.state.predictionCount, t: performance.now() })")
        shown = page.locator('[data-testid="live-fps"]').text_content()
        live_longest = longest_task(page, first["t"], last["t"])
        page.click('[data-testid="live-toggle"]')
        result = {
            "camera_fps": rounded(camera_fps, 1),
            "live_fps": rounded((last["n"] - first["n"]) / ((last["t"] - first["t"]) / 1000), 1),
            "live_fps_shown": shown,
            "live_window_s": live_s,
            "recorded_samples": sum(frames for _, _, frames in recordings),
            "recorded_fps": rounded(recorded_fps, 1),
            "capture_longest_task_ms": rounded(capture_longest, 1),
            "live_longest_task_ms": rounded(live_longest, 1),
            "training_s_recorded_samples": rounded((done - clicked) / 1000, 2),
            "longtask_error": bench_log(page)["longtaskError"],
            "foreign_requests": tab.foreign_requests(),
            "console_errors": list(tab.errors),
        }
        tab.close()
        return result
    finally:
        browser.close()


# ---- 7. memory with 1,500 images ----------------------------------------------------------------


def page_memory(browser: object, url: str, files: dict[str, list[Path]], predict_file: Path) -> dict:
    from playwright.sync_api import expect

    tab = open_tab(browser, url)
    page = tab.page
    try:
        before = memory_snapshot(page)
        started = page_now(page)
        for name, class_files in files.items():
            upload(page, name, class_files, len(class_files), timeout_s=900)
        added_ms = page_now(page) - started
        after = memory_snapshot(page)
        upload_longest = longest_task(page, started, started + added_ms)
        clicked, done = train(page, timeout_s=1800)
        output = page.locator('[data-testid="prediction"]')
        count = int(output.get_attribute("data-count"))
        asked = time.perf_counter()
        page.set_input_files('[data-testid="predict-upload"]', str(predict_file))
        expect(output).to_have_attribute("data-count", str(count + 1), timeout=60 * SECOND)
        predicted_ms = (time.perf_counter() - asked) * 1000
        trained = memory_snapshot(page)
        reload = reload_time(page)
        restored = page.evaluate("window.teachkit.state.dataset.samples.length")
        return {
            "images": sum(len(f) for f in files.values()),
            "add_s": rounded(added_ms / 1000, 1),
            "add_per_image_ms": rounded(added_ms / sum(len(f) for f in files.values()), 1),
            "upload_longest_task_ms": rounded(upload_longest, 1),
            "before": before,
            "after": after,
            "after_training": trained,
            "heap_growth_mb": rounded((after["usedJSHeapSize"] - before["usedJSHeapSize"]) / 1e6, 1),
            "training_s": rounded((done - clicked) / 1000, 1),
            "training_longest_task_ms": rounded(longest_task(page, clicked, done), 1),
            "prediction": output.get_attribute("data-label"),
            "prediction_ms": rounded(predicted_ms, 0),
            "reload_ready_ms": rounded(reload["ready_ms"], 0),
            "restored_samples": restored,
            "crashed": bool(tab.crashed),
            "console_errors": list(tab.errors),
        }
    finally:
        tab.close()


# ---- the report -----------------------------------------------------------------------------


def verdict(met: bool | None) -> str:
    return "–" if met is None else ("met" if met else "**not met**")


def ratio(a: float | None, b: float | None) -> str:
    return "–" if not a or not b else f"{a / b:.1f}×"


def table_rows(r: dict) -> list[tuple[str, str, str, str, str, str]]:
    emb, tfl, ker = r["embedding"]["page"], r["embedding"]["tflite"], r["embedding"]["keras"]
    iso = r["embedding"].get("page_isolated")
    up, tr, kf = r["upload"], r["training"], r["training_keras"]
    live, start, mem = r["camera"], r["startup"], r["memory"]
    blocks = {
        "capture": live["capture_longest_task_ms"],
        "upload": up["longest_task_ms"],
        "training": tr["longest_task_ms"],
        "live": live["live_longest_task_ms"],
    }
    first = start["ready_ms"]
    heap = f"{mem['before']['usedJSHeapSize'] / 1e6:.1f} → {mem['after']['usedJSHeapSize'] / 1e6:.1f} MB"
    responds = not mem["crashed"] and mem["restored_samples"] == mem["images"] and bool(mem["prediction"])
    rows = [
        (
            "1. embedding per image (page, `extractor.embed`)",
            f"{emb['median_ms']['embed']:.1f} ms",
            f"TFLite+XNNPACK 1 thread {tfl['xnnpack_ms']:.1f} ms",
            ratio(emb["median_ms"]["embed"], tfl["xnnpack_ms"]),
            "",
            "",
        ),
        (
            "   of which model (predict + dataSync)",
            f"{emb['median_ms']['model']:.1f} ms",
            f"TFLite no delegate {tfl['no_delegate_ms']:.1f} ms",
            ratio(emb["median_ms"]["model"], tfl["xnnpack_ms"]),
            "",
            "",
        ),
        (
            "   whole sample (embed + 2 JPEG encodes)",
            f"{emb['median_ms']['sample']:.1f} ms",
            f"Keras eager {ker['eager_ms']:.1f} ms, tf.function {ker['tf_function_ms']:.1f} ms",
            ratio(emb["median_ms"]["sample"], tfl["xnnpack_ms"]),
            "",
            "",
        ),
    ]
    if iso:
        rows.append(
            (
                "   embedding, cross-origin isolated (threaded WASM"
                + ("" if iso["ready_with_csp"] else "; page hangs unless its CSP is bypassed")
                + ")",
                f"{iso['median_ms']['embed']:.1f} ms",
                f"page says: {iso['backend']}",
                ratio(iso["median_ms"]["embed"], tfl["xnnpack_ms"]),
                "",
                "",
            )
        )
    rows += [
        (
            f"2. add {up['images']} uploaded images to a class",
            f"{up['total_s']:.1f} s ({up['per_image_ms']:.0f} ms/image)",
            f"page embed alone {emb['median_ms']['embed']:.0f} ms/image",
            ratio(up["per_image_ms"], emb["median_ms"]["embed"]),
            "",
            "",
        ),
        (
            f"3. train {tr['samples']} samples × {EPOCHS} epochs (click → done)",
            f"{tr['total_s']:.1f} s (no UI: {tr['without_ui_s']:.1f} s)",
            f"Keras fit {kf['fit_s']:.1f} s",
            ratio(tr["total_s"], kf["fit_s"]),
            "≤ Keras",
            verdict(tr["total_s"] <= kf["fit_s"]),
        ),
        (
            "4. live prediction on the fake webcam",
            f"{live['live_fps']:.1f} fps",
            f"camera {live['camera_fps']:.1f} fps",
            ratio(live["live_fps"], live["camera_fps"]),
            "≥ 20 fps",
            verdict(live["live_fps"] >= 20),
        ),
        (
            "5. longest main-thread task: capture / upload / training / live",
            " / ".join(f"{v:.0f}" for v in blocks.values()) + " ms",
            "50 ms = long task",
            "",
            "≤ 100 ms (capture, training)",
            verdict(max(blocks["capture"], blocks["training"]) <= 100),
        ),
        (
            "6. first prediction possible (navigation → ready), fresh load",
            f"{first:.0f} ms",
            f"fetch model files only {start['fetch_model_only_ms']:.0f} ms",
            ratio(first, start["fetch_model_only_ms"]),
            "≤ 1.5 s",
            verdict(first <= 1500),
        ),
        (
            f"   return visit ({tr['samples']} samples + trained head restored)",
            f"{tr['return_visit']['ready_ms']:.0f} ms",
            "same reference",
            ratio(tr["return_visit"]["ready_ms"], start["fetch_model_only_ms"]),
            "≤ 1.5 s",
            verdict(tr["return_visit"]["ready_ms"] <= 1500 and tr["return_visit"]["trained_at_ready"]),
        ),
        (
            f"7. JS heap before → after {mem['images']} images",
            heap,
            f"+{mem['heap_growth_mb']:.1f} MB; IndexedDB {mem['after']['indexedDbBytes'] / 1e6:.0f} MB",
            "",
            f"{mem['images']} images, no crash",
            verdict(responds and mem["images"] >= 1500) if mem["images"] >= 1500 else "– (quick run)",
        ),
    ]
    return rows


def markdown(results: dict) -> str:
    env = results["environment"]
    lines = [
        "# Page benchmark",
        "",
        f"`python bench/page.py{' --quick' if results['quick'] else ''}` on {env['date']}: "
        f"{env['chromium']}, headless, {env['backend']}; {env['cpus']} cores, load average "
        f"{env['load_before']} before and {env['load_after']} after (the machine is shared). "
        "Medians; references measured in the same run. Details in page.json.",
        "",
        "| measure | page | reference (same run) | ratio | target | status |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in table_rows(results)]
    lines.append("")
    return "\n".join(lines)


def environment(site_summary: str) -> dict:
    version = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "chromium": version.split(" built")[0] or "Chromium",
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "build": site_summary,
        "load_before": round(os.getloadavg()[0], 2),
    }


# ---- main -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    embed_runs: int
    tflite_runs: int
    upload_repeats: int
    training_repeats: int
    loads: int
    reloads: int
    memory_per_class: int
    hold_s: float
    live_s: float
    camera_s: float


FULL = Plan(60, 50, 3, 3, 7, 5, 300, 2.0, 10.0, 5.0)
QUICK = Plan(30, 20, 1, 1, 3, 2, 40, 1.5, 5.0, 3.0)


def make_images(work: Path, plan: Plan) -> dict:
    sources = list(SOURCES.items())
    return {
        "upload": photo_crops(work / "upload", sources[0][1], 100, 256, seed=1),
        "training": {name: photo_crops(work / "train", src, 60, 256, seed=10 + i) for i, (name, src) in enumerate(sources)},
        "memory": {
            name: photo_crops(work / "memory", src, plan.memory_per_class, 128, seed=20 + i)
            for i, (name, src) in enumerate(sources)
        },
        "predict": photo_crops(work / "predict", sources[1][1], 1, 256, seed=99)[0],
        "y4m": write_y4m(work / "camera.y4m", photo("astronaut"), frames=CAMERA_FPS, fps=CAMERA_FPS),
    }


def run(plan: Plan, work: Path) -> dict:
    from playwright.sync_api import sync_playwright

    log("building the site")
    site, summary = build_site(work)
    log(summary)
    env = environment(summary)
    images = make_images(work, plan)
    log("references: Keras and TFLite on one image")
    keras_ref = keras_embedding(plan.tflite_runs)
    tflite_ref = tflite_embedding(keras_ref.pop("model"), plan.tflite_runs)
    results: dict = {"environment": env}
    with sync_playwright() as playwright, serve(site) as url:
        browser = launch(playwright)
        try:
            log("1. embedding in the page")
            page_emb = page_embedding(browser, url, plan.embed_runs)
            isolated = isolated_embedding(browser, site, plan.embed_runs)
            results["embedding"] = {"page": page_emb, "page_isolated": isolated, "keras": keras_ref, "tflite": tflite_ref}
            log("6. first prediction")
            results["startup"] = page_startup(browser, url, plan.loads)
            log("2. upload 100 images")
            results["upload"] = page_upload(browser, url, images["upload"], plan.upload_repeats)
            log("3. training 5 x 60 samples")
            results["training"] = page_training(browser, url, images["training"], plan.training_repeats, plan.reloads)
        finally:
            browser.close()
        log("4. the fake webcam: recording and live prediction")
        results["camera"] = page_camera(playwright, url, images["y4m"], plan.hold_s, plan.live_s, plan.camera_s)
        log(f"7. memory with {5 * plan.memory_per_class} images")
        browser = launch(playwright)
        try:
            results["memory"] = page_memory(browser, url, images["memory"], images["predict"])
        finally:
            browser.close()
    log("3. reference: Keras fit of the same head")
    results["training_keras"] = keras_training(results["training"].pop("split"), plan.training_repeats)
    env["load_after"] = round(os.getloadavg()[0], 2)
    env["backend"] = results["embedding"]["page"]["backend"]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and images: a smoke run")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="where page.json and page.md go")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    plan = QUICK if args.quick else FULL
    with tempfile.TemporaryDirectory(prefix="teachkit-page-bench-") as work:
        results = run(plan, Path(work))
    results["quick"] = args.quick
    results["plan"] = plan.__dict__
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "page.json").write_text(json.dumps(results, indent=2) + "\n")
    report = markdown(results)
    (args.out / "page.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
