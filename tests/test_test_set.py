"""A test set on the trained Surfaces page, with real photos held out from training: a folder chosen
(and one dropped) with sub-folders named like the classes, images of one class, and the API's
`evaluate`. Every number the panel shows is recomputed here from the page's own per-image answers
(its CSV): accuracy and its 95 % Wilson interval, precision, recall, F1 and n per class, the
confusion matrix. Test images never become samples."""

from __future__ import annotations

import base64
import csv
import io
import math
import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from .support.browser import record_traffic
from .support.images import TEXTURES, texture_crops
from .support.pagekit import CLASS_OF, wait_ready
from .test_embed import ADD_COLOURS, CONNECT, embeddable, hosts, open_host  # noqa: F401 (fixtures)
from .test_layout import violations

CLASSES = ["Brick", "Grass", "Gravel"]
# Sub-folder → class: the case differs from the class names on purpose.
FOLDERS = {"brick": "Brick", "GRASS": "Grass", "Gravel": "Gravel"}
PER_CLASS = 22
Z95 = 1.959963984540054

EVALUATE = """async (files) => {
  const items = files.map(({ data, className, name }) => ({
    image: new Blob([Uint8Array.from(atob(data), (c) => c.charCodeAt(0))], { type: "image/png" }),
    className,
    name,
  }));
  try {
    return { value: await window.teachkit.evaluate(items) };
  } catch (error) {
    return { code: error.code, message: error.message };
  }
}"""

CALL = """async ({ method, args }) => {
  try {
    return { value: await window.teachkit[method](...args) };
  } catch (error) {
    return { code: error.code, message: error.message };
  }
}"""

# Starts a long test through the API (not awaited), of every item `repeat` times.
START_EVALUATE = """async ({ files, repeat }) => {
  const items = [];
  for (let k = 0; k < repeat; k += 1)
    for (const { data, className, name } of files)
      items.push({
        image: new Blob([Uint8Array.from(atob(data), (c) => c.charCodeAt(0))], { type: "image/png" }),
        className,
        name: `${k}/${name}`,
      });
  window.testRun = window.teachkit.evaluate(items).then(
    (value) => ({ value }),
    (error) => ({ code: error.code, message: error.message }),
  );
}"""

BUSY_WHILE_TRAINING = """async (files) => {
  const items = files.map(({ data, className, name }) => ({
    image: new Blob([Uint8Array.from(atob(data), (c) => c.charCodeAt(0))], { type: "image/png" }),
    className,
    name,
  }));
  const training = window.teachkit.train();
  const disabled = document.querySelector('[data-testid="test-set-choose-folder"]').disabled;
  const answer = await window.teachkit.evaluate(items).then(
    () => ({ code: null }),
    (error) => ({ code: error.code, message: error.message }),
  );
  await training;
  return { ...answer, disabled };
}"""

# A host page's test set: a canvas per class (embed.js sends elements as ImageBitmaps).
HOST_EVALUATE = """async (classes) => {
  const items = Object.entries(classes).map(([className, hue]) => {
    const canvas = document.createElement("canvas");
    canvas.width = 160;
    canvas.height = 120;
    const context = canvas.getContext("2d");
    context.fillStyle = `hsl(${hue + 6}, 80%, 45%)`;
    context.fillRect(0, 0, 160, 120);
    return { image: canvas, className, name: `${className}.png` };
  });
  const client = window.clients[0];
  try {
    await client.train();
    return { version: client.version, value: await client.evaluate(items) };
  } catch (error) {
    return { code: error.code, message: error.message };
  }
}"""


@pytest.fixture(scope="module")
def test_folder(tmp_path_factory) -> Path:
    """Held-out crops (the bottom half of each photo, seeds the training fixture does not use) in
    sub-folders brick, GRASS and Gravel; "Sand" (no such class) with one photo; "Empty" with only
    a text file (a folder input lists files, so a truly empty folder is invisible to it); "Blank",
    truly empty (a drop sees it); a stray notes file at the top."""
    root = tmp_path_factory.mktemp("test-set") / "surfaces-test"
    for index, texture in enumerate(TEXTURES):
        folder = next(name for name, cls in FOLDERS.items() if cls == CLASS_OF[texture])
        texture_crops(root / folder, texture, PER_CLASS, "held-out", seed=300 + index)
    sand = root / "Sand"
    sand.mkdir()
    source = next((root / "Gravel").iterdir())
    Image.open(source).save(sand / "sand-1.png")
    (root / "Empty").mkdir()
    (root / "Empty" / "notes.txt").write_text("nothing to see\n")
    (root / "Blank").mkdir()
    (root / "notes.txt").write_text("the test set\n")
    return root


def folder_images(root: Path) -> dict[str, str]:
    """The images the page should test: path within the folder → actual class."""
    return {
        f"{folder}/{path.name}": cls
        for folder, cls in FOLDERS.items()
        for path in sorted((root / folder).iterdir())
    }


def encoded(root: Path, names: list[str]) -> list[dict]:
    return [
        {
            "data": base64.b64encode((root / name).read_bytes()).decode(),
            "className": folder_images(root)[name],
            "name": name,
        }
        for name in names
    ]


@pytest.fixture(scope="module")
def site(surfaces_site, serve_site_module):
    return serve_site_module(surfaces_site)


@pytest.fixture(scope="module")
def trained(browser, site, page_trained):
    """One trained page for the module: the visitor's project file opened in a fresh profile."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    session = record_traffic(context.new_page())
    page = session.page
    page.goto(site.url)
    wait_ready(page)
    page.set_input_files('[data-testid="import-project"]', str(page_trained().project_file))
    expect(page.locator('[data-testid="message"]')).to_contain_text("Imported", timeout=60_000)
    expect(page.locator('[data-testid="train-status"]')).to_have_attribute("data-state", "done")
    panel = page.locator('[data-testid="test-set"]')
    panel.locator("summary").click()
    yield session
    context.close()


def counts(page) -> dict[str, int]:
    return {item["name"]: item["count"] for item in page.evaluate("() => window.teachkit.classes()")}


def csv_rows(page) -> list[dict]:
    with page.expect_download() as download:
        page.click('[data-testid="test-set-csv"]')
    text = Path(download.value.path()).read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    assert reader.fieldnames == ["file", "actual", "predicted", *[f"p_{name}" for name in CLASSES]]
    return list(reader)


def wilson(correct: int, n: int) -> tuple[float, float]:
    p = correct / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 / (1 + Z95**2 / n) * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def recompute(rows: list[dict]) -> dict:
    """The report, from the page's per-image answers alone."""
    confusion = {a: {p: 0 for p in CLASSES} for a in CLASSES}
    for row in rows:
        confusion[row["actual"]][row["predicted"]] += 1
    correct = sum(confusion[name][name] for name in CLASSES)
    per_class = {}
    for name in CLASSES:
        tp = confusion[name][name]
        n = sum(confusion[name].values())
        predicted = sum(confusion[other][name] for other in CLASSES)
        fp, fn = predicted - tp, n - tp
        per_class[name] = {
            "precision": tp / predicted if predicted else None,
            "recall": tp / n if n else None,
            "f1": 2 * tp / (2 * tp + fp + fn) if (2 * tp + fp + fn) else None,
            "n": n,
        }
    return {
        "accuracy": correct / len(rows),
        "interval": wilson(correct, len(rows)),
        "count": len(rows),
        "correct": correct,
        "confusion": confusion,
        "perClass": per_class,
    }


def number(text: str | None) -> float | None:
    return None if text in (None, "") else float(text)


def close(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and math.isclose(a, b, abs_tol=1e-9))


def assert_report_matches(page, expected: dict) -> None:
    """The panel's data-* hooks hold exactly the numbers recomputed from the answers."""
    report = page.locator('[data-testid="test-set-report"]')
    assert int(report.get_attribute("data-count")) == expected["count"]
    assert int(report.get_attribute("data-correct")) == expected["correct"]
    assert close(number(report.get_attribute("data-accuracy")), expected["accuracy"])
    assert close(number(report.get_attribute("data-low")), expected["interval"][0])
    assert close(number(report.get_attribute("data-high")), expected["interval"][1])
    for name, metrics in expected["perClass"].items():
        row = page.locator(f'[data-testid="test-set-per-class"] tr[data-class-name="{name}"]')
        assert int(row.get_attribute("data-n")) == metrics["n"], name
        for key in ("precision", "recall", "f1"):
            assert close(number(row.get_attribute(f"data-{key}")), metrics[key]), (name, key)
    for actual, row in expected["confusion"].items():
        for predicted, count in row.items():
            cell = page.locator(
                f'[data-testid="test-set-confusion"] td[data-actual="{actual}"][data-predicted="{predicted}"]'
            )
            expect(cell).to_have_text(str(count))


def assert_answers_consistent(rows: list[dict]) -> None:
    """Each row's prediction is its most probable class, and its probabilities sum to 1."""
    for row in rows:
        probabilities = {name: float(row[f"p_{name}"]) for name in CLASSES}
        assert max(probabilities, key=probabilities.get) == row["predicted"], row
        assert math.isclose(sum(probabilities.values()), 1, abs_tol=1e-4), row


def test_a_chosen_folder_is_tested_and_every_number_agrees_with_the_answers(trained, test_folder):
    page = trained.page
    before = counts(page)
    page.set_input_files('[data-testid="test-set-folder"]', str(test_folder))
    panel = page.locator('[data-testid="test-set"]')
    expect(panel).to_have_attribute("data-state", "done", timeout=120_000)
    message = page.locator('[data-testid="test-set-message"]')
    expect(message).to_be_visible()
    expect(message).to_contain_text('"Sand": no class has that name')
    expect(message).to_contain_text('"Empty": no images in it')
    expect(message).to_contain_text("2 files that are not images")

    rows = csv_rows(page)
    expected_images = folder_images(test_folder)
    assert len(rows) == len(expected_images) == 3 * PER_CLASS  # one row per image, Sand left out
    assert {row["file"]: row["actual"] for row in rows} == expected_images
    assert_answers_consistent(rows)
    expected = recompute(rows)
    assert expected["accuracy"] >= 0.8, expected  # held-out photos of three clear textures
    assert_report_matches(page, expected)

    # The mistakes: exactly the wrong rows, the most confident first.
    wrong = {row["file"] for row in rows if row["actual"] != row["predicted"]}
    mistakes = page.locator('[data-testid="test-set-mistakes"] li')
    expect(mistakes).to_have_count(len(wrong))
    shown = [
        (item.get_attribute("data-file"), float(item.get_attribute("data-confidence")))
        for item in mistakes.all()
    ]
    assert {name for name, _ in shown} == wrong
    assert [c for _, c in shown] == sorted((c for _, c in shown), reverse=True)

    assert counts(page) == before  # no test image became a sample
    expect(page.locator('[data-testid="test-set-report"]')).not_to_contain_text("null")
    assert violations(page) == []
    assert not trained.console_errors


def test_a_dropped_folder_names_its_truly_empty_folders_too(trained, test_folder):
    """A real folder drop (Chromium's drag data with the folder's path, as the system's file manager
    gives it): the page reads the directory entries, so it sees the empty "Blank" too."""
    page = trained.page
    before = counts(page)
    zone = page.locator('[data-testid="test-set-drop"]')
    zone.scroll_into_view_if_needed()
    box = zone.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    cdp = page.context.new_cdp_session(page)
    data = {"items": [], "files": [str(test_folder)], "dragOperationsMask": 1}
    for kind in ("dragEnter", "dragOver", "drop"):
        cdp.send("Input.dispatchDragEvent", {"type": kind, "x": x, "y": y, "data": data})
    message = page.locator('[data-testid="test-set-message"]')
    expect(message).to_contain_text('"Blank", "Empty": no images in it', timeout=120_000)
    expect(message).to_contain_text('"Sand": no class has that name')
    expect(page.locator('[data-testid="test-set"]')).to_have_attribute("data-state", "done", timeout=120_000)
    expect(message).to_contain_text("Tested 66 images")
    rows = csv_rows(page)
    assert {row["file"]: row["actual"] for row in rows} == folder_images(test_folder)
    assert_report_matches(page, recompute(rows))
    assert counts(page) == before


def test_images_of_one_class_and_the_api_give_the_same_answers(trained, test_folder):
    page = trained.page
    before = counts(page)
    grass = sorted((test_folder / "GRASS").iterdir())[:6]
    page.select_option('[data-testid="test-set-class"]', "Grass")
    page.set_input_files('[data-testid="test-set-files"]', [str(path) for path in grass])
    expect(page.locator('[data-testid="test-set-message"]')).to_contain_text(
        "Tested 6 images", timeout=60_000
    )
    rows = csv_rows(page)
    assert [row["file"] for row in rows] == [path.name for path in grass]
    assert {row["actual"] for row in rows} == {"Grass"}
    expected = recompute(rows)
    assert expected["perClass"]["Grass"]["n"] == 6
    assert expected["perClass"]["Brick"]["n"] == 0
    assert_report_matches(page, expected)

    # The API, on the same images as Blobs: the same answers, by class name.
    names = [f"GRASS/{path.name}" for path in grass] + sorted(folder_images(test_folder))[:4]
    result = page.evaluate(EVALUATE, encoded(test_folder, names))["value"]
    assert result["classes"] == CLASSES
    assert [item["name"] for item in result["items"]] == names
    by_file = {f"GRASS/{row['file']}": row for row in rows}
    for item in result["items"][:6]:
        row = by_file[item["name"]]
        assert item["predicted"] == row["predicted"]
        assert math.isclose(item["confidence"], float(row[f"p_{row['predicted']}"]), rel_tol=1e-6)
        assert item["confidences"].keys() == set(CLASSES)
    again = recompute([{"actual": i["actual"], "predicted": i["predicted"]} for i in result["items"]])
    assert result["count"] == again["count"] == len(names)
    assert math.isclose(result["accuracy"], again["accuracy"])
    assert all(math.isclose(a, b) for a, b in zip(result["interval"], again["interval"], strict=True))
    assert [[again["confusion"][a][p] for p in CLASSES] for a in CLASSES] == result["confusion"]
    for name in CLASSES:
        for key, value in again["perClass"][name].items():
            assert close(result["perClass"][name][key], value), (name, key)
    assert counts(page) == before


def test_stop_ends_a_test_with_a_report_of_what_was_tested(trained, test_folder):
    page = trained.page
    files = encoded(test_folder, sorted(folder_images(test_folder)))
    page.evaluate(START_EVALUATE, {"files": files, "repeat": 4})
    stop = page.locator('[data-testid="test-set-stop"]')
    expect(stop).to_be_visible()
    expect(page.locator('[data-testid="test-set"]')).to_have_attribute("data-state", "running")
    # A second test while one runs is refused.
    busy = page.evaluate(EVALUATE, files[:1])
    assert busy["code"] == "busy", busy
    stop.click()
    result = page.evaluate("() => window.testRun")["value"]
    assert result["stopped"] is True
    assert 0 < result["count"] < result["total"] == 4 * len(files)
    expect(page.locator('[data-testid="test-set-report"]')).to_have_attribute("data-stopped", "true")
    expect(stop).to_be_hidden()


def test_evaluate_refuses_what_it_cannot_test(trained, test_folder, browser, site):
    page = trained.page
    one = encoded(test_folder, sorted(folder_images(test_folder))[:1])
    unknown = page.evaluate(EVALUATE, [{**one[0], "className": "Sand"}])
    assert unknown["code"] == "unknown_class", unknown
    assert '"Sand"' in unknown["message"] and '"Grass"' in unknown["message"]
    assert page.evaluate(EVALUATE, [])["code"] == "bad_argument"
    assert page.evaluate(CALL, {"method": "evaluate", "args": ["not a list"]})["code"] == "bad_argument"

    # While training runs: busy. train() is in its training state before its first await, and the
    # views render on every change, so both are seen at once (training replaces the module's head:
    # this is the module's last test).
    busy = page.evaluate(BUSY_WHILE_TRAINING, one)
    assert busy["code"] == "busy", busy
    assert busy["disabled"] is True

    # A page with no trained model.
    context = browser.new_context()
    try:
        fresh = context.new_page()
        fresh.goto(site.url)
        wait_ready(fresh)
        refused = fresh.evaluate(EVALUATE, one)
        assert refused["code"] == "not_trained", refused
        expect(fresh.locator('[data-testid="test-set-choose-folder"]')).to_be_disabled()
    finally:
        context.close()


def api_version() -> str:
    """The page's API version, as page_api.js declares it."""
    source = (Path(__file__).resolve().parent.parent / "templates/app/api/page_api.js").read_text()
    return re.search(r'API_VERSION = "([^"]+)"', source).group(1)


def test_a_host_page_evaluates_its_own_images_without_asking(open_page, hosts, embeddable):  # noqa: F811
    """Through embed.js: the host's images, so no consent dialog; elements arrive as ImageBitmaps."""
    session = open_host(open_page, f"{hosts['allowed']}probe.html?sites={embeddable[0]}")
    page = session.page
    assert page.evaluate(CONNECT, {"index": 0, "timeout": 15000}) == "connected"
    hues = {"Brick": 0, "Grass": 120, "Gravel": 240}
    page.evaluate(ADD_COLOURS, {"index": 0, "classes": hues})
    result = page.evaluate(HOST_EVALUATE, hues)
    assert result.get("version") == api_version(), result
    report = result["value"]
    assert report["count"] == 3 and report["classes"] == CLASSES
    assert [item["name"] for item in report["items"]] == ["Brick.png", "Grass.png", "Gravel.png"]
    assert sum(row[i] for i, row in enumerate(report["confusion"])) == report["correct"]
    frame = page.frame_locator("#frame-0")
    expect(frame.locator('[data-testid="approval"]')).to_be_hidden()
    assert frame.locator('[data-testid="sample-count"]').all_text_contents() == ["6", "6", "6"]
