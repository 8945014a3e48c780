"""7. memory: the JS heap (after a forced GC) before and after adding 1,500 images (128x128 crops,
300 per class), with TF.js's tensors, the WASM heap and IndexedDB; then training, one predicted
image (the page still responds) and a reload that restores them all."""

from __future__ import annotations

from pathlib import Path

from .harness import blocking, long_tasks, open_tab, predict_file, probe, reload_ready, rounded, train, upload


def memory_snapshot(page: object) -> dict:
    session = page.context.new_cdp_session(page)
    try:
        session.send("HeapProfiler.collectGarbage")
    finally:
        session.detach()
    return page.evaluate(probe("memory"))


def measure_memory(browser: object, url: str, files: dict[str, list[Path]], predict: Path) -> dict:
    tab = open_tab(browser, url)
    page = tab.page
    images = sum(len(f) for f in files.values())
    try:
        before = memory_snapshot(page)
        windows = [upload(page, name, class_files, timeout_s=900) for name, class_files in files.items()]
        added_s = (windows[-1].ended - windows[0].began) / 1000
        after = memory_snapshot(page)
        trained = train(page, timeout_s=1800)
        upload_blocking = blocking([long_tasks(page, w.before, w.ended) for w in windows])
        training_blocking = blocking([long_tasks(page, trained.before, trained.ended)])
        label, predicted_ms = predict_file(page, predict)
        after_training = memory_snapshot(page)
        reload = reload_ready(page)  # the page's log starts again here
        return {
            "images": images,
            "add_s": rounded(added_s, 1),
            "add_per_image_ms": rounded(added_s * 1000 / images, 1),
            "upload_blocking": upload_blocking,
            "before": before,
            "after": after,
            "after_training": after_training,
            "heap_growth_mb": rounded((after["usedJSHeapSize"] - before["usedJSHeapSize"]) / 1e6, 1),
            "training_s": rounded(trained.seconds, 1),
            "training_blocking": training_blocking,
            "prediction": label,
            "prediction_ms": rounded(predicted_ms, 0),
            "reload_ready_ms": rounded(reload["ready_ms"], 0),
            "restored_samples": page.evaluate(probe("sample_total")),
            "crashed": bool(tab.crashed),
            "console_errors": list(tab.errors),
        }
    finally:
        tab.close()
