"""Self-contained output and privacy: the single HTML file from file:// with no network, moving a
session between copies with the project file, hosting under a sub-path, the WASM builds with and
without cross-origin isolation, and a Content-Security-Policy the browser enforces."""

from __future__ import annotations

import functools
import http.server
import io
import json
import re
import shutil
import threading
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from builder.serve import SiteHandler

from .support.browser import CHROMIUM_ARGS, chromium_executable, record_traffic
from .support.files import project_zip_bomb
from .support.pagekit import CLASS_OF, accuracy, card, collect_and_train, predict, upload, wait_ready
from .support.visitor import import_project

LOCAL_SCHEMES = ("file:", "data:", "blob:")


def open_file_offline(playwright, profile: Path, page_file: Path):
    """A browser with a profile of its own and every network request refused."""
    context = playwright.chromium.launch_persistent_context(
        str(profile), executable_path=chromium_executable(), headless=True, args=CHROMIUM_ARGS, offline=True
    )
    context.route(re.compile(r"^(https?|wss?|ftp)://"), lambda route: route.abort())
    session = record_traffic(context.pages[0] if context.pages else context.new_page())
    session.page.goto(page_file.as_uri())
    wait_ready(session.page)
    return context, session


def counts(page) -> dict[str, str]:
    names = page.locator('[data-testid="class"]').evaluate_all("cards => cards.map(c => c.dataset.className)")
    return {name: card(page, name).locator('[data-testid="sample-count"]').text_content() for name in names}


def test_single_file_works_from_file_url_without_network(
    playwright, surfaces_single_file, texture_files, tmp_path
):
    profile = tmp_path / "profile"
    context, session = open_file_offline(playwright, profile, surfaces_single_file)
    page = session.page

    collect_and_train(page, texture_files)
    assert accuracy(page, texture_files) >= 0.9
    assert page.locator('[data-testid="backend"]').get_attribute("data-build") == "simd"
    # From file:// the workers get the model and WASM as bytes: the page's blob URLs are not theirs.
    expect(page.locator('[data-testid="backend"]')).to_have_attribute("data-workers", "2")
    requests = list(session.requests)
    errors = list(session.console_errors)
    context.close()

    context, session = open_file_offline(playwright, profile, surfaces_single_file)
    assert counts(session.page) == {"Brick": "20", "Grass": "20", "Gravel": "20"}
    expect(session.page.locator('[data-testid="train-status"]')).to_have_attribute("data-state", "done")
    assert predict(session.page, texture_files["gravel"]["held-out"][0])[0] == "Gravel"
    requests += session.requests
    context.close()

    assert [url for url in requests if not url.startswith(LOCAL_SCHEMES)] == []
    assert errors == []


def export_project(page, directory: Path) -> Path:
    with page.expect_download() as download:
        page.click('[data-testid="export-project"]')
    path = directory / download.value.suggested_filename
    download.value.save_as(path)
    return path


def held_out_predictions(page, texture_files) -> list[tuple[str, float]]:
    return [predict(page, file) for files in texture_files.values() for file in files["held-out"]]


def test_project_file_moves_a_session_between_hosted_and_single_file(
    browser, playwright, surfaces_site, surfaces_single_file, serve_site, open_page, texture_files, tmp_path
):
    server = serve_site(surfaces_site)
    hosted = open_page(server.url).page
    collect_and_train(hosted, texture_files)
    upload(hosted, "Brick", texture_files["brick"]["held-out"][:1], 21)  # after training: still exported
    hosted_predictions = held_out_predictions(hosted, texture_files)
    exported = export_project(hosted, tmp_path)
    assert exported.name == "surfaces.teachkit.zip"

    context, session = open_file_offline(playwright, tmp_path / "profile", surfaces_single_file)
    single = session.page
    import_project(single, exported)
    assert counts(single) == {"Brick": "21", "Grass": "20", "Gravel": "20"}
    expect(single.locator('[data-testid="train-status"]')).to_have_attribute("data-state", "done")
    single_predictions = held_out_predictions(single, texture_files)
    back = export_project(single, tmp_path / "back")
    context.close()

    fresh = open_page(server.url).page
    wait_ready(fresh)
    import_project(fresh, back)
    assert counts(fresh) == {"Brick": "21", "Grass": "20", "Gravel": "20"}
    fresh_predictions = held_out_predictions(fresh, texture_files)

    for theirs in (single_predictions, fresh_predictions):
        assert [label for label, _ in theirs] == [label for label, _ in hosted_predictions]
        for (_, confidence), (_, reference) in zip(theirs, hosted_predictions, strict=True):
            assert confidence == pytest.approx(reference, abs=1e-3)
    truth = [CLASS_OF[texture] for texture, files in texture_files.items() for _ in files["held-out"]]
    correct = sum(label == expected for (label, _), expected in zip(hosted_predictions, truth, strict=True))
    assert correct / len(truth) >= 0.9


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def good_project_file(tmp_path_factory, surfaces_site, serve_site_module, browser, texture_files) -> Path:
    context = browser.new_context()
    page = context.new_page()
    page.goto(serve_site_module(surfaces_site).url)
    wait_ready(page)
    for texture in texture_files:
        upload(page, CLASS_OF[texture], texture_files[texture]["train"][:3], 3)
    path = export_project(page, tmp_path_factory.mktemp("exported"))
    context.close()
    return path


@pytest.fixture(scope="module")
def zip_bomb(tmp_path_factory) -> Path:
    """1.5 GB of zeros as the embeddings, deflated to about 1.5 MB (streamed: never in memory)."""
    return project_zip_bomb(tmp_path_factory.mktemp("bomb"))


def corrupt_variants(good: bytes) -> dict[str, tuple[bytes, str]]:
    with zipfile.ZipFile(io.BytesIO(good)) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(entries["teachkit-project.json"])
    short = dict(entries)
    short["embeddings.f32"] = entries["embeddings.f32"][:-4]
    duplicate = dict(entries)
    manifest["classes"][1]["name"] = manifest["classes"][0]["name"].upper()
    duplicate["teachkit-project.json"] = json.dumps(manifest).encode()
    return {
        "truncated.zip": (good[: len(good) // 2], "is not a teachkit project file, or it is damaged"),
        "photos.zip": (
            zip_bytes({"holiday/beach.jpg": b"\xff\xd8\xff", "notes.txt": b"hi"}),
            "does not belong",
        ),
        "traversal.zip": (
            zip_bytes({**entries, "../../evil.txt": b"x"}),
            '"../../evil.txt", which does not belong',
        ),
        "unrelated.zip": (
            zip_bytes({"teachkit-project.json": b'{"format": "other"}'}),
            "is not a teachkit project file",
        ),
        "short.zip": (zip_bytes(short), "embeddings are incomplete"),
        "duplicate.zip": (zip_bytes(duplicate), "names the class"),
        "empty.zip": (b"", "is not a teachkit project file, or it is damaged"),
    }


def test_corrupt_project_files_are_refused_and_change_nothing(
    good_project_file, zip_bomb, surfaces_site, serve_site, open_page, texture_files, tmp_path
):
    server = serve_site(surfaces_site)
    page = open_page(server.url).page
    wait_ready(page)
    upload(page, "Grass", texture_files["grass"]["train"][:5], 5)
    message = page.locator('[data-testid="message"]')

    variants = corrupt_variants(good_project_file.read_bytes())
    # Judged by the sizes in the zip's directory before anything is inflated: the tab survives.
    variants["bomb.zip"] = (
        zip_bomb.read_bytes(),
        '"embeddings.f32" in the project file would unpack to 1536 MB',
    )
    for name, (data, reason) in variants.items():
        path = tmp_path / name
        path.write_bytes(data)
        page.set_input_files('[data-testid="import-project"]', str(path))
        expect(message).to_contain_text(f'"{name}": ', timeout=30_000)
        expect(message).to_contain_text(reason)
        expect(message).to_contain_text("Nothing was changed.")
        assert counts(page) == {"Brick": "0", "Grass": "5", "Gravel": "0"}, name

    page.reload()
    wait_ready(page)
    assert counts(page) == {"Brick": "0", "Grass": "5", "Gravel": "0"}
    import_project(page, good_project_file)  # and a good file still imports
    assert counts(page) == {"Brick": "3", "Grass": "3", "Gravel": "3"}


class PrefixServer:
    """Serves a site under a sub-path, as GitHub Pages serves a project site at /REPO/."""

    def __init__(self, site: Path, root: Path, prefix: str) -> None:
        shutil.copytree(site, root / prefix)
        quiet = type("QuietHandler", (SiteHandler,), {"log_message": lambda *args: None})
        handler = functools.partial(quiet, directory=str(root))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.url = f"{self.origin}/{prefix}/"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_hosted_site_works_under_a_sub_path(surfaces_site, open_page, texture_files, tmp_path):
    server = PrefixServer(surfaces_site, tmp_path, "some/repo")
    try:
        session = open_page(server.url)
        collect_and_train(session.page, texture_files)
        assert accuracy(session.page, texture_files) >= 0.9
        paths = {url.removeprefix(server.origin) for url in session.requests if url.startswith("http")}
        assert all(path.startswith("/some/repo/") for path in paths), paths
        assert [
            url for url in session.requests if not url.startswith((server.origin, "data:", "blob:"))
        ] == []
    finally:
        server.close()


@pytest.mark.parametrize("isolated", [False, True])
def test_wasm_build_follows_cross_origin_isolation(
    isolated, surfaces_site, serve_site, open_page, texture_files
):
    server = serve_site(surfaces_site, isolated=isolated)
    session = open_page(server.url)
    page = session.page
    wait_ready(page)
    backend = page.locator('[data-testid="backend"]')
    cores = page.evaluate("navigator.hardwareConcurrency")
    if isolated:
        assert backend.get_attribute("data-build") == "threaded-simd"
        # TF.js sizes the pool at half the reported cores (at least one, at most four).
        assert backend.get_attribute("data-threads") == str(min(4, max(1, cores // 2)))
    else:
        assert backend.get_attribute("data-build") == "simd"
        assert backend.get_attribute("data-threads") == "1"
    threads = backend.get_attribute("data-threads")
    expect(backend).to_contain_text(f"{threads} thread")
    expect(backend).to_have_attribute("data-workers", str(min(2, cores)))
    for texture, files in texture_files.items():
        upload(page, CLASS_OF[texture], files["train"][:8], 8)
    page.click('[data-testid="train"]')
    expect(page.locator('[data-testid="train-status"]')).to_have_attribute(
        "data-state", "done", timeout=120_000
    )
    assert predict(page, texture_files["grass"]["held-out"][1])[0] == "Grass"
    assert session.console_errors == []
    assert session.foreign_requests(server.url) == []


BLOCKED_FETCH = """async (target) => {
  const violation = new Promise((resolve) => {
    const listener = (event) => resolve(event.effectiveDirective);
    document.addEventListener("securitypolicyviolation", listener, { once: true });
  });
  const outcome = await fetch(target).then(() => "sent", (error) => "refused: " + error.name);
  return { outcome, directive: await violation };
}"""


@pytest.mark.parametrize("mode", ["hosted", "single_file"])
def test_content_security_policy_blocks_other_origins(
    mode, surfaces_site, surfaces_single_file, serve_site, open_page
):
    if mode == "hosted":
        session = open_page(serve_site(surfaces_site).url)
    else:
        session = open_page(surfaces_single_file.as_uri())
    page = session.page
    wait_ready(page)
    policy = page.locator('meta[http-equiv="Content-Security-Policy"]').get_attribute("content")
    assert "default-src 'none'" in policy
    target = "http://127.0.0.2:9/steal"

    result = page.evaluate(BLOCKED_FETCH, target)

    assert result == {"outcome": "refused: TypeError", "directive": "connect-src"}
    assert target not in session.requests


def test_a_hosted_page_opened_as_a_file_says_what_to_do(surfaces_site, browser):
    """Double-clicking dist/index.html gives a plain explanation with both fixes, not "Failed to fetch"."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto((surfaces_site / "index.html").as_uri())
        expect(page.locator('[data-testid="status"]')).to_have_attribute(
            "data-state", "error", timeout=60_000
        )
        message = page.locator('[data-testid="message"]')
        expect(message).to_contain_text("needs a web server")
        expect(message).to_contain_text("teachkit serve")
        expect(message).to_contain_text("--single-file")
    finally:
        context.close()
