"""page.md: one table, each row declared once in ROWS as what it shows in each column, computed
from the results (page.json)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench.sites import report_head

from .inputs import EPOCHS

Cell = str | Callable[[dict], str]


@dataclass(frozen=True)
class Row:
    measure: Cell
    page: Cell
    reference: Cell
    ratio: Cell = ""
    target: str = ""
    status: Cell = ""  # whether the target is met

    def cells(self, results: dict) -> list[str]:
        cells = (self.measure, self.page, self.reference, self.ratio, self.target, self.status)
        return [cell(results) if callable(cell) else cell for cell in cells]


def met(yes: bool) -> str:
    return "met" if yes else "**not met**"


def under50(ms: float) -> str:
    """A long task duration; 0 means that no task reached 50 ms, the long-task threshold."""
    return f"{ms:.0f}" if ms else "<50"


def ratio(a: float | None, b: float | None) -> str:
    return "–" if not a or not b else f"{a / b:.1f}×"


# ---- what the rows read -----------------------------------------------------------------------


def ms(r: dict) -> dict:
    return r["embedding"]["median_ms"]


def embed(r: dict) -> float:
    """One image at a time through `teachkit.embed`, in the page's workers."""
    return ms(r)["page"]["embed"]


def throughput(r: dict) -> float:
    """Eight at once, per image."""
    return ms(r)["page"]["eight"] / 8


def both(r: dict) -> str:
    return f"{embed(r):.1f} / {throughput(r):.1f} ms"


def against(key: str) -> Callable[[dict], str]:
    """Ratios of one at a time and eight at once to the reference `key` of the embedding results."""
    return lambda r: f"{ratio(embed(r), ms(r)[key])} / {ratio(throughput(r), ms(r)[key])}"


def isolated(r: dict) -> float | None:
    return ms(r)["page_isolated"]["embed"] if "page_isolated" in ms(r) else None


def isolated_page(r: dict) -> str:
    if isolated(r) is None:
        return "never ready"
    return f"{isolated(r):.1f} ms; page says “{r['embedding']['isolated']['backend']}”"


def other_live(key: str) -> Callable[[dict], str]:
    """Live prediction in another tab (one worker, or the model on the page)."""

    def text(r: dict) -> str:
        live = r["camera"][key]
        return (
            f"{live['fps']:.1f} fps (latency {live['latency_ms']:.0f} ms; longest task "
            f"{under50(live['blocking']['longest_ms'])} ms)"
        )

    return text


BLOCKS = {
    "recording": "capture_blocking",
    "upload": "blocking",
    "training": "blocking",
    "live": "live_blocking",
}


def with_heatmap(r: dict) -> dict | None:
    """Live prediction with Try it's heatmap shown; None in results from before it was measured."""
    return r["camera"].get("live_with_heatmap")


def heatmap_live(r: dict) -> str:
    live = with_heatmap(r)
    if not live:
        return "not measured in this run"
    drawn = f"; {live['live_draws']} live redraws" if live["drawn"] else "; no live map was drawn"
    longest = under50(live["blocking"]["longest_ms"])
    return f"{live['fps']:.1f} fps (latency {live['latency_ms']:.0f} ms; longest task {longest} ms{drawn})"


def blocks(r: dict) -> dict[str, dict]:
    parts = {"recording": r["camera"], "upload": r["upload"], "training": r["training"], "live": r["camera"]}
    return {name: parts[name][key] for name, key in BLOCKS.items()}


def block_text(r: dict) -> str:
    return " / ".join(
        f"{under50(b['median_of_run_longest_ms'])} ({under50(b['longest_ms'])})" for b in blocks(r).values()
    )


def recording_encodes(r: dict) -> str:
    jpeg = r["camera"]["jpeg_encode_ms"]
    over = f"{jpeg['over_100_ms']} of {jpeg['count']} over 100 ms"
    return f"{jpeg['median']:.1f} ms, {jpeg['max']:.0f} ms ({over})"


def heap(r: dict) -> str:
    mem = r["memory"]
    before, after = mem["before"]["usedJSHeapSize"], mem["after"]["usedJSHeapSize"]
    growth = (after - before) / mem["images"] / 1e3
    return f"{before / 1e6:.1f} → {after / 1e6:.1f} MB (+{growth:.1f} kB per image)"


def memory_notes(r: dict) -> str:
    mem = r["memory"]
    return (
        f"IndexedDB {mem['after']['indexedDbBytes'] / 1e6:.0f} MB; added in {mem['add_s']:.0f} s "
        f"({mem['add_per_image_ms']:.0f} ms/image); then trained in {mem['training_s']:.0f} s, "
        f"one prediction {mem['prediction_ms']:.0f} ms, reload ready in {mem['reload_ready_ms']:.0f} ms"
    )


def memory_status(r: dict) -> str:
    mem = r["memory"]
    responds = not mem["crashed"] and mem["restored_samples"] == mem["images"] and bool(mem["prediction"])
    if mem["images"] >= 1500:
        return met(responds)
    return f"{'responds' if responds else 'failed'} (quick)"


def first_ready(r: dict) -> float:
    return r["startup"]["fetch_model_only_ms"]


ROWS = (
    Row(
        "1. embedding per image, `teachkit.embed`: one at a time / eight at once (per image)",
        both,
        lambda r: f"TFLite + XNNPACK, 1 thread: {ms(r)['tflite_xnnpack']:.1f} ms",
        against("tflite_xnnpack"),
    ),
    Row(
        "   the same against TFLite without XNNPACK",
        both,
        lambda r: f"TFLite without XNNPACK: {ms(r)['tflite_no_delegate']:.1f} ms",
        against("tflite_no_delegate"),
    ),
    Row(
        "   …and against Keras",
        both,
        lambda r: (
            "Keras model(x) in tf.function / eager: "
            f"{ms(r)['keras_tf_function']:.1f} / {ms(r)['keras_eager']:.0f} ms"
        ),
        lambda r: f"{ratio(embed(r), ms(r)['keras_tf_function'])} / {ratio(embed(r), ms(r)['keras_eager'])}",
    ),
    Row(
        lambda r: f"   in workers (“{r['embedding']['backend']}”) against on the page (?workers=0)",
        both,
        lambda r: (
            f"on the page: {ms(r)['page_inline']['embed']:.1f} / {ms(r)['page_inline']['eight'] / 8:.1f} ms"
        ),
        lambda r: (
            f"{ratio(embed(r), ms(r)['page_inline']['embed'])} / "
            f"{ratio(throughput(r), ms(r)['page_inline']['eight'] / 8)}"
        ),
    ),
    Row(
        "   a whole sample, `teachkit.addImages` (crop, embedding, 2 JPEGs, IndexedDB) / PNG decode",
        lambda r: f"{ms(r)['page']['sample']:.1f} / {ms(r)['page']['decode']:.1f} ms",
        lambda r: f"embedding alone, one at a time: {embed(r):.1f} ms",
        lambda r: ratio(ms(r)["page"]["sample"], embed(r)),
    ),
    Row(
        lambda r: "   served cross-origin isolated" + (" (threaded WASM build)" if isolated(r) else ""),
        isolated_page,
        lambda r: (
            r["embedding"]["isolated"]["error"] if isolated(r) is None else f"not isolated: {embed(r):.1f} ms"
        ),
        lambda r: "" if isolated(r) is None else ratio(isolated(r), embed(r)),
    ),
    Row(
        lambda r: f"2. add {r['upload']['images']} uploaded images to one class",
        lambda r: f"{r['upload']['total_s']:.1f} s ({r['upload']['per_image_ms']:.0f} ms/image)",
        lambda r: f"embedding alone (eight at once): {throughput(r):.0f} ms/image",
        lambda r: ratio(r["upload"]["per_image_ms"], throughput(r)),
    ),
    Row(
        lambda r: f"3. train {r['training']['samples']} samples × {EPOCHS} epochs, click → done",
        lambda r: f"{r['training']['total_s']:.1f} s (train through the API {r['training']['api_s']:.1f} s)",
        lambda r: f"Keras fit: {r['training_keras']['fit_s']:.1f} s",
        lambda r: ratio(r["training"]["total_s"], r["training_keras"]["fit_s"]),
        "≤ Keras",
        lambda r: met(r["training"]["total_s"] <= r["training_keras"]["fit_s"]),
    ),
    Row(
        "   TF.js kernels for the head's gradient xᵀ·dy (16×1280, 16×100): matMul(transposeA)",
        lambda r: (
            f"{r['training']['matmul_ms']['kernelGradient']:.2f} ms "
            f"(forward x·W {r['training']['matmul_ms']['forward']:.2f} ms)"
        ),
        lambda r: f"transpose, then plain matMul: {r['training']['matmul_ms']['transposeThenMatMul']:.2f} ms",
        lambda r: ratio(
            r["training"]["matmul_ms"]["kernelGradient"], r["training"]["matmul_ms"]["transposeThenMatMul"]
        ),
    ),
    Row(
        "4. live prediction on the fake webcam",
        lambda r: (
            f"{r['camera']['live_fps']:.1f} fps (latency {r['camera']['live_latency_ms']:.0f} ms per frame)"
        ),
        lambda r: f"camera: {r['camera']['camera_fps']:.1f} fps",
        lambda r: ratio(r["camera"]["live_fps"], r["camera"]["camera_fps"]),
        "≥ the camera's",
        lambda r: met(r["camera"]["live_fps"] >= 0.95 * r["camera"]["camera_fps"]),
    ),
    Row(
        "   with the heatmap shown (Show where it looked), and its longest main-thread task",
        heatmap_live,
        lambda r: f"without: {r['camera']['live_fps']:.1f} fps",
        lambda r: ratio((with_heatmap(r) or {}).get("fps"), r["camera"]["live_fps"]),
        "longest task ≤ 50 ms",
        lambda r: (
            "–"
            if not with_heatmap(r)
            else met(with_heatmap(r)["drawn"] and with_heatmap(r)["blocking"]["longest_ms"] <= 50)
        ),
    ),
    Row(
        "   one worker instead (?workers=1)",
        other_live("live_one_worker"),
        lambda r: f"camera: {r['camera']['camera_fps']:.1f} fps",
        lambda r: ratio(r["camera"]["live_one_worker"]["fps"], r["camera"]["camera_fps"]),
        "≥ the camera's",
        lambda r: met(r["camera"]["live_one_worker"]["fps"] >= 0.95 * r["camera"]["camera_fps"]),
    ),
    Row(
        "   the model on the page instead (?workers=0)",
        other_live("live_on_the_page"),
        lambda r: f"in workers: {r['camera']['live_fps']:.1f} fps",
        lambda r: ratio(r["camera"]["live_on_the_page"]["fps"], r["camera"]["live_fps"]),
    ),
    Row(
        lambda r: f"   frames per {r['camera']['hold_s']:.0f} s hold of the record button",
        lambda r: ", ".join(str(n) for n in r["camera"]["frames_per_hold"]),
        lambda r: f"capture.fps × hold: {r['camera']['frames_expected_per_hold']}",
    ),
    Row(
        "   JPEG encodes (canvas toDataURL/toBlob) while recording: median, longest",
        recording_encodes,
        lambda r: (
            f"while uploading: {r['upload']['jpeg_encode_ms']['median']:.1f} ms, "
            f"{r['upload']['jpeg_encode_ms']['max']:.0f} ms"
        ),
    ),
    Row(
        "5. longest main-thread task, ms: recording / upload / training / live",
        block_text,
        "median of each run's longest (longest of all)",
        "",
        "≤ 100 ms while recording and training",
        lambda r: met(max(blocks(r)["recording"]["longest_ms"], blocks(r)["training"]["longest_ms"]) <= 100),
    ),
    Row(
        "6. navigation → first prediction possible (status ready), fresh load",
        lambda r: f"{r['startup']['ready_ms']:.0f} ms",
        lambda r: f"fetching the model files alone: {first_ready(r):.0f} ms",
        lambda r: ratio(r["startup"]["ready_ms"], first_ready(r)),
        "≤ 1.5 s",
        lambda r: met(r["startup"]["ready_ms"] <= 1500),
    ),
    Row(
        "   main-thread long tasks before ready: the first (the page's script) / all",
        lambda r: (
            f"{r['startup']['long_tasks_before_ready_ms']['app_js']:.0f} / "
            f"{r['startup']['long_tasks_before_ready_ms']['all']:.0f} ms"
        ),
        lambda r: f"first worker's script loaded at {r['startup']['timeline_ms']['worker_js_loaded']:.0f} ms",
    ),
    Row(
        lambda r: f"   return visit, {r['training']['samples']} samples and the trained head restored",
        lambda r: f"{r['training']['return_visit']['ready_ms']:.0f} ms",
        "same reference",
        lambda r: ratio(r["training"]["return_visit"]["ready_ms"], first_ready(r)),
        "≤ 1.5 s",
        lambda r: met(
            r["training"]["return_visit"]["ready_ms"] <= 1500
            and r["training"]["return_visit"]["trained_at_ready"]
        ),
    ),
    Row(
        lambda r: f"7. JS heap before → after adding {r['memory']['images']:,} images (after GC)",
        heap,
        memory_notes,
        "",
        "1,500 images, no crash",
        memory_status,
    ),
)


COLUMNS = ["measure", "page", "reference (same run)", "ratio", "target", "status"]
NOTES = (
    "Medians; every reference was measured in the same run; ratio = page ÷ the reference in the same "
    "row. All numbers, with the run-to-run values, are in page.json."
)


def markdown(results: dict) -> str:
    command = f"python bench/page.py{' --quick' if results['quick'] else ''}"
    lines = report_head("Page benchmark", command, results["environment"], NOTES, COLUMNS)
    lines += ["| " + " | ".join(row.cells(results)) + " |" for row in ROWS]
    lines.append("")
    return "\n".join(lines)
