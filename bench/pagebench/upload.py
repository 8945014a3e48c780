"""2. upload: s from the file input's change event to the class's count showing 100, for 100 PNG
photo crops (256x256), and ms per image (in-page clock), in a fresh tab each time."""

from __future__ import annotations

from pathlib import Path

from .harness import bench_log, blocking, long_tasks, median, open_tab, rounded, upload
from .inputs import SOURCES


def measure_upload(browser: object, url: str, files: list[Path], repeats: int) -> dict:
    name = next(iter(SOURCES))
    seconds, tasks, encodes = [], [], []
    for _ in range(repeats):
        tab = open_tab(browser, url)
        try:
            window = upload(tab.page, name, files, timeout_s=600)
            seconds.append(window.seconds)
            tasks.append(long_tasks(tab.page, window.before, window.ended))
            encodes += [d for t, d in bench_log(tab.page)["encodes"] if t >= window.before]
        finally:
            tab.close()
    total = median(seconds)
    return {
        "images": len(files),
        "total_s": rounded(total, 2),
        "per_image_ms": rounded(total * 1000 / len(files), 1),
        "runs_s": [rounded(s, 2) for s in seconds],
        "jpeg_encode_ms": {"median": rounded(median(encodes), 1), "max": rounded(max(encodes, default=0), 0)},
        "blocking": blocking(tasks),
    }
