"""Handing in to a class, from the page, against the real receiver (`teachkit receive`) on loopback
and a class made with `teachkit class create`: three students in their own browsers teach on
different photos and hand in; the teacher's list names them; a second hand-in replaces the first;
another student's name, an unknown code and a closed class are refused on screen and store
nothing; no image reaches the store; a host page hands in only with the visitor's consent. One
site for the module: the receiver's port and the host page's origin are chosen before it is built."""

from __future__ import annotations

import base64
import json
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect

from builder.serve import make_server

from .support.images import TEXTURES, texture_crops
from .support.pagekit import CLASS_OF, PROJECT, train, upload, wait_ready
from .support.receivers import request, start_receiver
from .support.site import build_project, run_cli
from .test_cloud import HOST, HOST_START, PENDING, free_port, origin
from .test_layout import violations

NAMES = ("Ada Lovelace", "Grace Hopper", "Alan Turing")


@pytest.fixture(scope="module")
def ports() -> dict[str, int]:
    """The receiver's port (the site's [cloud] url) and the host page's (its [embed] origin)."""
    return {"receiver": free_port(), "host": free_port()}


@pytest.fixture(scope="module")
def host_url(tmp_path_factory, ports) -> str:
    """A course page on another origin that embeds the site (tests/test_cloud.py's HOST)."""
    directory = tmp_path_factory.mktemp("hand-in-host")
    (directory / "index.html").write_text(HOST)
    server = make_server(directory, "127.0.0.1", ports["host"], False, quiet=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{ports['host']}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def site(tmp_path_factory, lite0_sites, serve_site_module, ports, host_url):
    lite0_sites("auto")
    extra = (
        f'\n[cloud]\nurl = "http://127.0.0.1:{ports["receiver"]}/"\n'
        f'[embed]\nallowed_origins = ["{origin(host_url)}"]\n'
    )
    return serve_site_module(build_project(tmp_path_factory.mktemp("hand-in-site"), PROJECT + extra))


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("hand-in-store") / "store"


@pytest.fixture(scope="module")
def receiver(site, store, ports):
    with start_receiver(
        str(store), [origin(site.url)], extra_args=("--port", str(ports["receiver"]))
    ) as running:
        yield running


def create_class(store: Path, title: str) -> dict:
    """`teachkit class create TITLE --store STORE --json`: {code, title, created, teacher_token}."""
    result = run_cli("class", "create", title, "--store", store, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def submissions(receiver, made: dict) -> dict:
    """The teacher's list of the class's hand-ins (GET with the teacher's token)."""
    answer = request(
        "GET",
        f"{receiver.url}classes/{made['code']}/submissions",
        headers={"Authorization": f"Bearer {made['teacher_token']}"},
    )
    assert answer.status == 200, answer.body
    return answer.json()


def stored(store: Path) -> dict[str, bytes]:
    return {
        path.relative_to(store).as_posix(): path.read_bytes() for path in store.rglob("*") if path.is_file()
    }


def teach(page, directory: Path, seed: int, per_class: int = 8) -> None:
    """Teaches the page on crops of the three texture photos of its own (`seed`), and trains."""
    wait_ready(page)
    for index, texture in enumerate(TEXTURES):
        crops = texture_crops(directory, texture, per_class, "train", seed=seed * 10 + index)
        upload(page, CLASS_OF[texture], crops, per_class)
    train(page)


def hand_in(page, code: str, name: str) -> None:
    """Opens Keep a copy in the cloud → Hand in to your class and hands in."""
    for panel in ("cloud-publish-panel", "hand-in-panel"):
        details = page.locator(f'[data-testid="{panel}"]')
        if not details.evaluate("(element) => element.open"):
            details.locator("summary").first.click()
    page.fill('[data-testid="hand-in-code"]', code)
    page.fill('[data-testid="hand-in-name"]', name)
    page.click('[data-testid="hand-in-send"]')


# A hand-in's refusal as the API gives it: {code, message}.
REFUSAL = """(options) => window.teachkit.handIn(options).then(
  () => ({ code: null }),
  (error) => ({ code: error.code, message: error.message }),
)"""

SAMPLE_JPEGS = """async () => {
  const encode = async (blob) => {
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let binary = "";
    for (let i = 0; i < bytes.length; i += 0x8000)
      binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(binary);
  };
  return Promise.all(window.teachkit.samples().map((sample) => encode(sample.image)));
}"""


def test_three_students_hand_in_and_the_teacher_lists_them(browser, site, receiver, store, tmp_path):
    made = create_class(store, "Year 9 surfaces")
    contexts = [browser.new_context() for _ in NAMES]
    try:
        pages = [context.new_page() for context in contexts]
        for seed, page in enumerate(pages):
            page.goto(site.url)
            teach(page, tmp_path / f"student-{seed}", seed)
        result = [page.locator('[data-testid="hand-in-result"]') for page in pages]

        # Two through the panel (the code as a student types it off the board), one by the API.
        hand_in(pages[0], made["code"].lower()[:3] + " " + made["code"][3:], NAMES[0])
        expect(result[0]).to_have_text(f'Handed in to class {made["code"]} as "{NAMES[0]}".', timeout=60_000)
        hand_in(pages[1], made["code"], NAMES[1])
        expect(result[1]).to_contain_text("Handed in", timeout=60_000)
        third = pages[2].evaluate(
            "(options) => window.teachkit.handIn(options)", {"code": made["code"], "name": NAMES[2]}
        )
        listed = submissions(receiver, made)
        assert sorted(item["name"] for item in listed["submissions"]) == sorted(NAMES)
        ids = {item["name"]: item["id"] for item in listed["submissions"]}
        assert ids[NAMES[2]] == third["id"]
        # The training numbers are the ones each page shows (its evaluation on held-back examples).
        for name, page in zip(NAMES, pages, strict=True):
            (item,) = [each for each in listed["submissions"] if each["name"] == name]
            assert item["labels"] == ["Brick", "Grass", "Gravel"]
            metrics = item["metrics"]
            shown = page.evaluate("() => window.teachkit.evaluation()")
            assert metrics["head"] == "dense"
            assert metrics["epochs"] == page.evaluate("() => window.teachkit.status().training.epochs")
            assert metrics["samplesPerClass"] == {"Brick": 8, "Grass": 8, "Gravel": 8}
            assert metrics["validation"]["accuracy"] == shown["accuracy"]
            assert metrics["validation"]["count"] == shown["count"] > 0
            assert metrics["training"]["count"] == 24 - shown["count"]
            assert 0 <= metrics["training"]["accuracy"] <= 1
        # The model is a model: the receiver serves it like a published one.
        assert request("GET", f"{receiver.url}models/{ids[NAMES[0]]}/").status == 200

        # Ada comes back (the page reloaded: the token is in the browser's storage) and hands in
        # again: hers is replaced, the class still has three.
        pages[0].reload()
        pages[0].evaluate("() => window.teachkit.ready")  # after what the browser kept is loaded
        hand_in(pages[0], made["code"], NAMES[0].upper())
        expect(result[0]).to_contain_text("It replaces what you handed in before", timeout=60_000)
        listed = submissions(receiver, made)
        assert len(listed["submissions"]) == 3
        (ada,) = [item for item in listed["submissions"] if item["name"].lower() == NAMES[0].lower()]
        assert ada["id"] != ids[NAMES[0]]
        assert request("GET", f"{receiver.url}models/{ids[NAMES[0]]}/").status == 404

        # Grace tries Ada's name, then a code nobody made, then a closed class: each is said on
        # screen in the receiver's words (the API gets the same sentence), and nothing is written.
        closed = create_class(store, "Last year")
        assert run_cli("class", "close", closed["code"], "--store", store).exit_code == 0
        unknown = next(code for code in ("HJKMNP2", "HJKMNP3") if code != made["code"])
        before = stored(store)
        for code, name, expected, sentence in [
            (made["code"], " ada  LOVELACE", "name_taken", None),
            (unknown, NAMES[1], "unknown_class_code", f"There is no class with the code {unknown}"),
            (
                closed["code"],
                NAMES[1],
                "class_closed",
                f"The class {closed['code']} no longer takes hand-ins",
            ),
        ]:
            hand_in(pages[1], code, name)
            expect(pages[1].locator('[data-testid="hand-in-send"]')).to_have_text("Hand in", timeout=60_000)
            expect(result[1]).to_have_attribute("data-kind", "error")
            shown = result[1].text_content()
            refusal = pages[1].evaluate(REFUSAL, {"code": code, "name": name})
            assert refusal["code"] == expected, refusal
            assert shown == refusal["message"]
            if sentence:
                assert shown.startswith(sentence), shown
        assert stored(store) == before
        assert len(submissions(receiver, made)["submissions"]) == 3
        assert violations(pages[1]) == []  # both panels open, a refusal shown

        # Not one of the students' example images is anywhere in the store.
        everything = b"".join(stored(store).values())
        for page in pages:
            jpegs = [base64.b64decode(text) for text in page.evaluate(SAMPLE_JPEGS)]
            assert len(jpegs) == 24
            assert not any(jpeg in everything for jpeg in jpegs)
    finally:
        for context in contexts:
            context.close()


def test_a_host_page_hands_in_only_with_the_visitors_consent(
    browser, site, receiver, store, host_url, tmp_path
):
    made = create_class(store, "Embedded")
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{host_url}?site={site.url}")
        expect(page.locator("body")).to_have_attribute("data-connected", "true", timeout=60_000)
        expect(page.locator("iframe")).to_have_count(1)
        # The embedded page itself: a visitor teaches it in the frame.
        teach(page.main_frame.child_frames[0], tmp_path / "embedded", seed=7, per_class=3)
        frame = page.frame_locator("iframe")

        args = [{"code": made["code"], "name": "Host's student"}]
        page.evaluate(HOST_START, {"method": "handIn", "args": args})
        expect(frame.locator('[data-testid="approval-text"]')).to_contain_text(
            "hand in your trained model to a class in the cloud"
        )
        frame.locator('[data-testid="approval-deny"]').click()
        assert page.evaluate(PENDING)["error"] == "forbidden"
        assert submissions(receiver, made)["submissions"] == []

        page.evaluate(HOST_START, {"method": "handIn", "args": args})
        frame.locator('[data-testid="approval-allow"]').click()
        handed = page.evaluate(PENDING)
        assert "error" not in handed, handed
        (item,) = submissions(receiver, made)["submissions"]
        assert (item["id"], item["name"]) == (handed["value"]["id"], "Host's student")

        # The host compares the class on its own test images, <img> elements (they cross as
        # ImageBitmaps): nothing of the visitor's leaves, so no question is asked.
        tests = [
            (path, CLASS_OF[texture])
            for texture in TEXTURES
            for path in texture_crops(tmp_path / "host-tests", texture, 2, "held-out", seed=11)
        ]
        items = [[base64.b64encode(path.read_bytes()).decode(), name] for path, name in tests]
        auth = {"code": made["code"], "token": made["teacher_token"]}
        compared = page.evaluate(HOST_COMPARE, {"auth": auth, "items": items})
        assert "error" not in compared, compared
        (only,) = compared["value"]["items"]
        assert (only["name"], only["count"]) == ("Host's student", len(tests))
        expect(frame.locator('[data-testid="approval-text"]')).to_be_hidden()
    finally:
        context.close()


# The host page's own test images as <img> elements, compared through embed.js.
HOST_COMPARE = """async ({ auth, items }) => {
  const loaded = ([data, className]) =>
    new Promise((resolve, reject) => {
      const image = new Image();
      image.onload = () => resolve({ image, className });
      image.onerror = () => reject(new Error("a test image did not load"));
      image.src = `data:image/png;base64,${data}`;
    });
  const images = await Promise.all(items.map(loaded));
  try {
    return { value: await window.client.compareSubmissions(auth, images, { ensemble: true }) };
  } catch (error) {
    return { error: error.code, message: error.message };
  }
}"""
