"""The ladder of runtimes for the base model (templates/app/runtime/runtime_ladder.js): a browser without
WebAssembly SIMD runs the hosted LiteRT.js page on TF.js's plain build; a runtime that computes
wrongly fails the start-up self-check (the probe photo's embedding against Python's) and the page
moves down to the next; when nothing can run, the page says why where everyone sees it."""

from __future__ import annotations

import json
import math
import re
import struct
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from .support import webkit_page
from .support.pagekit import CLASS_OF, predict, train, upload, wait_ready
from .test_browser_embeddings import assert_like_python, embed_in_page
from .test_browser_embeddings import probe_files as probe_files  # a fixture

# Chromium cannot switch WebAssembly SIMD off, so this takes it away from the page as an engine
# without it would (Safari before 16.4, WPE WebKit 2.38): validate() says no and compiling fails
# with "invalid opcode 253". A module uses SIMD if a function has a v128 (0x7b) local or type, as
# every compiled SIMD build does (TF.js's plain build has none), or, for the tiny feature tests,
# which keep SIMD values on the stack, if it holds an 0xfd prefix at all. Workers keep SIMD: the
# page decides for them.
NO_SIMD = """(() => {
  function leb(bytes, at) {
    let value = 0, shift = 0, byte;
    do { byte = bytes[at++]; value |= (byte & 0x7f) << shift; shift += 7; } while (byte & 0x80);
    return [value >>> 0, at];
  }
  function usesSimd(source) {
    const bytes = ArrayBuffer.isView(source)
      ? new Uint8Array(source.buffer, source.byteOffset, source.byteLength)
      : new Uint8Array(source);
    if (bytes.length < 1024) return bytes.includes(0xfd);
    let at = 8;
    while (at < bytes.length) {
      const id = bytes[at++];
      let size;
      [size, at] = leb(bytes, at);
      const end = at + size;
      if (id === 1 && bytes.subarray(at, end).includes(0x7b)) return true;
      if (id === 10) {
        let count, body = at;
        [count, body] = leb(bytes, body);
        for (let f = 0; f < count; f += 1) {
          let length, local;
          [length, local] = leb(bytes, body);
          const next = local + length;
          let groups;
          [groups, local] = leb(bytes, local);
          for (let g = 0; g < groups; g += 1) {
            [, local] = leb(bytes, local);
            if (bytes[local++] === 0x7b) return true;
          }
          body = next;
        }
      }
      at = end;
    }
    return false;
  }
  const refuse = () => Promise.reject(new WebAssembly.CompileError("invalid opcode 253"));
  const { validate, compile, instantiate } = WebAssembly;
  WebAssembly.validate = (bytes) => !usesSimd(bytes) && validate(bytes);
  WebAssembly.compile = (bytes) => (usesSimd(bytes) ? refuse() : compile(bytes));
  WebAssembly.instantiate = (source, imports) =>
    !(source instanceof WebAssembly.Module) && usesSimd(source) ? refuse() : instantiate(source, imports);
  const bytesOf = (response) => Promise.resolve(response).then((r) => r.arrayBuffer());
  WebAssembly.compileStreaming = (response) => bytesOf(response).then((b) => WebAssembly.compile(b));
  WebAssembly.instantiateStreaming = (response, imports) =>
    bytesOf(response).then((b) => WebAssembly.instantiate(b, imports));
})();"""

# i8x16.splat in a function: what TF.js validates to learn whether the browser has SIMD.
SIMD_TEST_MODULE = [
    0,
    97,
    115,
    109,
    1,
    0,
    0,
    0,
    1,
    4,
    1,
    96,
    0,
    0,
    3,
    2,
    1,
    0,
    10,
    9,
    1,
    7,
    0,
    65,
    0,
    253,
    15,
    26,
    11,
]
SELF_CHECK_FAILED = r"failed its self-check \(cosine -?\d\.\d{4} < 0\.99\)"


def _u32(data: bytes, at: int) -> int:
    return struct.unpack_from("<I", data, at)[0]


def _field(data: bytes, table: int, index: int) -> int:
    """Where field `index` of the flatbuffer table at `table` lies (0 if absent)."""
    vtable = table - struct.unpack_from("<i", data, table)[0]
    slot = 4 + 2 * index
    if slot >= struct.unpack_from("<H", data, vtable)[0]:
        return 0
    offset = struct.unpack_from("<H", data, vtable + slot)[0]
    return table + offset if offset else 0


def _vector(data: bytes, at: int) -> tuple[int, int]:
    """(start, length) of the flatbuffer vector referenced at `at`."""
    vector = at + _u32(data, at)
    return vector + 4, _u32(data, vector)


def largest_tflite_buffer(tflite: bytes) -> tuple[int, int]:
    """(start, length) of the largest constant buffer (weights) of a .tflite: a flatbuffer whose
    root Model has its buffers in field 4, each Buffer its bytes in field 0."""
    model = _u32(tflite, 0)
    start, count = _vector(tflite, _field(tflite, model, 4))
    largest = (0, 0)
    for index in range(count):
        element = start + 4 * index
        data = _field(tflite, element + _u32(tflite, element), 0)
        if data:
            largest = max(largest, _vector(tflite, data), key=lambda item: item[1])
    return largest


def flip_signs(data: bytes, start: int = 0, length: int | None = None) -> bytes:
    """The top bit of every fourth byte flipped: each float32 weight negated, a quarter of int8
    weights moved by 128. The model still loads, and computes something else."""
    damaged = bytearray(data)
    end = len(data) if length is None else start + length
    for at in range(start + 3, end, 4):
        damaged[at] ^= 0x80
    return bytes(damaged)


def damaged_tflite(site) -> bytes:
    tflite = (site / "model" / "model.tflite").read_bytes()
    return flip_signs(tflite, *largest_tflite_buffer(tflite))


def _leb128(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


def wrong_simd(wasm: bytes) -> bytes:
    """A WebAssembly SIMD build whose code has every f32x4.add (0xfd 0xe4 0x01) made an f32x4.sub:
    it still validates and compiles, and computes wrongly, as WebAssembly SIMD did on iOS 16.4-17.1."""
    at = 8
    while at < len(wasm):
        section = wasm[at]
        size, start = _leb128(wasm, at + 1)
        if section == 10:
            code = wasm[start : start + size].replace(b"\xfd\xe4\x01", b"\xfd\xe5\x01")
            return wasm[:start] + code + wasm[start + size :]
        at = start + size
    raise AssertionError("no code section")


def _serve(body: bytes):
    return lambda route: route.fulfill(body=body)


BYTES_PER_VALUE = {"uint8": 1, "float16": 2, "uint16": 2, "float32": 4, "int32": 4}


def damaged_tfjs_weights(site) -> dict[str, bytes]:
    """The TF.js model's weight shards, by file name, with its largest float weight damaged as
    flip_signs does (its int32 constants, axes and shapes, kept: the model must still load)."""
    model_json = json.loads((site / "model" / "model.json").read_text())
    (group,) = model_json["weightsManifest"]
    shards = [(site / "model" / name).read_bytes() for name in group["paths"]]
    ranges, offset = [], 0
    for weight in group["weights"]:
        stored = weight.get("quantization", {}).get("dtype", weight["dtype"])
        length = BYTES_PER_VALUE[stored] * math.prod(weight["shape"])
        if weight["dtype"] == "float32":
            ranges.append((length, offset))
        offset += length
    length, start = max(ranges)
    damaged = flip_signs(b"".join(shards), start, length)
    files, at = {}, 0
    for name, shard in zip(group["paths"], shards, strict=True):
        files[name] = damaged[at : at + len(shard)]
        at += len(shard)
    return files


def open_with(browser, url: str, *, no_simd: bool = False, routes: dict[str, bytes] | None = None):
    """A page in a fresh context, maybe without SIMD, with some files served damaged; returns
    (page, context, every URL requested, console errors)."""
    context = browser.new_context()
    if no_simd:
        context.add_init_script(NO_SIMD)
    for pattern, body in (routes or {}).items():
        context.route(pattern, _serve(body))
    page = context.new_page()
    requests, errors = [], []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.goto(url)
    return page, context, requests, errors


def train_and_predict(page, texture_files) -> float:
    """As a visitor: 8 photos of each surface, train, then the share of 4 held-out photos of each
    that the page names right (fewer than pagekit.collect_and_train: TF.js's plain build is slow)."""
    wait_ready(page)
    for texture, files in texture_files.items():
        upload(page, CLASS_OF[texture], files["train"][:8], 8)
    train(page)
    results = [
        predict(page, file)[0] == CLASS_OF[texture]
        for texture, files in texture_files.items()
        for file in files["held-out"][:4]
    ]
    return sum(results) / len(results)


def backend_status(page) -> dict:
    return page.evaluate("() => window.teachkit.status().backend")


LITERT_RUNGS = [("litert", "relaxed"), ("litert", "compat")]  # the ladder's first rungs, in order


def gave_way(page, texture_files, runtime: dict, skipped: list[tuple[str, str]]) -> dict:
    """The page still names the photos right, on `runtime`, after skipping the (name, build)
    rungs `skipped` in that order; returns its backend status for the test's own checks."""
    assert train_and_predict(page, texture_files) >= 0.9

    backend = backend_status(page)
    assert backend["runtime"] == runtime
    assert [(rung["name"], rung["build"]) for rung in backend["skipped"]] == skipped
    return backend


def test_without_simd_the_litert_page_runs_on_tfjs_plain_build(
    browser, surfaces_site, serve_site, texture_files
):
    server = serve_site(surfaces_site)
    page, context, requests, errors = open_with(browser, server.url, no_simd=True)
    try:
        assert train_and_predict(page, texture_files) >= 0.9

        backend = backend_status(page)
        assert backend["runtime"] == {"name": "tfjs", "build": "plain"}
        assert backend["build"] == "plain", "the page's own TF.js (the head) runs the plain build too"
        assert backend["selfCheck"]["cosine"] >= backend["selfCheck"]["floor"] == 0.99
        assert [(rung["name"], rung["build"], rung["reason"]) for rung in backend["skipped"]] == [
            ("litert", "relaxed", "this browser has no WebAssembly relaxed SIMD"),
            ("litert", "compat", "this browser has no WebAssembly SIMD"),
            ("tfjs", "simd", "this browser has no WebAssembly SIMD"),
        ]
        page.locator('[data-testid="technical"] summary').click()
        details = page.locator('[data-testid="backend"]')
        expect(details).to_be_visible()
        expect(details).to_contain_text(re.compile(r"base model in \d workers? on TF\.js, plain WASM build"))
        expect(details).to_contain_text("TF.js, SIMD build: this browser has no WebAssembly SIMD")
        # Nothing it cannot run is fetched: not LiteRT.js's 9 MB, nor the .tflite, nor TF.js's SIMD build.
        fetched = {url.rsplit("/", 1)[-1] for url in requests}
        assert "tfjs-backend-wasm.wasm" in fetched
        assert not {name for name in fetched if "litert_wasm" in name or "simd" in name or "tflite" in name}
        assert errors == []
    finally:
        context.close()


@pytest.mark.parametrize("workers", [None, 0], ids=["in-workers", "on-the-page"])
def test_without_simd_the_single_file_computes_like_python(
    browser, surfaces_single_file, probe_files, workers
):
    """TF.js's plain build, from file://, follows Python's embeddings as closely as the SIMD build."""
    manifest = json.loads((surfaces_single_file.parent / "manifest.json").read_text())
    query = "" if workers is None else f"?workers={workers}"
    page, context, _, errors = open_with(browser, surfaces_single_file.as_uri() + query, no_simd=True)
    try:
        embeddings = embed_in_page(SimpleNamespace(page=page), probe_files)
        assert_like_python(embeddings, manifest, "plain build")
        backend = backend_status(page)
        assert backend["build"] == "plain"
        assert backend["runtime"]["build"] == "plain"
        assert errors == []
    finally:
        context.close()


def test_a_runtime_that_fails_its_self_check_gives_way(browser, surfaces_site, serve_site, texture_files):
    """A .tflite served damaged loads but computes wrongly: both LiteRT.js builds fail the check,
    and the page runs the base model on TF.js and still predicts right."""
    server = serve_site(surfaces_site)
    routes = {"**/model/model.tflite": damaged_tflite(surfaces_site)}
    page, context, _, errors = open_with(browser, server.url, routes=routes)
    try:
        backend = gave_way(page, texture_files, {"name": "tfjs", "build": "simd"}, LITERT_RUNGS)
        for rung in backend["skipped"]:
            assert re.fullmatch(SELF_CHECK_FAILED, rung["reason"]), rung
            assert rung["cosine"] < 0.99
        details = page.locator('[data-testid="backend"]')
        expect(details).to_contain_text("LiteRT.js, relaxed SIMD build: failed its self-check (cosine ")
        assert errors == []
    finally:
        context.close()


def test_when_nothing_runs_the_page_says_what_is_missing(browser, surfaces_site, serve_site):
    """No SIMD, and TF.js's weights served damaged: no runtime passes, and the headline names the
    missing feature and the browsers that have it."""
    server = serve_site(surfaces_site)
    shards = {f"**/model/{name}": data for name, data in damaged_tfjs_weights(surfaces_site).items()}
    page, context, _, _ = open_with(browser, server.url, no_simd=True, routes=shards)
    try:
        status = page.locator('[data-testid="status"]')
        expect(status).to_have_attribute("data-state", "error", timeout=60_000)
        headline = page.locator('[data-testid="next-step"]')
        expect(headline).to_be_visible()
        expect(headline).to_contain_text("This browser has no WebAssembly SIMD")
        expect(headline).to_contain_text("Use a current Chrome, Edge, Firefox or Safari (iOS 16.4 or later).")
        expect(headline).to_contain_text("TF.js, plain WASM build: failed its self-check (cosine ")
    finally:
        context.close()


def test_a_simd_build_that_computes_wrongly_leaves_simd_out(
    browser, surfaces_site, serve_site, texture_files
):
    """LiteRT.js's .tflite damaged and TF.js's SIMD build computing wrongly, as on iOS 16.4-17.1:
    the base model runs on TF.js's plain build, the page's own TF.js leaves the SIMD build too
    (it trains the head), and the page predicts right."""
    server = serve_site(surfaces_site)
    simd = surfaces_site / "wasm" / "tfjs-backend-wasm-simd.wasm"
    routes = {
        "**/model/model.tflite": damaged_tflite(surfaces_site),
        "**/wasm/tfjs-backend-wasm-simd.wasm": wrong_simd(simd.read_bytes()),
    }
    page, context, _, errors = open_with(browser, server.url, routes=routes)
    try:
        backend = gave_way(
            page, texture_files, {"name": "tfjs", "build": "plain"}, [*LITERT_RUNGS, ("tfjs", "simd")]
        )
        assert all("failed its self-check" in rung["reason"] for rung in backend["skipped"])
        assert backend["name"] == "cpu"
        expect(page.locator('[data-testid="backend"]')).to_contain_text("WASM's SIMD build computes wrongly")
        assert errors == []
    finally:
        context.close()


@pytest.mark.filterwarnings("ignore:setting remote_server_addr:DeprecationWarning")  # selenium's own
def test_wpe_webkit_without_simd_runs_the_hosted_litert_page(surfaces_site, serve_site, texture_files):
    """The real thing: WPE WebKit 2.38 (Debian's cog and wpewebkit-driver) has no WebAssembly SIMD.
    The hosted LiteRT.js page runs its base model on TF.js's plain build there, the probe's
    embedding passes the self-check, i.e. it follows Python's within the build's floor, and a
    visitor uploads, trains and predicts (its session is ephemeral: the samples are stored as bytes)."""
    from selenium import webdriver
    from selenium.webdriver.support.ui import WebDriverWait

    server = serve_site(surfaces_site)
    options = webdriver.WPEWebKitOptions()
    options.binary_location = "/usr/bin/cog"
    options.add_argument("--platform=headless")
    options.add_argument("--automation")
    options.set_capability("browserName", "cog")
    service = webdriver.WPEWebKitService(executable_path="/usr/bin/WPEWebDriver")
    driver = webdriver.WPEWebKit(options=options, service=service)
    try:
        driver.get(server.url)
        simd = "return WebAssembly.validate(new Uint8Array(arguments[0]))"
        assert not driver.execute_script(simd, SIMD_TEST_MODULE), "this WPE WebKit has WebAssembly SIMD"
        state = "return document.querySelector('[data-testid=status]').dataset.state"
        WebDriverWait(driver, 120).until(lambda _: driver.execute_script(state) in ("ready", "error"))
        headline = driver.execute_script(
            "return document.querySelector('[data-testid=next-step]').textContent"
        )
        assert driver.execute_script(state) == "ready", headline
        backend = driver.execute_script("return window.teachkit.status().backend")
        assert backend["runtime"] == {"name": "tfjs", "build": "plain"}
        assert backend["build"] == "plain"
        assert {rung["reason"] for rung in backend["skipped"]} >= {"this browser has no WebAssembly SIMD"}
        assert backend["selfCheck"]["cosine"] >= backend["selfCheck"]["floor"]

        page = webkit_page.WebKitPage(driver)
        page.goto(server.url)  # again, through the adapter, which listens to the page's messages
        webkit_page.collect_and_train(page, texture_files)
        predictions = webkit_page.held_out_predictions(page, texture_files)
        assert webkit_page.accuracy(predictions, texture_files) >= 0.9, predictions
        assert [text for text in page.messages() if "null" in text.lower()] == []
    finally:
        driver.quit()
