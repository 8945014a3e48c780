"""Host pages on other origins drive the page through embed.js, as a SOCR course page would: the
example host page teaches, trains and predicts; a host that is not allowed, a sibling frame and
a second iframe get nothing; the visitor decides whether a host may have their images; the
single file works inside a file:// host only when "null" is allowed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .support.browser import record_traffic
from .support.pagekit import CLASS_OF, PROJECT, wait_ready
from .support.site import build_project

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "embed"

# A host page for the checks below: iframes of the sites in ?sites=…, embed.js imported from the
# first, every window message from each iframe counted, and optionally a sibling iframe.
PROBE = """<!doctype html><meta charset="utf-8"><title>probe host</title><link rel="icon" href="data:,">
<body><script type="module">
const params = new URLSearchParams(location.search);
const sites = params.get("sites").split(",");
window.frameMessages = sites.map(() => 0);
const frames = sites.map((site, index) => {
  const frame = document.createElement("iframe");
  frame.src = site;
  frame.id = `frame-${index}`;
  if (params.get("camera") !== "0") frame.allow = "camera";
  document.body.append(frame);
  return frame;
});
window.addEventListener("message", (event) => {
  const index = frames.findIndex((frame) => frame.contentWindow === event.source);
  if (index >= 0) window.frameMessages[index] += 1;
});
window.embed = await import(new URL("embed.js", sites[0]).href);
if (params.get("sibling")) {
  const sibling = document.createElement("iframe");
  sibling.src = "sibling.html";
  sibling.id = "sibling";
  document.body.append(sibling);
}
document.body.dataset.loaded = "true";
</script></body>"""

# Same origin as the host, but not the teachkit page's parent: it tries to connect to its sibling.
SIBLING = """<!doctype html><meta charset="utf-8"><title>sibling</title><link rel="icon" href="data:,">
<body><script type="module">
const target = window.parent.document.getElementById("frame-0");
const { connect } = await import(new URL("embed.js", target.src).href);
try {
  await connect(target, { timeout: 4000 });
  document.body.dataset.result = "connected";
} catch (error) {
  document.body.dataset.result = error.code;
}
</script></body>"""

CONNECT = """async ({ index, timeout }) => {
  try {
    window.clients ??= [];
    const frame = document.getElementById(`frame-${index}`);
    window.clients[index] = await window.embed.connect(frame, { timeout });
    window.events ??= [];
    for (const name of ["samples", "prediction", "epoch", "trained"])
      window.clients[index].on(name, (payload) => window.events.push([index, name, payload]));
    await window.clients[index].ready;
    return "connected";
  } catch (error) {
    return error.code;
  }
}"""

CALL = """async ({ index, method, args }) => {
  try {
    const value = await window.clients[index][method](...args);
    return { value: value instanceof Blob ? { blob: value.size, type: value.type } : value };
  } catch (error) {
    return { code: error.code, message: error.message };
  }
}"""

# Starts a call without waiting for it; its result lands in window.pending.
ASK = """(method) => {
  window.pending = window.clients[0][method]().then(
    (value) => ({ value: value instanceof Blob ? { blob: value.size } : value.length }),
    (error) => ({ code: error.code }),
  );
}"""

ASK_IDS = """() => {
  window.pending = window.clients[0].samples().then((samples) => samples.map((sample) => sample.id));
}"""

# Images for a host's calls: a canvas of one flat colour per class is enough to tell them apart.
ADD_COLOURS = """async ({ index, classes }) => {
  const results = {};
  for (const [name, hue] of Object.entries(classes)) {
    const images = [];
    for (let k = 0; k < 6; k += 1) {
      const canvas = document.createElement("canvas");
      canvas.width = 160;
      canvas.height = 120;
      const context = canvas.getContext("2d");
      context.fillStyle = `hsl(${hue + 4 * k}, 80%, ${40 + 3 * k}%)`;
      context.fillRect(0, 0, 160, 120);
      images.push(canvas);
    }
    results[name] = await window.clients[index].addImages(name, images);
  }
  return results;
}"""


@pytest.fixture(scope="module")
def hosts(tmp_path_factory, serve_site_module) -> dict[str, str]:
    """Two host origins serving the same pages: `allowed` is in the site's allowed_origins, `other` not."""
    directory = tmp_path_factory.mktemp("host")
    shutil.copytree(EXAMPLE, directory, dirs_exist_ok=True)
    (directory / "probe.html").write_text(PROBE)
    (directory / "sibling.html").write_text(SIBLING)
    return {
        name: serve_site_module(directory).url.replace("127.0.0.1", "localhost")
        for name in ("allowed", "other")
    }


@pytest.fixture(scope="module")
def embeddable(tmp_path_factory, lite0_sites, serve_site_module, hosts) -> list[str]:
    """The Surfaces site allowing the `allowed` host, served on two origins (two servers)."""
    lite0_sites("auto")
    origin = hosts["allowed"].rstrip("/")
    site = build_project(
        tmp_path_factory.mktemp("embeddable"), f'{PROJECT}\n[embed]\nallowed_origins = ["{origin}"]\n'
    )
    return [serve_site_module(site).url, serve_site_module(site).url]


def origins(*urls: str) -> tuple[str, ...]:
    return tuple(url.rstrip("/") for url in urls)


def open_host(open_page, url: str):
    session = open_page(url)
    expect(session.page.locator("body")).to_have_attribute("data-loaded", "true", timeout=30_000)
    return session


def test_example_host_page_teaches_trains_and_predicts(open_page, hosts, embeddable, texture_files):
    site = embeddable[0]
    session = open_page(f"{hosts['allowed']}?site={site}")
    page = session.page
    status = page.locator('[data-testid="host-status"]')
    expect(status).to_have_attribute("data-state", "ready", timeout=60_000)
    for texture, files in texture_files.items():
        name = CLASS_OF[texture]
        page.locator(f'[data-testid="host-images"][data-class-name="{name}"]').set_input_files(
            [str(f) for f in files["train"]]
        )
        expect(status).to_contain_text(f'Sent 20 pictures to "{name}".', timeout=60_000)
    # The page in the iframe shows what the host sent.
    frame = page.frame_locator("#classifier")
    expect(frame.locator('[data-testid="sample-count"]').first).to_have_text("20")

    page.click('[data-testid="host-train"]')
    expect(status).to_have_attribute("data-state", "trained", timeout=120_000)
    expect(page.locator('[data-testid="host-epoch"]')).to_have_attribute("data-epochs", "50")

    prediction = page.locator('[data-testid="host-prediction"]')
    correct = total = 0
    for texture, files in texture_files.items():
        for file in files["held-out"]:
            count = int(prediction.get_attribute("data-count"))
            page.set_input_files('[data-testid="host-predict"]', str(file))
            expect(prediction).to_have_attribute("data-count", str(count + 1), timeout=30_000)
            correct += prediction.get_attribute("data-label") == CLASS_OF[texture]
            total += 1
    assert total >= 30 and correct / total >= 0.9
    assert page.locator('[data-testid="host-confidences"] li').count() == 3
    # Nothing but the host and the embedded site: no third origin in any frame.
    assert [
        url
        for url in session.requests
        if not url.startswith((*origins(hosts["allowed"], site), "blob:", "data:"))
    ] == []
    assert session.console_errors == []


def test_a_host_that_is_not_allowed_hears_nothing(open_page, hosts, embeddable):
    session = open_host(open_page, f"{hosts['other']}probe.html?sites={embeddable[0]}")
    page = session.page

    assert page.evaluate(CONNECT, {"index": 0, "timeout": 3000}) == "no_connection"
    # The page itself still works in the iframe; it just never answered this host.
    wait_ready(page.frame_locator("#frame-0"))
    assert page.evaluate("window.frameMessages") == [0]


def test_a_sibling_frame_is_ignored_and_the_parent_still_connects(open_page, hosts, embeddable):
    session = open_host(open_page, f"{hosts['allowed']}probe.html?sites={embeddable[0]}&sibling=1")
    page = session.page
    sibling = page.frame_locator("#sibling").locator("body")
    expect(sibling).to_have_attribute("data-result", "no_connection", timeout=15_000)
    assert page.evaluate(CONNECT, {"index": 0, "timeout": 15000}) == "connected"
    # The host's client offers what the page's own window.teachkit does (api/methods.js).
    client = set(page.evaluate("() => Object.keys(window.clients[0])"))
    embedded = next(frame for frame in page.frames[1:] if frame.evaluate("() => Boolean(window.teachkit)"))
    assert client - {"title", "close"} == set(embedded.evaluate("() => Object.keys(window.teachkit)"))
    assert page.evaluate(CALL, {"index": 0, "method": "classes", "args": []})["value"] == [
        {"name": "Brick", "count": 0},
        {"name": "Grass", "count": 0},
        {"name": "Gravel", "count": 0},
    ]


def test_the_visitor_decides_whether_the_host_gets_their_images(open_page, hosts, embeddable):
    session = open_host(open_page, f"{hosts['allowed']}probe.html?sites={embeddable[0]}")
    page = session.page
    assert page.evaluate(CONNECT, {"index": 0, "timeout": 15000}) == "connected"
    page.evaluate(ADD_COLOURS, {"index": 0, "classes": {"Brick": 0, "Grass": 120}})
    frame = page.frame_locator("#frame-0")
    dialog = frame.locator('[data-testid="approval"]')
    host_origin = hosts["allowed"].rstrip("/")

    for answer, expected in (("deny", "forbidden"), ("allow", None)):
        # Not awaited here: the call waits for the visitor's answer in the iframe.
        page.evaluate(ASK, "exportProject")
        expect(dialog).to_be_visible()
        expect(frame.locator('[data-testid="approval-text"]')).to_contain_text(host_origin)
        frame.locator(f'[data-testid="approval-{answer}"]').click()
        result = page.evaluate("() => window.pending")
        if expected:
            assert result["code"] == expected
        else:
            assert result["value"]["blob"] > 1000
        expect(dialog).to_be_hidden()
    # Reading the samples is asked for too; the predictions and counts are not.
    page.evaluate(ASK, "samples")
    frame.locator('[data-testid="approval-deny"]').click()
    assert page.evaluate("() => window.pending")["code"] == "forbidden"
    assert page.evaluate(CALL, {"index": 0, "method": "classes", "args": []})["value"][0] == {
        "name": "Brick",
        "count": 6,
    }
    # Allowed, the host gets the ids: it may delete one sample, and take the delete back.
    page.evaluate(ASK_IDS)
    frame.locator('[data-testid="approval-allow"]').click()
    first = page.evaluate("() => window.pending")[0]
    assert page.evaluate(CALL, {"index": 0, "method": "deleteSample", "args": [first]}).get("error") is None
    counts = lambda: page.evaluate(CALL, {"index": 0, "method": "classes", "args": []})["value"][0]["count"]  # noqa: E731
    assert counts() == 5
    assert page.evaluate(CALL, {"index": 0, "method": "undo", "args": []}).get("error") is None
    assert counts() == 6


def test_two_iframes_on_one_host_do_not_cross_talk(open_page, hosts, embeddable):
    sites = ",".join(embeddable)
    session = open_host(open_page, f"{hosts['allowed']}probe.html?sites={sites}")
    page = session.page
    assert page.evaluate(CONNECT, {"index": 0, "timeout": 15000}) == "connected"
    assert page.evaluate(CONNECT, {"index": 1, "timeout": 15000}) == "connected"

    page.evaluate(ADD_COLOURS, {"index": 1, "classes": {"Grass": 120}})

    counts = [page.evaluate(CALL, {"index": i, "method": "classes", "args": []})["value"] for i in (0, 1)]
    assert [item["count"] for item in counts[0]] == [0, 0, 0]
    assert [item["count"] for item in counts[1]] == [0, 6, 0]
    events = page.evaluate("window.events")
    assert {index for index, name, _ in events if name == "samples"} == {1}
    expect(page.frame_locator("#frame-1").locator('[data-testid="sample-count"]').nth(1)).to_have_text("6")
    expect(page.frame_locator("#frame-0").locator('[data-testid="sample-count"]').nth(1)).to_have_text("0")


def test_camera_blocked_by_the_host_is_named(open_page, hosts, embeddable):
    session = open_host(open_page, f"{hosts['allowed']}probe.html?sites={embeddable[0]}&camera=0")
    page = session.page
    assert page.evaluate(CONNECT, {"index": 0, "timeout": 15000}) == "connected"

    result = page.evaluate(CALL, {"index": 0, "method": "startCamera", "args": []})

    assert result["code"] == "camera"
    assert 'the host page must add allow="camera"' in result["message"]
    expect(page.frame_locator("#frame-0").locator('[data-testid="message"]')).to_contain_text(
        'allow="camera"'
    )


FILE_HOST = """<!doctype html><meta charset="utf-8"><title>file host</title><link rel="icon" href="data:,">
<body><iframe id="frame-0" src="{page}"></iframe>
<script src="embed-classic.js"></script>
<script>
window.embed = teachkitEmbed;
document.body.dataset.loaded = "true";
</script></body>"""


@pytest.mark.parametrize(
    ("allowed", "expected"), [('"null"', "connected"), ('"http://localhost:9"', "no_connection")]
)
def test_single_file_inside_a_file_host_needs_null_allowed(
    allowed, expected, tmp_path, lite0_sites, playwright, browser
):
    lite0_sites("auto")
    output = build_project(tmp_path, f"{PROJECT}\n[embed]\nallowed_origins = [{allowed}]\n", "--single-file")
    page_file = next(output.glob("*.html"))
    host = output / "host.html"
    host.write_text(FILE_HOST.format(page=page_file.name))
    context = browser.new_context()
    try:
        session = record_traffic(context.new_page())
        page = session.page
        page.goto(host.as_uri())
        expect(page.locator("body")).to_have_attribute("data-loaded", "true")
        assert page.evaluate(CONNECT, {"index": 0, "timeout": 5000}) == expected
        if expected == "connected":
            added = page.evaluate(
                ADD_COLOURS, {"index": 0, "classes": {"Brick": 0, "Grass": 120, "Gravel": 240}}
            )
            assert [result["added"] for result in added.values()] == [6, 6, 6]
            # Half held back (3 of 6 per class), so that there is an accuracy to measure.
            change = {"training": {"epochs": 10, "validation_fraction": 0.5}}
            trained = page.evaluate(CALL, {"index": 0, "method": "train", "args": [change]})
            assert trained["value"]["evaluation"]["count"] == 9
            assert trained["value"]["evaluation"]["accuracy"] is not None
        assert [url for url in session.requests if not url.startswith(("file:", "blob:", "data:"))] == []
    finally:
        context.close()
