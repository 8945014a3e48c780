"""The teacher's view of a class (issue 22): three students teach the Surfaces page on different
real photos and hand in to a class on the real receiver (`teachkit receive` on loopback); the
teacher opens the page with ?teacher in a fresh profile and compares them on their own test images.
Every number is checked against the page's own `openPublished` + `predict`, image by image; the
test images never leave the teacher's browser."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import socket
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .support.browser import record_traffic
from .support.images import TEXTURES, texture_crops
from .support.pagekit import API_BLOB_BASE64, CLASS_OF, PROJECT, train, upload, wait_ready
from .support.receivers import hand_in, make_class, make_package, start_receiver
from .support.site import build_project
from .test_layout import violations

# (name, crops of each texture it trains on, their size in pixels, the seed of its crops, a mix-up:
# texture → the texture of photos wrongly added to its class): three students, three different sets
# of photos (from the top halves of the textures, never the test images' bottom halves), some few,
# small or mixed up, so that the models differ.
STUDENTS = [
    ("Ada", 10, 128, 1, {}),
    ("Bo", 4, 48, 2, {}),
    ("Cy", 2, 32, 3, {"gravel": "grass", "brick": "gravel"}),
]
# The test images: crops of many sizes.
TEST_SIZES = (24, 40, 64, 96, 128, 160)
CLASSES = sorted(CLASS_OF.values())

# The test images as Blobs in the page: [{image, className, name}] from [[base64, className, name]].
ITEMS = """(items) => items.map(([data, className, name]) => ({
  image: new File([Uint8Array.from(atob(data), (c) => c.charCodeAt(0))], name, { type: "image/png" }),
  className,
  name,
}))"""

COMPARE = (
    """async ([auth, items, options]) => {
  const images = ("""
    + ITEMS
    + """)(items);
  return window.teachkit.compareSubmissions(auth, images, options);
}"""
)

# Each submission opened as the cloud feature opens it, and every image predicted by it.
PREDICT_EACH = (
    """async ([urls, items]) => {
  const images = ("""
    + ITEMS
    + """)(items);
  const out = {};
  for (const url of urls) {
    await window.teachkit.openPublished(url);
    out[url] = [];
    for (const item of images) out[url].push(await window.teachkit.predict(item.image));
  }
  await window.teachkit.closePublished();
  return out;
}"""
)


HAND_IN = "([code, name]) => window.teachkit.handIn({ code, name })"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def origin(url: str) -> str:
    return re.match(r"https?://[^/]+", url).group(0)


def renamed(package: bytes, labels: list[str]) -> bytes:
    """The same model under other class names (metadata.json and labels.txt)."""
    source = zipfile.ZipFile(io.BytesIO(package))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "metadata.json":
                data = json.dumps({**json.loads(data), "labels": labels}).encode()
            elif info.filename == "labels.txt":
                data = ("\n".join(labels) + "\n").encode()
            target.writestr(info, data)
    return out.getvalue()


@dataclass
class Classroom:
    site_url: str
    receiver_url: str
    code: str
    token: str
    ids: dict[str, str]  # name → submission id
    packages: dict[str, bytes]  # name → the model download handed in
    store: str  # the receiver's --store
    test_folder: Path
    tests: list[tuple[Path, str]]  # (file, class), in the order the view sorts them


@pytest.fixture(scope="module")
def classroom(tmp_path_factory, browser, lite0_sites, serve_site_module):
    lite0_sites("auto")
    work = tmp_path_factory.mktemp("classroom")
    port = free_port()
    site_dir = build_project(work / "site", PROJECT + f'\n[cloud]\nurl = "http://127.0.0.1:{port}/"\n')
    site = serve_site_module(site_dir)
    store = str(work / "store")
    tests = []
    folder = work / "test-images" / "Surfaces test"
    for index, texture in enumerate(TEXTURES):
        target = folder / CLASS_OF[texture]
        target.mkdir(parents=True)
        for size in TEST_SIZES:
            (crop,) = texture_crops(
                work / "crops", texture, 1, "held-out", seed=200 + size + index, size=size
            )
            tests.append((crop.rename(target / f"{size}-{crop.name}"), CLASS_OF[texture]))
    tests.sort(key=lambda pair: f"{pair[1]}/{pair[0].name}")
    # A class's rate (docs/teachers.md): every test here reads from one address.
    options = ["--port", str(port), "--rate", "600"]
    with start_receiver(store, [origin(site.url)], extra_args=options) as receiver:
        assert receiver.url == f"http://127.0.0.1:{port}/"
        klass = make_class("7b surfaces", store=store)
        ids = {}
        packages = {}
        for name, count, size, seed, mixups in STUDENTS:
            context = browser.new_context()
            try:
                page = context.new_page()
                page.goto(site.url)
                wait_ready(page)
                for index, texture in enumerate(TEXTURES):
                    crops = texture_crops(
                        work / name, texture, count, "train", seed=seed * 10 + index, size=size
                    )
                    if texture in mixups:
                        crops += texture_crops(
                            work / name / "mixed", mixups[texture], count, "train", seed=seed, size=size
                        )
                    upload(page, CLASS_OF[texture], crops, len(crops))
                train(page)
                # Handed in as a student does (the page's package, name and training numbers);
                # the same package downloaded, for the renamed copy below.
                ids[name] = page.evaluate(HAND_IN, [klass["code"], name])["id"]
                packages[name] = base64.b64decode(page.evaluate(API_BLOB_BASE64, "downloadModel"))
            finally:
                context.close()
        others = {
            "Dee": renamed(packages["Ada"], ["Brick", "Grass", "Sand"]),
            "Eve": make_package(labels=CLASSES),
        }
        for name, package in others.items():
            reply = hand_in(receiver.url, klass["code"], package, name, metrics="{}")
            assert reply.status == 201, reply.body
            ids[name] = reply.json()["id"]
        yield Classroom(
            site.url,
            receiver.url,
            klass["code"],
            klass["teacher_token"],
            ids,
            {**packages, **others},
            store,
            folder.parent,
            tests,
        )


def items_arg(tests: list[tuple[Path, str]]) -> list[list[str]]:
    return [
        [base64.b64encode(path.read_bytes()).decode(), class_name, f"{class_name}/{path.name}"]
        for path, class_name in tests
    ]


def teacher_page(browser, classroom: Classroom, viewport=None):
    context = browser.new_context(viewport=viewport or {"width": 1280, "height": 800}, accept_downloads=True)
    session = record_traffic(context.new_page())
    bodies = []
    session.page.on(
        "request", lambda request: bodies.append((request.method, request.url, request.post_data_buffer))
    )
    session.page.goto(classroom.site_url + "?teacher")
    wait_ready(session.page)
    return context, session, bodies


def enter(page, classroom: Classroom, token: str | None = None) -> None:
    page.fill('[data-testid="teacher-code"]', classroom.code.lower()[:3] + "-" + classroom.code.lower()[3:])
    page.fill('[data-testid="teacher-token"]', token or classroom.token)
    page.click('[data-testid="teacher-load"]')


def compare_on_screen(page, classroom: Classroom) -> None:
    page.set_input_files('[data-testid="teacher-folder"]', str(classroom.test_folder))
    expect(page.locator('[data-testid="teacher-images"]')).to_have_attribute(
        "data-count", str(len(classroom.tests))
    )
    page.click('[data-testid="teacher-compare"]')
    expect(page.locator('[data-testid="teacher"]')).to_have_attribute("data-state", "done", timeout=120_000)


def assert_only_site_and_receiver_gets(bodies, classroom: Classroom) -> None:
    allowed = {origin(classroom.site_url), origin(classroom.receiver_url)}
    for method, url, body in bodies:
        if url.startswith(("blob:", "data:")):
            continue
        assert origin(url) in allowed, url
        assert method == "GET", (method, url)
        assert body is None, (method, url)
        if origin(url) == origin(classroom.receiver_url):
            assert re.search(r"/(classes/[A-Z0-9]+/submissions|models/[^/]+/.*)$", url), url


def test_the_teacher_compares_the_class_and_every_number_is_the_models_own(browser, classroom):
    context, session, bodies = teacher_page(browser, classroom)
    page = session.page
    try:
        # The teacher's panel instead of the teaching columns.
        expect(page.locator('[data-testid="teacher"]')).to_be_visible()
        expect(page.locator('[data-view="classes"]')).to_be_hidden()
        expect(page.locator('[data-testid="train"]')).to_be_hidden()

        enter(page, classroom)
        expect(page.locator('[data-testid="teacher-submission"]')).to_have_count(5, timeout=30_000)
        names = page.locator('[data-testid="teacher-submission"]').evaluate_all(
            "(items) => items.map((item) => item.dataset.name)"
        )
        assert names == ["Ada", "Bo", "Cy", "Dee", "Eve"]
        listing = page.evaluate(
            "(auth) => window.teachkit.classSubmissions(auth)",
            {"code": classroom.code, "token": classroom.token},
        )
        assert [item["name"] for item in listing["submissions"]] == names
        assert listing["title"] == "7b surfaces"

        # Through the API: each comparable model's numbers, then the same models image by image.
        auth = {"code": classroom.code, "token": classroom.token}
        items = items_arg(classroom.tests)
        result = page.evaluate(COMPARE, [auth, items, {"ensemble": True}])
        truths = [class_name for _, class_name in classroom.tests]
        by_name = {item["name"]: item for item in result["items"]}
        assert sorted(by_name) == ["Ada", "Bo", "Cy"]
        urls = {name: f"{classroom.receiver_url}models/{classroom.ids[name]}/" for name in by_name}
        answers = page.evaluate(PREDICT_EACH, [list(urls.values()), items])
        probabilities = {}
        for name, item in by_name.items():
            predicted = answers[urls[name]]
            labels = [answer["label"] for answer in predicted]
            assert item["predictions"] == labels, name
            assert item["count"] == len(truths)
            assert item["correct"] == sum(label == truth for label, truth in zip(labels, truths, strict=True))
            probabilities[name] = [answer["confidences"] for answer in predicted]

        # The ensemble: the mean of the members' probabilities, recomputed here.
        ensemble = result["ensemble"]
        assert sorted(ensemble["ids"]) == sorted(classroom.ids[name] for name in by_name)
        mean = [
            {c: sum(probabilities[name][i][c] for name in by_name) / len(by_name) for c in CLASSES}
            for i in range(len(truths))
        ]
        recomputed = [max(CLASSES, key=lambda c: row[c]) for row in mean]
        assert ensemble["predictions"] == recomputed
        correct = sum(label == truth for label, truth in zip(recomputed, truths, strict=True))
        assert ensemble["correct"] == correct
        accuracies = sorted(item["accuracy"] for item in by_name.values())
        print(
            f"ensemble {correct}/{len(truths)} = {ensemble['accuracy']:.3f}; "
            f"best member {accuracies[-1]:.3f}, worst {accuracies[0]:.3f}; "
            + ", ".join(f"{n} {i['correct']}/{i['count']}" for n, i in by_name.items())
        )
        assert result["spread"]["count"] == 3
        assert result["spread"]["min"] == accuracies[0] and result["spread"]["max"] == accuracies[-1]
        assert len(result["comparisons"]) == 3
        reasons = {item["name"]: item["reason"] for item in result["notComparable"]}
        assert (
            reasons["Dee"] == "its classes are Brick, Grass, Sand; the test images' are Brick, Grass, Gravel"
        )
        assert reasons["Eve"].startswith("made with another base model")

        # On screen: the same numbers, from the folder chosen in the view.
        compare_on_screen(page, classroom)
        rows = page.locator('[data-testid="teacher-row"]')
        expect(rows).to_have_count(3)
        for name, item in by_name.items():
            row = page.locator(f'[data-testid="teacher-row"][data-name="{name}"]')
            expect(row).to_have_attribute("data-correct", str(item["correct"]))
            expect(row).to_have_attribute("data-count", str(item["count"]))
        # Sorted by accuracy, best first; the header says so.
        shown = rows.evaluate_all("(rows) => rows.map((row) => Number(row.dataset.accuracy))")
        assert shown == sorted(shown, reverse=True)
        header = page.locator('th:has([data-sort="name"])')
        header.locator("button").click()
        expect(header).to_have_attribute("aria-sort", "ascending")
        assert rows.evaluate_all("(rows) => rows.map((row) => row.dataset.name)") == ["Ada", "Bo", "Cy"]
        expect(page.locator('[data-testid="teacher-ensemble-row"]')).to_have_attribute(
            "data-correct", str(correct)
        )
        expect(page.locator('[data-testid="teacher-spread"]')).to_contain_text(
            f"3 models on the same {len(truths)} test images"
        )
        not_comparable = page.locator('[data-testid="teacher-not-comparable"] li')
        expect(not_comparable).to_have_count(2)
        expect(not_comparable.filter(has_text="Dee")).to_contain_text("its classes are Brick, Grass, Sand")
        expect(not_comparable.filter(has_text="Eve")).to_contain_text("made with another base model")

        # Two models picked: McNemar's sentence, with the API's counts.
        page.check(f'[data-key="pair:{classroom.ids["Ada"]}"]')
        page.check(f'[data-key="pair:{classroom.ids["Cy"]}"]')
        pair = next(
            c
            for c in result["comparisons"]
            if {c["a"], c["b"]} == {classroom.ids["Ada"], classroom.ids["Cy"]}
        )
        only_ada = pair["onlyA"] if pair["a"] == classroom.ids["Ada"] else pair["onlyB"]
        expect(page.locator('[data-testid="teacher-mcnemar"]')).to_contain_text(
            re.compile(rf"^(Ada was right on {only_ada} image|Ada and Cy were right on exactly)")
        )
        # The ensemble without Cy: its row follows.
        page.uncheck(f'[data-key="ensemble:{classroom.ids["Cy"]}"]')
        expect(page.locator('[data-testid="teacher-ensemble-row"]')).to_have_attribute(
            "data-ids", f"{classroom.ids['Ada']} {classroom.ids['Bo']}"
        )
        page.check(f'[data-key="ensemble:{classroom.ids["Cy"]}"]')
        expect(page.locator('[data-testid="teacher-ensemble-row"]')).to_have_attribute(
            "data-correct", str(correct)
        )

        # The CSV: the table's numbers.
        with page.expect_download() as download:
            page.click('[data-testid="teacher-csv"]')
        text = Path(download.value.path()).read_text(encoding="utf-8")
        table = list(csv.DictReader(io.StringIO(text, newline="")))
        assert [row["name"] for row in table[:3]] == ["Ada", "Bo", "Cy"]
        assert table[3]["name"] == "Ensemble of 3 models"
        for row in table[:3]:
            item = by_name[row["name"]]
            assert (int(row["correct"]), int(row["count"])) == (item["correct"], item["count"])
            assert float(row["accuracy"]) == pytest.approx(item["accuracy"], abs=1e-12)
            assert float(row["interval_low"]) == pytest.approx(item["interval"][0], abs=1e-12)
            for class_name in CLASSES:
                assert float(row[f"recall_{class_name}"]) == pytest.approx(
                    item["perClass"][class_name]["recall"], abs=1e-12
                )
        assert int(table[3]["correct"]) == correct

        # Each submission's files were read once by the teacher's view, whatever it did since (the
        # page's openPublished above reads them once more for itself); the head of a model that is
        # not comparable is never read.
        def reads(name: str, file: str) -> int:
            url = f"{classroom.receiver_url}models/{classroom.ids[name]}/{file}"
            return sum(1 for _, sent, _ in bodies if sent == url)

        assert reads("Eve", "metadata.json") == reads("Dee", "metadata.json") == 1
        assert reads("Dee", "head/model.json") == 0

        # One image through every model: each one's answer, as predict gives it.
        path, _ = classroom.tests[0]
        page.set_input_files('[data-testid="teacher-one-upload"]', str(path))
        one = page.locator('[data-testid="teacher-one-result"] li')
        expect(one).to_have_count(3, timeout=30_000)
        for name in by_name:
            expect(one.filter(has_text=f"{name}:")).to_have_attribute(
                "data-label", answers[urls[name]][0]["label"]
            )

        assert all(reads(name, "head/weights.bin") == 2 for name in by_name)

        # A confusion matrix per row.
        page.locator('[data-testid="teacher-row"][data-name="Ada"] [data-testid="teacher-details"]').click()
        cells = page.locator('[data-testid="teacher-details-row"] [data-testid="teacher-confusion"] td')
        assert sum(int(count) for count in cells.evaluate_all("(c) => c.map((x) => x.dataset.count)")) == len(
            truths
        )

        assert violations(page) == []
        assert_only_site_and_receiver_gets(bodies, classroom)
        assert not session.console_errors, session.console_errors
    finally:
        context.close()


def test_a_wrong_token_is_told_and_a_stopped_run_shows_no_table(browser, classroom, tmp_path):
    context, session, bodies = teacher_page(browser, classroom)
    page = session.page
    try:
        enter(page, classroom, token="not-the-token")
        message = page.locator('[data-testid="teacher-message"]')
        expect(message).to_contain_text("That teacher token is not the one of class")
        expect(message).to_have_attribute("data-kind", "error")
        error = page.evaluate(
            """(auth) => window.teachkit.classSubmissions(auth).then(() => null, (e) => e.code)""",
            {"code": classroom.code, "token": "nope"},
        )
        assert error == "wrong_token"
        unknown = page.evaluate(
            """(auth) => window.teachkit.classSubmissions(auth).then(() => null, (e) => e.code)""",
            {"code": "ZZZ2222", "token": classroom.token},
        )
        assert unknown == "unknown_class_code"

        # A long run (many images) stopped part-way: a clear "stopped", no table.
        folder = tmp_path / "many"
        for index, texture in enumerate(TEXTURES):
            texture_crops(folder / CLASS_OF[texture], texture, 60, "held-out", seed=300 + index)
        enter(page, classroom)
        page.set_input_files('[data-testid="teacher-folder"]', str(folder))
        expect(page.locator('[data-testid="teacher-images"]')).to_have_attribute("data-count", "180")
        page.click('[data-testid="teacher-compare"]')
        run = page.locator('[data-testid="teacher-run"]')
        expect(run).not_to_have_attribute("data-done", "0", timeout=60_000)
        page.click('[data-testid="teacher-stop"]')
        expect(page.locator('[data-testid="teacher"]')).to_have_attribute("data-state", "stopped")
        expect(run).to_contain_text(re.compile(r"Stopped after \d+ of 180 images: nothing was compared"))
        expect(page.locator('[data-testid="teacher-results"]')).to_be_hidden()
        expect(page.locator('[data-testid="teacher-stop"]')).to_be_hidden()
        # A token refused after a list was shown: the list goes.
        expect(page.locator('[data-testid="teacher-class"]')).to_be_visible()
        enter(page, classroom, token="not-the-token")
        expect(message).to_contain_text("That teacher token is not the one of class")
        expect(page.locator('[data-testid="teacher-class"]')).to_be_hidden()
        assert_only_site_and_receiver_gets(bodies, classroom)
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 800}, {"width": 768, "height": 1024}])
def test_the_view_fits_a_laptop_and_a_tablet_and_remembers_only_when_asked(browser, classroom, viewport):
    context, session, _ = teacher_page(browser, classroom, viewport)
    page = session.page
    try:
        page.check('[data-testid="teacher-remember"]')
        enter(page, classroom)
        expect(page.locator('[data-testid="teacher-submission"]')).to_have_count(5, timeout=30_000)
        compare_on_screen(page, classroom)
        page.locator('[data-testid="teacher-details"]').first.click()
        width = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert width[0] <= width[1], width
        assert violations(page) == []
        # Ticked: a reload fills in the code and token.
        page.reload()
        wait_ready(page)
        expect(page.locator('[data-testid="teacher-code"]')).to_have_value(classroom.code)
        expect(page.locator('[data-testid="teacher-token"]')).to_have_value(classroom.token)
        # Unticked: forgotten.
        page.uncheck('[data-testid="teacher-remember"]')
        page.click('[data-testid="teacher-load"]')
        expect(page.locator('[data-testid="teacher-submission"]')).to_have_count(5)
        page.reload()
        wait_ready(page)
        expect(page.locator('[data-testid="teacher-code"]')).to_have_value("")
    finally:
        context.close()


def test_teacher_without_a_cloud_is_the_normal_page_with_a_sentence(browser, surfaces_site, serve_site):
    server = serve_site(surfaces_site)
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(server.url + "?teacher")
        wait_ready(page)
        expect(page.locator('[data-testid="teacher-unavailable"]')).to_contain_text("no class features")
        expect(page.locator('[data-testid="train"]')).to_be_visible()
        assert page.locator('[data-testid="teacher"]').count() == 0
    finally:
        context.close()


def test_the_single_file_has_the_teachers_view_too(browser, classroom, tmp_path):
    port = free_port()
    cloud = f'\n[cloud]\nurl = "http://127.0.0.1:{port}/"\n'
    page_file = next(build_project(tmp_path / "single", PROJECT + cloud, "--single-file").glob("*.html"))
    # A page opened from a file has the origin "null"; a second receiver serves the same store.
    options = ["--port", str(port), "--rate", "600"]
    with start_receiver(classroom.store, ["null"], extra_args=options):
        context = browser.new_context()
        try:
            page = context.new_page()
            page.goto(page_file.as_uri() + "?teacher")
            wait_ready(page)
            enter(page, classroom)
            expect(page.locator('[data-testid="teacher-submission"]')).to_have_count(5, timeout=30_000)
            compare_on_screen(page, classroom)
            expect(page.locator('[data-testid="teacher-row"]')).to_have_count(3)
            expect(page.locator('[data-testid="teacher-not-comparable"] li')).to_have_count(2)
            auth = {"code": classroom.code, "token": classroom.token}
            result = page.evaluate(COMPARE, [auth, items_arg(classroom.tests), {"ensemble": True}])
            for item in result["items"]:
                row = page.locator(f'[data-testid="teacher-row"][data-id="{item["id"]}"]')
                expect(row).to_have_attribute("data-correct", str(item["correct"]))
        finally:
            context.close()
