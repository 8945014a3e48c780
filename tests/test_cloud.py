"""A copy of the model in the cloud, from the page, against the real receiver (`teachkit receive`) on
loopback: publish, open it by the link in a fresh browser profile, delete it; images leave only when
the visitor ticks the box; a receiver that is down, fails or hangs costs the visitor nothing."""

from __future__ import annotations

import contextlib
import html
import http.server
import io
import json
import re
import socket
import threading
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .support.browser import record_traffic
from .support.pagekit import PROJECT, predict, wait_ready
from .support.receivers import moto_s3, start_receiver
from .support.site import build_project
from .test_layout import violations


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def receiver_port() -> int:
    """The port the cloud site's [cloud] url names: each test starts its receiver (or a broken
    stand-in) there."""
    return free_port()


@pytest.fixture(scope="module")
def cloud_site(tmp_path_factory, lite0_sites, receiver_port) -> Path:
    lite0_sites("auto")
    cloud = f'\n[cloud]\nurl = "http://127.0.0.1:{receiver_port}/"\n'
    return build_project(tmp_path_factory.mktemp("cloud-site"), PROJECT + cloud)


@pytest.fixture(scope="module")
def site(cloud_site, serve_site_module):
    return serve_site_module(cloud_site)


def origin(url: str) -> str:
    return re.match(r"https?://[^/]+", url).group(0)


def open_trained(browser, site_url: str, project_file: Path):
    """A visitor's page with the model they trained (opened from their project file)."""
    context = browser.new_context()
    session = record_traffic(context.new_page())
    page = session.page
    page.goto(site_url)
    wait_ready(page)
    page.set_input_files('[data-testid="import-project"]', str(project_file))
    expect(page.locator('[data-testid="message"]')).to_contain_text("Imported", timeout=60_000)
    return context, session


def publish(page, title: str, note: str = "", include_samples: bool = False) -> None:
    panel = page.locator('[data-testid="cloud-publish-panel"]')
    if not panel.evaluate("(element) => element.open"):
        panel.locator(":scope > summary").click()
    page.fill('[data-testid="cloud-title"]', title)
    page.fill('[data-testid="cloud-note"]', note)
    box = page.locator('[data-testid="cloud-include-samples"]')
    expect(box).not_to_be_checked()  # never ticked for the visitor
    if include_samples:
        box.check()
        expect(page.locator('[data-testid="cloud-samples-warning"]')).to_be_visible()
    page.click('[data-testid="cloud-publish"]')


def published_link(page) -> str:
    link = page.locator('[data-testid="cloud-link"]')
    expect(link).to_have_value(re.compile(r"\?model="), timeout=60_000)
    return link.input_value()


def sample_images(project_file: Path) -> list[bytes]:
    with zipfile.ZipFile(project_file) as archive:
        return [archive.read(name) for name in archive.namelist() if name.startswith("images/")]


class RecordingRelay:
    """Listens on `port` and relays every connection to the receiver on `target`, keeping every
    byte the browser sent: what the receiver received, exactly."""

    def __init__(self, port: int, target: int):
        self.sent = bytearray()
        self.lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", port))
        self.target = target
        self.open = True
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while self.open:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self.pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self.pipe, args=(upstream, client, False), daemon=True).start()

    def pipe(self, source, target, record):
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if record:
                    with self.lock:
                        self.sent += data
                target.sendall(data)
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)

    def close(self):
        self.open = False
        # shutdown() wakes the thread blocked in accept(); close() alone leaves the port listening.
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()

    def form_fields(self) -> dict[str, bytes]:
        """The parts of the multipart upload(s) the browser sent, by field name."""
        sent = bytes(self.sent)
        fields = {}
        for boundary in set(re.findall(rb"multipart/form-data; boundary=([^\r\n;]+)", sent)):
            for part in sent.split(b"--" + boundary)[1:-1]:
                head, _, content = part.partition(b"\r\n\r\n")
                name = re.search(rb'name="([^"]+)"', head).group(1).decode()
                fields[name] = content[:-2]  # the CRLF before the next boundary
        return fields


@contextlib.contextmanager
def relayed_receiver(store: str, origins: list[str], port: int, env: dict | None = None, **options):
    """The real receiver, reached through a RecordingRelay on `port` (where the page's [cloud] url
    points); `options` go to start_receiver."""
    with start_receiver(store, origins, env=env, **options) as receiver:
        relay = RecordingRelay(port, int(receiver.url.rsplit(":", 1)[1].strip("/")))
        try:
            yield receiver, relay
        finally:
            relay.close()


def call_receiver(method: str, url: str, headers: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@contextlib.contextmanager
def store_for(kind: str, tmp_path: Path):
    """(--store value, the receiver's environment, a function listing the store's keys) for a local
    folder or moto's S3 server."""
    if kind == "local":
        folder = tmp_path / "store"
        yield (
            str(folder),
            {},
            lambda: sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()),
        )
        return
    with moto_s3() as s3:
        s3.create_bucket("teachkit-models")
        prefix = "class-7b/"
        yield (
            f"s3://teachkit-models/{prefix}",
            s3.env,
            lambda: sorted(key.removeprefix(prefix) for key in s3.keys("teachkit-models", prefix)),
        )


@pytest.mark.parametrize("store_kind", ["local", "s3"])
def test_published_model_opens_by_its_link_in_a_fresh_profile_and_is_deleted_with_its_token(
    store_kind, browser, site, receiver_port, page_trained, tmp_path
):
    trained = page_trained()
    site_origin = origin(site.url)
    receiver_origin = f"http://127.0.0.1:{receiver_port}/"
    with (
        store_for(store_kind, tmp_path) as (store, env, keys),
        relayed_receiver(store, [site_origin], receiver_port, env) as (receiver, relay),
    ):
        context, student = open_trained(browser, site.url, trained.project_file)
        teacher_context = browser.new_context()
        try:
            publish(student.page, "Surfaces of 7b", note="Bricks, grass and gravel")
            link = published_link(student.page)
            expect(student.page.locator('[data-testid="cloud-published"] li')).to_have_count(1)
            (copy,) = student.page.evaluate("() => window.teachkit.published()")
            model_id = copy["id"]
            assert link == f"{site.url}?model={model_id}"
            assert f"models/{model_id}.json" in keys()

            # What the receiver was sent: the model package, a title and a note; not one image.
            fields = relay.form_fields()
            assert sorted(fields) == ["note", "package", "title"]
            with zipfile.ZipFile(io.BytesIO(fields["package"])) as package:
                assert not any(name.startswith(("images/", "thumbs/")) for name in package.namelist())
            assert not any(image in relay.sent for image in sample_images(trained.project_file))

            # The teacher: a fresh profile opens the link and gets the student's predictions.
            teacher = record_traffic(teacher_context.new_page())
            teacher.page.goto(link)
            wait_ready(teacher.page)
            expect(teacher.page.locator('[data-testid="cloud-opened-title"]')).to_have_text(
                "Surfaces of 7b", timeout=60_000
            )
            # Nothing to train in this profile: the opened model is ready to answer.
            expect(teacher.page.locator('[data-testid="prediction-label"]')).to_have_text(
                "Show the camera an example or choose an image."
            )
            for photo, label, _ in trained.predictions[::3]:
                assert predict(teacher.page, photo)[0] == label, photo.name

            # Deleting needs the token that only the student's browser holds.
            assert call_receiver("DELETE", receiver.url + f"models/{model_id}")[0] == 401
            assert (
                call_receiver("DELETE", receiver.url + f"models/{model_id}", {"Authorization": "Bearer no"})[
                    0
                ]
                == 403
            )
            assert f"models/{model_id}.json" in keys()
            # The student comes back later: the browser remembers the copy.
            student.page.reload()
            wait_ready(student.page)
            panel = student.page.locator('[data-testid="cloud-publish-panel"]')
            panel.locator(":scope > summary").click()
            panel.locator('[data-testid="cloud-delete"]').click()
            expect(student.page.locator('[data-testid="cloud-message"]')).to_contain_text("Deleted")
            expect(panel.locator('[data-testid="cloud-published"] li')).to_have_count(0)
            assert keys() == []  # the record, its references and every blob only it used
            assert call_receiver("GET", receiver.url + f"models/{model_id}/")[0] == 404
            for session in (student, teacher):
                assert [
                    url
                    for url in session.requests
                    if not url.startswith((site_origin, receiver_origin, "data:", "blob:"))
                ] == []
        finally:
            context.close()
            teacher_context.close()


def test_the_example_images_go_only_with_the_box_ticked(browser, site, receiver_port, page_trained, tmp_path):
    trained = page_trained()
    store = tmp_path / "store"
    with relayed_receiver(str(store), [origin(site.url)], receiver_port, list_models=True) as (_, relay):
        context, student = open_trained(browser, site.url, trained.project_file)
        page = student.page
        try:
            publish(page, "With the pictures", include_samples=True)
            published_link(page)
            copies = page.evaluate("() => window.teachkit.published()")
            # The box is for one upload: it is unticked again afterwards.
            expect(page.locator('[data-testid="cloud-include-samples"]')).not_to_be_checked()
            # This receiver lists its models: the open panel offers them.
            page.locator('[data-testid="cloud-open-panel"] summary').click()
            listed = page.locator('[data-testid="cloud-list"] li')
            expect(listed).to_have_count(1, timeout=30_000)
            expect(listed).to_contain_text("With the pictures")
            assert violations(page) == []  # both cloud panels open, the link shown
            listed.locator("button").click()
            expect(page.locator('[data-testid="cloud-opened-title"]')).to_have_text("With the pictures")
            page.click('[data-testid="cloud-close"]')
            expect(page.locator('[data-testid="cloud-opened"]')).to_be_hidden()
            assert page.evaluate("() => window.teachkit.status().opened") is None
        finally:
            context.close()
    fields = relay.form_fields()
    assert sorted(fields) == ["note", "package", "project", "title"]
    images = sample_images(trained.project_file)
    assert images and all(image in fields["project"] for image in images)
    assert copies[0]["withSamples"] is True
    record = json.loads((store / "models" / f"{copies[0]['id']}.json").read_text())
    assert "project.teachkit.zip" in record["files"]


class BrokenReceiver:
    """Stands where the receiver should be: answers 500 to everything, or takes the request and
    never answers."""

    def __init__(self, port: int, site_origin: str, behaviour: str):
        release = threading.Event()

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                if behaviour == "hang":
                    release.wait(60)
                    return
                body = json.dumps({"error": {"code": "internal", "message": "The disk is full."}}).encode()
                self.send_response(500)
                self.send_header("Access-Control-Allow-Origin", site_origin)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = answer

            def do_OPTIONS(self):  # the preflight an upload with progress events brings
                self.send_response(204)
                self.send_header("Access-Control-Allow-Origin", site_origin)
                self.send_header("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")
                self.send_header("Access-Control-Allow-Headers", "Authorization, Content-Type")
                self.end_headers()

        self.release = release
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def test_a_receiver_down_failing_or_hanging_loses_nothing_and_a_retry_works(
    browser, site, receiver_port, page_trained, tmp_path
):
    trained = page_trained()
    site_origin = origin(site.url)
    context, student = open_trained(browser, site.url, trained.project_file)
    page = student.page
    message = page.locator('[data-testid="cloud-message"]')
    counts_before = page.evaluate("() => window.teachkit.classes()")
    try:
        publish(page, "Surfaces")  # nothing listens on the port
        expect(message).to_contain_text("cannot be reached", timeout=30_000)
        expect(message).to_contain_text("Nothing here was lost")
        for behaviour, said in (
            ("fail", "The cloud failed (error 500): The disk is full."),
            ("hang", "20 seconds"),
        ):
            broken = BrokenReceiver(receiver_port, site_origin, behaviour)
            try:
                page.click('[data-testid="cloud-publish"]')
                expect(message).to_contain_text(said, timeout=60_000)
                expect(page.locator('[data-testid="cloud-publish"]')).to_be_enabled()
            finally:
                broken.close()
        assert page.evaluate("() => window.teachkit.classes()") == counts_before
        assert page.evaluate("() => window.teachkit.status().trained") is True
        assert page.evaluate("() => window.teachkit.published()") == []
        with start_receiver(
            str(tmp_path / "store"), [site_origin], extra_args=("--port", str(receiver_port))
        ):
            page.click('[data-testid="cloud-publish"]')  # the same form, as the visitor left it
            published_link(page)
            expect(message).to_contain_text("Kept a copy")
        assert [
            url
            for url in student.requests
            if not url.startswith((site_origin, f"http://127.0.0.1:{receiver_port}/", "data:", "blob:"))
        ] == []
    finally:
        context.close()


def test_a_model_made_with_another_base_model_is_refused_naming_both(
    browser, site, receiver_port, page_trained, tmp_path
):
    trained = page_trained()
    site_origin = origin(site.url)
    with start_receiver(
        str(tmp_path / "store"), [site_origin], extra_args=("--port", str(receiver_port))
    ) as receiver:
        context, student = open_trained(browser, site.url, trained.project_file)
        try:
            page = student.page
            package = page.evaluate(
                """async () => {
                  const blob = await window.teachkit.downloadModel();
                  return Array.from(new Uint8Array(await blob.arrayBuffer()));
                }"""
            )
            # The same package, but stamped as made on another base model.
            source = zipfile.ZipFile(io.BytesIO(bytes(package)))
            changed = io.BytesIO()
            with zipfile.ZipFile(changed, "w") as target:
                for name in source.namelist():
                    data = source.read(name)
                    if name == "metadata.json":
                        metadata = json.loads(data)
                        metadata["base"] |= {"base": "mobilenet_v2", "model_json_sha256": "ab" * 32}
                        data = json.dumps(metadata).encode()
                    target.writestr(name, data)
            model_id = post_package(receiver.url, changed.getvalue())
            panel = page.locator('[data-testid="cloud-open-panel"]')
            panel.locator(":scope > summary").click()
            page.fill('[data-testid="cloud-open-link"]', model_id)
            page.click('[data-testid="cloud-open"]')
            said = page.locator('[data-testid="cloud-open-message"]')
            expect(said).to_contain_text("another base model", timeout=30_000)
            expect(said).to_contain_text("mobilenet_v2")
            expect(said).to_contain_text("efficientnet_lite0")
            expect(page.locator('[data-testid="cloud-opened"]')).to_be_hidden()
        finally:
            context.close()


def post_package(receiver_url: str, package: bytes) -> str:
    boundary = "teachkit-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="package"; filename="m.zip"\r\n'
            "Content-Type: application/zip\r\n\r\n"
        ).encode()
        + package
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        receiver_url + "models",
        data=body,
        method="POST",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["id"]


def test_without_cloud_the_page_has_no_cloud_controls_and_its_csp_is_unchanged(
    surfaces_site, cloud_site, receiver_port
):
    plain = (surfaces_site / "index.html").read_text()
    cloud = (cloud_site / "index.html").read_text()
    csp = re.compile(r'Content-Security-Policy" content="([^"]*)"')
    assert "connect-src 'self';" in html.unescape(csp.search(plain).group(1))
    assert f"connect-src 'self' http://127.0.0.1:{receiver_port};" in html.unescape(
        csp.search(cloud).group(1)
    )
    assert "cloud-publish" not in plain and "cloud-open" not in plain
    assert 'data-view="cloud-publish"' in cloud and 'data-view="cloud-open"' in cloud


@pytest.fixture(scope="module")
def cloud_single_file(tmp_path_factory, lite0_sites, receiver_port) -> Path:
    lite0_sites("auto")
    cloud = f'\n[cloud]\nurl = "http://127.0.0.1:{receiver_port}/"\n'
    output = build_project(tmp_path_factory.mktemp("cloud-single"), PROJECT + cloud, "--single-file")
    return next(output.glob("*.html"))


def test_the_single_file_publishes_and_opens_from_a_file(
    browser, cloud_single_file, receiver_port, page_trained, tmp_path
):
    trained = page_trained()
    page_url = cloud_single_file.as_uri()
    receiver_url = f"http://127.0.0.1:{receiver_port}/"
    # A page opened from a file has the origin "null": the receiver must allow it by that name.
    with start_receiver(str(tmp_path / "store"), ["null"], extra_args=("--port", str(receiver_port))):
        context, student = open_trained(browser, page_url, trained.project_file)
        try:
            publish(student.page, "From the USB stick")
            link = student.page.locator('[data-testid="cloud-link"]')
            # No web page to link to from a file: the link is the receiver's address of the copy.
            expect(link).to_have_value(
                re.compile(re.escape(receiver_url) + r"models/[\w-]+/$"), timeout=60_000
            )
            address = link.input_value()
        finally:
            context.close()
        other_context = browser.new_context()
        try:
            other = record_traffic(other_context.new_page())
            other.page.goto(page_url)
            wait_ready(other.page)
            other.page.locator('[data-testid="cloud-open-panel"] summary').click()
            other.page.fill('[data-testid="cloud-open-link"]', address)
            other.page.click('[data-testid="cloud-open"]')
            expect(other.page.locator('[data-testid="cloud-opened-title"]')).to_have_text(
                "From the USB stick", timeout=60_000
            )
            for photo, label, _ in trained.predictions[::6]:
                assert predict(other.page, photo)[0] == label, photo.name
            for session in (student, other):
                assert [
                    url
                    for url in session.requests
                    if not url.startswith(("file:", receiver_url, "data:", "blob:"))
                ] == []
        finally:
            other_context.close()


HOST = """<!doctype html><meta charset="utf-8"><title>course page</title><link rel="icon" href="data:,">
<body><script type="module">
const site = new URLSearchParams(location.search).get("site");
const frame = document.createElement("iframe");
frame.src = site;
frame.style.width = "1200px";
document.body.append(frame);
const { connect } = await import(new URL("embed.js", site).href);
window.client = await connect(frame);
await window.client.ready;
document.body.dataset.connected = "true";
</script></body>"""

# Starts a call and returns at once (the visitor has to answer the page's question first); PENDING
# waits for its outcome.
HOST_START = """({ method, args }) => {
  const decoded = args.map((arg) => (arg?.zip ? new Blob([new Uint8Array(arg.zip)]) : arg));
  window.pending = window.client[method](...decoded).then(
    (value) => ({ value }),
    (error) => ({ error: error.code, message: error.message }),
  );
}"""
PENDING = "() => window.pending"


def test_a_host_page_publishes_only_with_the_visitors_consent(
    browser, tmp_path_factory, lite0_sites, serve_site_module, receiver_port, page_trained, tmp_path
):
    trained = page_trained()
    host_dir = tmp_path_factory.mktemp("cloud-host")
    (host_dir / "index.html").write_text(HOST)
    host = serve_site_module(host_dir)
    extra = (
        f'\n[cloud]\nurl = "http://127.0.0.1:{receiver_port}/"\n'
        f'[embed]\nallowed_origins = ["{origin(host.url)}"]\n'
    )
    site = serve_site_module(build_project(tmp_path_factory.mktemp("cloud-embed"), PROJECT + extra))
    store = tmp_path / "store"
    with start_receiver(str(store), [origin(site.url)], extra_args=("--port", str(receiver_port))):
        context = browser.new_context()
        try:
            page = context.new_page()
            page.goto(f"{host.url}?site={site.url}")
            expect(page.locator("body")).to_have_attribute("data-connected", "true", timeout=60_000)
            frame = page.frame_locator("iframe")
            page.evaluate(
                HOST_START,
                {"method": "importProject", "args": [{"zip": list(trained.project_file.read_bytes())}]},
            )
            frame.locator('[data-testid="approval-allow"]').click()
            assert "error" not in page.evaluate(PENDING)

            page.evaluate(HOST_START, {"method": "publish", "args": [{"title": "Host's"}]})
            expect(frame.locator('[data-testid="approval-text"]')).to_contain_text("send your trained model")
            frame.locator('[data-testid="approval-deny"]').click()
            assert page.evaluate(PENDING)["error"] == "forbidden"
            assert not (store / "models").exists() or list((store / "models").iterdir()) == []

            page.evaluate(HOST_START, {"method": "publish", "args": [{"title": "Host's"}]})
            frame.locator('[data-testid="approval-allow"]').click()
            published = page.evaluate(PENDING)["value"]
            assert (store / "models" / f"{published['id']}.json").exists()
            page.evaluate(HOST_START, {"method": "openPublished", "args": [published["url"]]})
            assert page.evaluate(PENDING)["value"] == {
                "id": published["id"],
                "title": "Host's",
                "labels": ["Brick", "Grass", "Gravel"],
            }
        finally:
            context.close()
