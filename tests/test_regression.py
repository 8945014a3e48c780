"""A regression head, end to end: a visitor labels crops of a real photo with their zoom level on the
slider, uploads them batch by batch, trains, and reads MAE, RMSE and R² on the held-back crops, the
scatter and the residual plot; new crops get a number on the gauge; the model download exported with
`teachkit export` runs in Keras and in the TFLite interpreter and gives the page's numbers; the
project file carries the numbers to another page; what only makes sense for classes is refused."""

from __future__ import annotations

import base64
import math
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from .support.images import zoom_crops
from .support.pagekit import ZOOM_REGRESSION, card, wait_ready
from .support.site import build_project, run_cli
from .test_layout import violations

PROJECT = (
    """
title = "How close is the camera"
[model]
base = "efficientnet_lite0"
# float16: the page's embeddings then match the float32 base that the Keras export rebuilds
quantization = "float16"
"""
    + ZOOM_REGRESSION
)
LEVELS = [1.0, 1.4, 1.8, 2.2, 2.6, 3.0, 3.5, 4.0]
PER_LEVEL = 15
WITHIN = 0.01 * (4 - 1)  # 1 % of the slider's range

EVALUATION = "() => window.teachkit.evaluation()"
CALL = """async ([name, args]) => {
  try {
    return { value: await window.teachkit[name](...args) };
  } catch (error) {
    return { code: error.code, message: error.message };
  }
}"""
ADD_WITH_VALUE = """async ([base64, value]) => {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const name = window.teachkit.classes()[0].name;
  try {
    return await window.teachkit.addImages(name, [new Blob([bytes], { type: "image/png" })], { value });
  } catch (error) {
    return { code: error.code, message: error.message };
  }
}"""


@pytest.fixture(scope="module")
def regression_site(tmp_path_factory: pytest.TempPathFactory, lite0_sites: object) -> Path:
    lite0_sites("float16")  # the conversion, shared with the other tests
    return build_project(tmp_path_factory.mktemp("regression"), PROJECT)


def level_crops(directory: Path) -> dict[float, list[Path]]:
    """PER_LEVEL crops of the photo at each zoom level, each at a random place."""
    crops: dict[float, list[Path]] = {}
    for index, level in enumerate(LEVELS):
        made = zoom_crops(directory / f"level-{index}", PER_LEVEL, seed=index, low=level, high=level)
        crops[level] = [path for path, _ in made]
    return crops


def recomputed(points: list[dict]) -> dict[str, float]:
    actual = np.array([point["actual"] for point in points])
    predicted = np.array([point["predicted"] for point in points])
    residual = predicted - actual
    return {
        "mae": float(np.mean(np.abs(residual))),
        "rmse": float(np.sqrt(np.mean(residual**2))),
        "r2": float(1 - np.sum(residual**2) / np.sum((actual - actual.mean()) ** 2)),
    }


def predict_on_page(page, file: Path) -> float:
    output = page.locator('[data-testid="prediction"]')
    count = int(output.get_attribute("data-count"))
    page.set_input_files('[data-testid="predict-upload"]', str(file))
    expect(output).to_have_attribute("data-count", str(count + 1), timeout=30_000)
    return float(output.get_attribute("data-value"))


def pixels(files: list[Path]) -> np.ndarray:
    # The crops are already the model's 224 pixels: the page and Python see the very same pixels.
    return np.stack([np.asarray(Image.open(file).convert("RGB"), dtype=np.float32) for file in files])


def test_a_visitor_teaches_a_number_and_exports_it(
    browser, serve_site, regression_site, surfaces_site, tmp_path
):
    crops = level_crops(tmp_path / "train")
    new_crops = [(path, zoom) for path, zoom in zoom_crops(tmp_path / "new", 6, seed=99, low=1.2, high=3.8)]
    server = serve_site(regression_site)
    context = browser.new_context(accept_downloads=True)
    try:
        page = context.new_page()
        page.goto(server.url)
        wait_ready(page)
        group = card(page, "Zoom")
        expect(page.locator('[data-testid="add-class"]')).to_be_hidden()
        slider = group.locator('[data-testid="target-slider"]')
        for level, files in crops.items():
            slider.fill(f"{level:g}")  # as the browser writes it back: "1", not "1.0"
            expect(group.locator('[data-testid="target-value"]')).to_have_text(f"{level:.2f} ×")
            count = int(group.locator('[data-testid="sample-count"]').inner_text())
            group.locator('[data-testid="sample-upload"]').set_input_files([str(f) for f in files])
            expect(group.locator('[data-testid="sample-count"]')).to_have_text(
                str(count + len(files)), timeout=60_000
            )
        values = sorted({sample["value"] for sample in page.evaluate("() => window.teachkit.samples()")})
        assert values == LEVELS
        expect(group.locator(".thumb-value").last).to_have_text("4.00 ×")

        page.click('[data-testid="train"]')
        expect(page.locator('[data-testid="train-status"]')).to_have_attribute(
            "data-state", "done", timeout=120_000
        )
        evaluation = page.evaluate(EVALUATION)
        assert evaluation["task"] == "regression"
        held = sum(sample["heldOut"] for sample in page.evaluate("() => window.teachkit.samples()"))
        assert evaluation["count"] == len(evaluation["points"]) == held >= 24
        for key, value in recomputed(evaluation["points"]).items():
            assert math.isclose(evaluation[key], value, rel_tol=1e-6, abs_tol=1e-9), key
        print(
            f"held-back crops: {held}, MAE {evaluation['mae']:.3f}, RMSE {evaluation['rmse']:.3f}, "
            f"R² {evaluation['r2']:.3f}"
        )
        assert evaluation["r2"] >= 0.8
        metrics = page.locator('[data-testid="regression-metrics"]')
        expect(metrics).to_have_attribute("data-count", str(held))
        expect(metrics).to_contain_text(f"{evaluation['r2']:.3f}")
        for chart in ("chart-scatter", "chart-residuals"):
            expect(page.locator(f'[data-testid="{chart}"]')).to_have_attribute("data-points", str(held))
        expect(page.locator('[data-testid="chart-error"]')).to_have_attribute("data-points", "50")

        page_values = [predict_on_page(page, path) for path, _ in new_crops]
        gauge = page.locator('[data-testid="prediction-gauge"]')
        expect(gauge).to_be_visible()
        expect(gauge).to_have_attribute("aria-valuetext", f"{page_values[-1]:.2f} ×")
        expect(page.locator('[data-testid="prediction-label"]')).to_have_text(
            f"Zoom: {page_values[-1]:.2f} ×"
        )
        truth = [zoom for _, zoom in new_crops]
        print(
            "new crops, actual → page:", [f"{a:.2f}→{p:.2f}" for a, p in zip(truth, page_values, strict=True)]
        )
        assert np.corrcoef(truth, page_values)[0, 1] > 0.8

        with page.expect_download() as download:
            page.click('[data-testid="download-model"]')
        model_zip = tmp_path / download.value.suggested_filename
        download.value.save_as(model_zip)
        with page.expect_download() as download:
            page.click('[data-testid="export-project"]')
        project_file = tmp_path / download.value.suggested_filename
        download.value.save_as(project_file)

        # The project file brings the numbers and the trained head to another visitor's page.
        other = context.browser.new_context()
        try:
            second = other.new_page()
            second.goto(server.url)
            wait_ready(second)
            second.set_input_files('[data-testid="import-project"]', str(project_file))
            expect(second.locator('[data-testid="train-status"]')).to_have_attribute("data-state", "done")
            assert second.evaluate(EVALUATION) == evaluation
            moved = sorted(sample["value"] for sample in second.evaluate("() => window.teachkit.samples()"))
            assert moved == sorted(s["value"] for s in page.evaluate("() => window.teachkit.samples()"))
            assert math.isclose(predict_on_page(second, new_crops[0][0]), page_values[0], abs_tol=1e-5)
            # A page of classes refuses it by name, and keeps what it had.
            second.goto(serve_site(surfaces_site).url)
            wait_ready(second)
            second.set_input_files('[data-testid="import-project"]', str(project_file))
            expect(second.locator('[data-testid="project-message"]')).to_contain_text(
                "numbers (a regression model), but this page predicts classes"
            )
            assert [c["count"] for c in second.evaluate("() => window.teachkit.classes()")] == [0, 0, 0]
        finally:
            other.close()
    finally:
        context.close()

    with zipfile.ZipFile(model_zip) as archive:
        assert archive.read("labels.txt").decode() == "Zoom\n"
    keras_dir, tflite_dir = tmp_path / "keras", tmp_path / "tflite"
    result = run_cli("export", model_zip, "--format", "keras", "-o", keras_dir)
    assert result.exit_code == 0, result.output
    result = run_cli("export", project_file, "--format", "tflite", "-o", tflite_dir)
    assert result.exit_code == 0, result.output

    import keras
    import tensorflow as tf

    images = pixels([path for path, _ in new_crops])
    from_keras = keras.saving.load_model(keras_dir / "model.keras").predict(images, verbose=0)[:, 0]
    interpreter = tf.lite.Interpreter(model_path=str(tflite_dir / "model.tflite"))
    (entry,), (exit_,) = interpreter.get_input_details(), interpreter.get_output_details()
    from_tflite = []
    for image in images:
        interpreter.resize_tensor_input(entry["index"], [1, *image.shape])
        interpreter.allocate_tensors()
        interpreter.set_tensor(entry["index"], image[None])
        interpreter.invoke()
        from_tflite.append(float(interpreter.get_tensor(exit_["index"])[0, 0]))
    print(
        "page / keras / tflite:",
        [f"{p:.3f}/{k:.3f}/{t:.3f}" for p, k, t in zip(page_values, from_keras, from_tflite, strict=True)],
    )
    assert np.max(np.abs(from_keras - page_values)) <= WITHIN
    assert np.max(np.abs(np.array(from_tflite) - page_values)) <= WITHIN

    refused = run_cli("export", model_zip, "--format", "tm", "-o", tmp_path / "tm")
    assert refused.exit_code == 1
    assert "predicts a number" in refused.output and "--format keras" in refused.output
    assert not (tmp_path / "tm").exists()


def test_what_a_number_page_refuses(browser, serve_site, regression_site, tmp_path):
    crop = zoom_crops(tmp_path, 1, seed=7)[0][0]
    photo = base64.b64encode(crop.read_bytes()).decode()
    server = serve_site(regression_site)
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(server.url)
        wait_ready(page)
        status = page.evaluate("() => window.teachkit.status()")
        assert status["task"] == "regression" and status["targetValue"] == 1
        out_of_range = page.evaluate(CALL, ["setTargetValue", [9]])
        assert out_of_range["code"] == "bad_argument" and "from 1 to 4" in out_of_range["message"]
        assert page.evaluate(ADD_WITH_VALUE, [photo, 0.5])["code"] == "bad_argument"
        assert page.evaluate(CALL, ["classes", []])["value"] == [{"name": "Zoom", "count": 0}]
        page.evaluate(ADD_WITH_VALUE, [photo, 2.0])
        page.evaluate(ADD_WITH_VALUE, [photo, 2.0])
        same = page.evaluate(CALL, ["train", []])
        assert same["code"] == "no_samples" and "same value" in same["message"]
        knn = page.evaluate(CALL, ["setSettings", [{"head": {"type": "knn"}}]])
        assert knn["code"] == "bad_setting" and "predicts a number" in knn["message"]
        expect(page.locator('[data-testid="setting-type"]')).to_be_hidden()
        expect(page.locator('[data-testid="test-set"]')).to_have_count(0)
        page.evaluate(ADD_WITH_VALUE, [photo, 3.0])
        assert page.evaluate(CALL, ["train", []])["value"]["evaluation"]["task"] == "regression"
        refused = page.evaluate(CALL, ["evaluate", [[]]])
        assert refused["code"] == "not_supported" and "predicts a number" in refused["message"]
        page.set_input_files('[data-testid="predict-upload"]', str(crop))
        expect(page.locator('[data-testid="prediction-gauge"]')).to_be_visible()
        assert violations(page) == []
    finally:
        context.close()


def test_each_press_of_record_gets_the_sliders_value(playwright, serve_site, regression_site, tmp_path):
    import skimage.data

    from .support.browser import open_with_camera
    from .support.images import write_y4m
    from .support.visitor import hold_record

    video = write_y4m(tmp_path / "chelsea.y4m", skimage.data.chelsea())
    server = serve_site(regression_site)
    context, session = open_with_camera(playwright, tmp_path / "profile", video, server.url)
    try:
        page = session.page
        slider = card(page, "Zoom").locator('[data-testid="target-slider"]')
        slider.fill("1.5")
        first = hold_record(page, "Zoom", 1.0)
        slider.fill("3")
        total = hold_record(page, "Zoom", 1.0)
        values = [sample["value"] for sample in page.evaluate("() => window.teachkit.samples()")]
        assert values == [1.5] * first + [3.0] * (total - first) and first >= 3 and total - first >= 3
        page.click('[data-testid="train"]')
        expect(page.locator('[data-testid="train-status"]')).to_have_attribute(
            "data-state", "done", timeout=60_000
        )
        page.click('[data-testid="live-toggle"]')
        expect(page.locator('[data-testid="prediction-gauge"]')).to_be_visible(timeout=20_000)
        live = float(page.locator('[data-testid="prediction"]').get_attribute("data-value"))
        assert 0 < live < 5  # the one photo at both values: somewhere around them
        page.click('[data-testid="live-toggle"]')
        assert [url for url in session.requests if not url.startswith((server.url, "data:", "blob:"))] == []
    finally:
        context.close()
