"""The teaching surface as a student meets it: on one laptop screen and on a phone, with no
accessibility violations (axe-core) in any state, the camera's picture where it is used, no
sideways scrolling, and the whole flow by keyboard alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from .support.browser import CHROMIUM_ARGS, chromium_executable, record_traffic
from .support.pagekit import card, wait_ready
from .support.site import build_project

AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SIX_CLASSES = [
    f"{word} " + "x" * (39 - len(word)) for word in ("Oak", "Maple", "Birch", "Ash", "Elm", "Lime")
]
SIX_PROJECT = 'title = "Trees"\nclasses = [{}]\n'.format(", ".join(f'"{name}"' for name in SIX_CLASSES))

# Flat colours, a hue per class: enough for the page to tell classes apart, fast to make.
ADD_COLOURS = """async ({ names, perClass }) => {
  const canvas = document.createElement("canvas");
  canvas.width = 160;
  canvas.height = 120;
  const context = canvas.getContext("2d");
  for (const [index, name] of names.entries()) {
    const images = [];
    for (let k = 0; k < perClass; k += 1) {
      context.fillStyle = `hsl(${(index * 360) / names.length + 3 * k}, 75%, ${35 + 2 * k}%)`;
      context.fillRect(0, 0, 160, 120);
      images.push(await createImageBitmap(canvas));
    }
    await window.teachkit.addImages(name, images);
  }
}"""

PREDICT_COLOUR = """async () => {
  const canvas = document.createElement("canvas");
  canvas.width = 160;
  canvas.height = 120;
  const context = canvas.getContext("2d");
  context.fillStyle = "hsl(2, 75%, 40%)";
  context.fillRect(0, 0, 160, 120);
  await window.teachkit.predict(await new Promise((resolve) => canvas.toBlob(resolve)));
}"""

START_LONG_TRAINING = """() => {
  window.training = window.teachkit.train({ training: { epochs: 1000 } });
}"""

AXE_RUN = """async () => {
  const { violations, passes } = await axe.run(document);
  return {
    passed: passes.length,
    violations: violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target).join("; ")})`),
  };
}"""


@pytest.fixture(scope="module")
def camera_browser(playwright):
    """Chromium with its fake camera (a moving test pattern) and camera permission granted."""
    browser = playwright.chromium.launch(
        executable_path=chromium_executable(),
        headless=True,
        args=[*CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"],
    )
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def six_class_site(tmp_path_factory, lite0_sites):
    lite0_sites("auto")
    return build_project(tmp_path_factory.mktemp("six"), SIX_PROJECT)


@pytest.fixture
def open_sized(camera_browser, serve_site):
    contexts = []

    def open_(site: Path, viewport: dict):
        context = camera_browser.new_context(viewport=viewport)
        contexts.append(context)
        session = record_traffic(context.new_page())
        server = serve_site(site)
        session.page.goto(server.url)
        wait_ready(session.page)
        return session

    yield open_
    for context in contexts:
        context.close()


def violations(page) -> list[str]:
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(AXE.read_text() + "\n;0")
    result = page.evaluate(AXE_RUN)
    assert result["passed"] > 10  # axe really looked at the page
    return result["violations"]


def in_viewport(page, locator) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    return (
        bool(box)
        and box["y"] >= 0
        and box["x"] >= 0
        and box["y"] + box["height"] <= size["height"]
        and (box["x"] + box["width"] <= size["width"])
    )


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
@pytest.mark.parametrize("classes", [3, 6])
def test_no_accessibility_violations_in_any_state(
    classes, viewport, surfaces_site, six_class_site, open_sized
):
    site = surfaces_site if classes == 3 else six_class_site
    page = open_sized(site, viewport).page
    names = [item["name"] for item in page.evaluate("window.teachkit.classes()")]
    found = {"fresh": violations(page)}
    page.evaluate(ADD_COLOURS, {"names": names, "perClass": 8})
    found["samples added"] = violations(page)
    page.evaluate(START_LONG_TRAINING)
    expect(page.locator('[data-testid="chart-loss"]')).not_to_have_attribute(
        "data-points", "0", timeout=60_000
    )
    found["training"] = violations(page)
    page.evaluate("window.teachkit.stopTraining()")
    expect(page.locator('[data-testid="train-status"]')).to_have_attribute(
        "data-state", "done", timeout=60_000
    )
    expect(page.locator('[data-testid="confusion-matrix"]')).to_have_attribute("data-classes", str(classes))
    found["trained"] = violations(page)
    page.evaluate(PREDICT_COLOUR)
    expect(page.locator('[data-testid="prediction"]')).to_have_attribute("data-count", "1")
    found["prediction shown"] = violations(page)
    assert {state: problems for state, problems in found.items() if problems} == {}


def hold(page, button, seconds: float) -> None:
    button.hover()
    page.mouse.down()
    page.wait_for_timeout(seconds * 1000)
    page.mouse.up()


def test_one_laptop_screen_holds_the_whole_flow(surfaces_site, open_sized):
    page = open_sized(surfaces_site, LAPTOP).page
    page.evaluate(ADD_COLOURS, {"names": ["Brick", "Grass", "Gravel"], "perClass": 12})
    record = card(page, "Brick").locator('[data-testid="record"]')
    preview = card(page, "Brick").locator('[data-testid="preview"]')

    hold(page, record, 0.5)  # the first press starts the camera and shows its picture
    expect(preview).to_be_visible()
    record.hover()
    page.mouse.down()
    expect(record).to_have_attribute("aria-pressed", "true")
    assert in_viewport(page, record) and in_viewport(page, preview)
    assert preview.evaluate("video => video.readyState") >= 2
    page.mouse.up()
    expect(record).to_have_attribute("aria-pressed", "false")

    page.evaluate("window.teachkit.train({ training: { epochs: 5 } })")
    page.evaluate(PREDICT_COLOUR)
    assert in_viewport(page, page.locator('[data-testid="train"]'))
    bars = page.locator('[data-testid="prediction-bars"]')
    expect(bars.locator("li")).to_have_count(3)
    assert in_viewport(page, bars)
    assert in_viewport(page, page.locator('[data-testid="predicted-image"]'))


def test_on_a_phone_the_picture_is_in_the_card_being_recorded(surfaces_site, open_sized):
    page = open_sized(surfaces_site, PHONE).page
    record = card(page, "Grass").locator('[data-testid="record"]')
    preview = card(page, "Grass").locator('[data-testid="preview"]')
    record.scroll_into_view_if_needed()
    hold(page, record, 0.3)
    expect(preview).to_be_visible()
    record.hover()
    page.mouse.down()
    expect(record).to_have_attribute("aria-pressed", "true")
    assert in_viewport(page, preview)
    page.mouse.up()


def test_with_the_camera_off_a_press_records_nothing_before_the_picture_shows(surfaces_site, open_sized):
    page = open_sized(surfaces_site, LAPTOP).page
    count = card(page, "Brick").locator('[data-testid="sample-count"]')
    preview = card(page, "Brick").locator('[data-testid="preview"]')

    hold(page, card(page, "Brick").locator('[data-testid="record"]'), 2)

    expect(preview).to_be_visible()
    expect(page.locator('[data-testid="message"]')).to_contain_text("The camera is on")
    assert preview.evaluate("video => video.readyState") >= 2
    assert count.text_content() == "0"
    hold(page, card(page, "Brick").locator('[data-testid="record"]'), 1)  # now it records
    expect(count).not_to_have_text("0")


def test_no_sideways_scrolling_on_a_narrow_phone(six_class_site, open_sized):
    page = open_sized(six_class_site, {"width": 360, "height": 780}).page
    page.evaluate(ADD_COLOURS, {"names": SIX_CLASSES, "perClass": 8})
    page.evaluate("window.teachkit.train({ training: { epochs: 3 } })")
    expect(page.locator('[data-testid="confusion-matrix"]')).to_have_attribute("data-classes", "6")
    page.evaluate(PREDICT_COLOUR)
    width = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1], width


def focused(locator) -> bool:
    return locator.evaluate("element => element === document.activeElement")


def tab_to(page, locator, limit: int = 40) -> int:
    """Presses Tab until `locator` has the focus; returns how many presses it took."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if focused(locator):
            return presses
    raise AssertionError(f"{locator} not reached in {limit} Tabs")


def press_for_files(page, choosers: list, key: str, files) -> None:
    """Presses `key` on the focused control and answers the file chooser it opens."""
    page.keyboard.press(key)
    for _ in range(200):
        if choosers:
            choosers.pop(0).set_files(files)
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"{key} opened no file chooser")


def test_the_whole_flow_by_keyboard(surfaces_site, open_sized, texture_files):
    page = open_sized(surfaces_site, LAPTOP).page
    # Listening from the start: Playwright's expect_file_chooser can miss a chooser that opens
    # before its interception is switched on.
    choosers = []
    page.on("filechooser", lambda chooser: choosers.append(chooser))
    tab_to(page, page.locator('[data-testid="add-class"]'), 80)
    page.keyboard.press("Enter")
    name = card(page, "Class 4").locator("input.class-name")
    expect(name).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type("Sand")
    page.keyboard.press("Enter")
    expect(card(page, "Sand")).to_have_count(1)

    for class_name, texture in (
        ("Brick", "brick"),
        ("Grass", "grass"),
        ("Gravel", "gravel"),
        ("Sand", "gravel"),
    ):
        tab_to(page, card(page, class_name).locator('[data-testid="upload-button"]'), 80)
        press_for_files(page, choosers, "Enter", [str(f) for f in texture_files[texture]["train"][:6]])
        expect(card(page, class_name).locator('[data-testid="sample-count"]')).to_have_text(
            "6", timeout=30_000
        )
    # One tab stop per thumbnail grid: from the last card's upload to Train is a short walk.
    assert tab_to(page, page.locator('[data-testid="train"]')) <= 12

    record = card(page, "Sand").locator('[data-testid="record"]')
    tab_to(page, record, 80)
    page.keyboard.down(" ")  # with the camera off: starts it, records nothing
    page.keyboard.up(" ")
    expect(card(page, "Sand").locator('[data-testid="preview"]')).to_be_visible()
    page.keyboard.down(" ")
    expect(card(page, "Sand").locator('[data-testid="sample-count"]')).not_to_have_text("6", timeout=20_000)
    page.keyboard.up(" ")
    expect(record).to_have_attribute("aria-pressed", "false")

    tab_to(page, page.locator('[data-testid="train"]'))
    page.keyboard.press("Enter")
    expect(page.locator('[data-testid="train-status"]')).to_have_attribute(
        "data-state", "done", timeout=120_000
    )
    tab_to(page, page.locator('[data-testid="predict-choose"]'))
    press_for_files(page, choosers, " ", str(texture_files["grass"]["held-out"][0]))
    expect(page.locator('[data-testid="prediction"]')).to_have_attribute(
        "data-label", "Grass", timeout=30_000
    )

    count = card(page, "Brick").locator('[data-testid="sample-count"]')
    tab_to(page, card(page, "Brick").locator('.thumb[tabindex="0"]'), 80)
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Delete")
    expect(count).to_have_text("5")
    tab_to(page, page.locator('[data-testid="undo"]'), 80)
    page.keyboard.press("Enter")
    expect(count).to_have_text("6")
