"""6. first prediction: ms from navigation start to the status turning ready on fresh loads (a new
browser context each: empty cache and IndexedDB), with the page's timeline (its scripts named by
the site's manifest.json, never by a file name written here); the reference, after
each load in a fresh context of the same browser, fetches model.json and its weight shards with
nothing else."""

from __future__ import annotations

from .harness import bench_log, first_event, median, open_tab, probe, rounded


def measure_startup(browser: object, url: str, loads: int, scripts: list[str]) -> dict:
    """Fresh loads, each followed by the reference (a plain fetch of the model) in a fresh context;
    `scripts`: the site's scripts, from its manifest.json (inputs.site_scripts)."""
    loads_ = []
    references = []
    for _ in range(loads):
        tab = open_tab(browser, url)
        try:
            timeline = tab.page.evaluate(probe("resources"), {"scripts": scripts})
            events = bench_log(tab.page)["events"]
            chosen = [t for t, key, text in events if key == "backend" and "…" not in text]
            timeline["backend"] = min(chosen, default=None)
            timeline["ready"] = first_event(tab.page, "status", "ready", 0)
            tasks = [(t, d) for t, d in bench_log(tab.page)["longtasks"] if t <= timeline["ready"]]
            # The first long task runs the page's script; the model is built and warmed up in a worker.
            timeline["first_task"] = tasks[0][1] if tasks else 0.0
            timeline["blocked"] = sum(d for _, d in tasks)
            loads_.append(timeline)
        finally:
            tab.close()
        context = browser.new_context()
        try:
            page = context.new_page()
            page.goto(url + "manifest.json")
            references.append(page.evaluate(probe("fetch_model")))
        finally:
            context.close()

    def at(key: str) -> float | None:
        return rounded(median([load[key] for load in loads_]), 0)

    return {
        "ready_ms": at("ready"),
        "runs_ms": [rounded(load["ready"], 0) for load in loads_],
        "timeline_ms": {
            "app_js_loaded": at("app"),
            "worker_js_loaded": at("worker"),
            "dom_content_loaded (the page's scripts evaluated)": at("dcl"),
            "wasm_requested": at("wasmStart"),
            "wasm_loaded": at("wasm"),
            "backend_chosen": at("backend"),
            "model_requested": at("modelStart"),
            "model_loaded": at("model"),
            "ready": at("ready"),
        },
        "long_tasks_before_ready_ms": {
            "app_js": at("first_task"),
            "all": at("blocked"),
        },
        "fetch_model_only_ms": rounded(median([r["fetched"] for r in references]), 0),
        "fetch_runs_ms": [rounded(r["fetched"], 0) for r in references],
        "webgl2_context_ms": rounded(median([r["webgl2ContextMs"] for r in references]), 0),
    }
