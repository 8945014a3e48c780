"""1. embedding: ms per image for `teachkit.embed(canvas)` one at a time and eight at once, a whole
sample through `teachkit.addImages` and a PNG decode, in the page's workers, on the page
(?workers=0) and served cross-origin isolated; beside Keras (eager and tf.function) and TFLite (with
XNNPACK and without) on the same photo, in alternating blocks of 10 runs."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.sites import serve

from .harness import Tab, captured_output, median, open_tab, probe, rounded, timed_ms
from .inputs import camera_frame, reference_pixels


@dataclass
class Runner:
    """One way to embed the reference image, run in timed blocks."""

    name: str
    run: Callable[[], object]
    block: int  # runs per block: the slow eager Keras gets fewer


def python_runners() -> tuple[list[Runner], dict]:
    """Keras (eager and tf.function) and TFLite (XNNPACK and no delegate) on the same photo."""
    import tensorflow as tf

    from builder.models.efficientnet_lite0 import build_efficientnet_lite0

    model = build_efficientnet_lite0().keras_model
    x = reference_pixels()
    compiled = tf.function(lambda batch: model(batch, training=False), autograph=False)
    with captured_output():
        flatbuffer = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    without = tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    runners = [
        Runner("keras_eager", lambda: model(x, training=False).numpy(), 3),
        Runner("keras_tf_function", lambda: compiled(x).numpy(), 10),
    ]
    notes = {
        "keras_threads": "TensorFlow default: intra-op "
        f"{tf.config.threading.get_intra_op_parallelism_threads()} (0 = all {os.cpu_count()} cores)",
        "tflite_mb": round(len(flatbuffer) / 1e6, 2),
    }
    variants = {"tflite_xnnpack": {}, "tflite_no_delegate": {"experimental_op_resolver_type": without}}
    for label, options in variants.items():
        with captured_output() as output:
            interpreter = tf.lite.Interpreter(model_content=flatbuffer, num_threads=1, **options)
            interpreter.allocate_tensors()
        notes[f"{label}_log_says_xnnpack"] = "XNNPACK" in output["text"]
        source = interpreter.get_input_details()[0]["index"]
        target = interpreter.get_output_details()[0]["index"]

        def invoke(interpreter: object = interpreter, source: int = source, target: int = target) -> None:
            interpreter.set_tensor(source, x)
            interpreter.invoke()
            interpreter.get_tensor(target)

        runners.append(Runner(label, invoke, 10))
    for runner in runners:
        timed_ms(runner.run, 3)  # warm-up
    return runners, notes


def open_embedding_tab(browser: object, url: str, **context_options: object) -> tuple[Tab, str]:
    rgba, width, height = camera_frame()
    tab = open_tab(browser, url, **context_options)
    backend = tab.page.evaluate(probe("embed_setup"), {"rgba": rgba, "width": width, "height": height})
    tab.page.evaluate(probe("embed_block"), 5)  # warm-up
    return tab, backend


def open_isolated_tab(browser: object, url: str) -> tuple[Tab | None, dict]:
    """The page served cross-origin isolated, where TF.js may use its threaded WASM build."""
    try:
        tab, backend = open_embedding_tab(browser, url, ready_timeout_s=45)
        return tab, {"ready": True, "backend": backend}
    except AssertionError as error:
        return None, {"ready": False, "error": str(error).splitlines()[0]}


def measure_embedding(browser: object, site: Path, url: str, runs: int) -> dict:
    """Page (in workers, on the page, isolated) and Python references, in alternating blocks of 10 runs."""
    runners, notes = python_runners()
    block_js = probe("embed_block")
    with serve(site, isolated=True) as isolated_url:
        tab, backend = open_embedding_tab(browser, url)
        inline_tab, inline_backend = open_embedding_tab(browser, url + "?workers=0")
        isolated_tab, isolated = open_isolated_tab(browser, isolated_url)
        tabs = {"page": tab, "page_inline": inline_tab, "page_isolated": isolated_tab}
        page_times: dict[str, dict[str, list[float]]] = {name: {} for name, t in tabs.items() if t}
        python_times: dict[str, list[float]] = {runner.name: [] for runner in runners}
        leaked = {}
        try:
            for _ in range(math.ceil(runs / 10)):
                for name, page_tab in tabs.items():
                    if page_tab:
                        block = page_tab.page.evaluate(block_js, 10)
                        leaked[name] = block["leakedTensors"]
                        for step, times in block["times"].items():
                            page_times[name].setdefault(step, []).extend(times)
                for runner in runners:
                    python_times[runner.name] += timed_ms(runner.run, runner.block)
        finally:
            for page_tab in tabs.values():
                if page_tab:
                    page_tab.close()
    result = {
        name: {step: rounded(median(times), 2) for step, times in steps.items()}
        for name, steps in page_times.items()
    }
    result.update({name: rounded(median(times), 2) for name, times in python_times.items()})
    return {
        "median_ms": result,
        "page_runs": runs,
        "backend": backend,
        "inline_backend": inline_backend,
        "isolated": isolated,
        "leaked_tensors": leaked,
        **notes,
    }
