"""teachkit receive refuses every hostile upload with JSON and stores nothing; TF.js (the real one, in
Node.js) saves to it and loads from it."""

from __future__ import annotations

import functools
import http.client
import io
import json
import os
import struct
import subprocess
import urllib.parse
import zipfile
import zlib
from collections.abc import Callable

import numpy as np
import pytest

from .support import receiver_stores
from .support.receiver_stores import (
    ID,
    MAX_MB,
    form,
    package_form,
    published,
)
from .support.receivers import (
    BASE_WEIGHT_BYTES,
    EMBEDDING_SIZE,
    REPO,
    Reply,
    make_package,
    make_project,
    package_entries,
    request,
    zip_entries,
)

# The receiver fixtures (s3, new_store, served): pytest finds a module's fixtures among its names.
s3_fixture = receiver_stores.s3_fixture
new_store_fixture = receiver_stores.new_store_fixture
served_fixture = receiver_stores.served_fixture

DOS_DATE = 33  # 1980-01-01


def raw_zip(entries: list[tuple[str, int, bytes, int, int]], flags: int = 0) -> bytes:
    """A zip written by hand: (name, method, compressed bytes, crc32, declared size) per entry,
    so that the directory may say what a hostile file's does; `flags` 1 marks them encrypted."""
    out = io.BytesIO()
    central = io.BytesIO()
    for name, method, data, crc, size in entries:
        offset = out.tell()
        encoded = name.encode()
        local = (20, flags, method, 0, DOS_DATE, crc, len(data), size, len(encoded), 0)
        out.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", *local) + encoded + data)
        listed = (
            20,
            20,
            flags,
            method,
            0,
            DOS_DATE,
            crc,
            len(data),
            size,
            len(encoded),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        central.write(struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", *listed) + encoded)
    start = out.tell()
    out.write(central.getvalue())
    count = len(entries)
    out.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, len(central.getvalue()), start, 0))
    return out.getvalue()


def stored(entries: dict[str, bytes]) -> list[tuple[str, int, bytes, int, int]]:
    """raw_zip's entries for `entries`, uncompressed and truthful."""
    return [(name, 0, value, zlib.crc32(value), len(value)) for name, value in entries.items()]


def deflated_zeros(megabytes: int) -> tuple[bytes, int]:
    """`megabytes` MB of zeros, deflated (about 1000:1), and their crc32; made from one 16 MB piece
    repeated, each ending in a full flush."""
    chunk = bytes(16 * 1024**2)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(megabytes // 16):
        crc = zlib.crc32(chunk, crc)
    return piece * (megabytes // 16) + zlib.compressobj(9, zlib.DEFLATED, -15).flush(), crc


@functools.cache
def zip_bomb() -> bytes:
    """A model download whose base/weights.bin is 1 GB of zeros, deflated to 1 MB."""
    data, crc = deflated_zeros(1024)
    return raw_zip(
        [("metadata.json", 0, b"{}", zlib.crc32(b"{}"), 2), ("base/weights.bin", 8, data, crc, 1024**3)]
    )


def understated() -> bytes:
    """A package whose base/weights.bin says it is as long as its manifest wants, with a CRC that
    fits, but inflates to 64 MB."""
    entries = package_entries()
    del entries["base/weights.bin"]
    data, _ = deflated_zeros(64)
    crc = zlib.crc32(bytes(BASE_WEIGHT_BYTES))
    return raw_zip([*stored(entries), ("base/weights.bin", 8, data, crc, BASE_WEIGHT_BYTES)])


def with_entries(change: Callable[[dict[str, bytes]], None], kind: str = "dense") -> bytes:
    entries = package_entries(kind)
    change(entries)
    return zip_entries(entries)


def encrypted() -> bytes:
    return raw_zip(stored(package_entries()), flags=1)


def raw_names(*names: str) -> bytes:
    """A package with an entry of each of these names added."""
    return raw_zip(stored(package_entries()) + stored({name: b"x" for name in names}))


def edit_json(name: str, change: Callable[[dict], object]) -> Callable[[dict[str, bytes]], None]:
    def edit(entries: dict[str, bytes]) -> None:
        data = json.loads(entries[name])
        change(data)
        entries[name] = json.dumps(data).encode()

    return edit


DELETE = object()


def set_key(path: str, value: object) -> Callable[[dict], None]:
    *parents, last = path.split(".")

    def change(data: dict) -> None:
        for part in parents:
            data = data[part]
        if value is DELETE:
            del data[last]
        else:
            data[last] = value

    return change


def resized(name: str, delta: int) -> Callable[[dict[str, bytes]], None]:
    def change(entries: dict[str, bytes]) -> None:
        entries[name] = entries[name] + b"\0" * delta if delta > 0 else entries[name][:delta]

    return change


def weights_off(part: str, delta: int) -> tuple[Callable[[], tuple[bytes, str]], int, str, str]:
    """A HOSTILE case: `part`/weights.bin `delta` bytes off the size its model.json declares."""
    return (
        lambda: package_form(with_entries(resized(f"{part}/weights.bin", delta))),
        400,
        "bad_upload",
        f"{part}/model.json",
    )


def damaged_project() -> bytes:
    entries = project_entries()
    entries["teachkit-project.json"] = b'{"format": "teachkit-project", "version": 1, "classes": []}'
    return zip_entries(entries)


def project_entries() -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(make_project())) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def project_with(name: str) -> bytes:
    return raw_zip(stored(project_entries()) + stored({name: b"x"}))


TFJS_JSON = json.dumps(
    {
        "modelTopology": {},
        "format": "layers-model",
        "weightsManifest": [
            {"paths": ["./model.weights.bin"], "weights": [{"name": "w", "shape": [2], "dtype": "float32"}]}
        ],
    }
).encode()

# (case, the form's body and Content-Type, expected status and code, words the message must hold)
HOSTILE: dict[str, tuple[Callable[[], tuple[bytes, str]], int, str, str]] = {
    "over the cap": (
        lambda: package_form(os.urandom(MAX_MB * 1024**2 + 1000)),
        413,
        "too_large",
        f"{MAX_MB} MB",
    ),
    "a zip bomb, 1 GB of zeros": (
        lambda: package_form(zip_bomb()),
        400,
        "bad_upload",
        "would unpack to 1024 MB",
    ),
    "a header that under-states the size": (
        lambda: package_form(understated()),
        400,
        "bad_upload",
        "base/weights.bin",
    ),
    "a ../ name": (
        lambda: package_form(raw_names("../metadata.json")),
        400,
        "bad_upload",
        '"../metadata.json"',
    ),
    "a ../ inside a name": (
        lambda: package_form(raw_names("base/../../x")),
        400,
        "bad_upload",
        '"base/../../x"',
    ),
    "an absolute name": (
        lambda: package_form(raw_names("/etc/cron.d/x")),
        400,
        "bad_upload",
        '"/etc/cron.d/x"',
    ),
    "a drive letter": (lambda: package_form(raw_names("C:\\x")), 400, "bad_upload", "C:"),
    "a network path": (lambda: package_form(raw_names("\\\\server\\share")), 400, "bad_upload", "server"),
    "a backslash": (lambda: package_form(raw_names("base\\weights.bin")), 400, "bad_upload", "backslash"),
    "a foreign entry": (lambda: package_form(raw_names("run.sh")), 400, "bad_upload", '"run.sh"'),
    "an entry twice": (lambda: package_form(raw_names("labels.txt")), 400, "bad_upload", "twice"),
    "an encrypted zip": (lambda: package_form(encrypted()), 400, "bad_upload", "encrypted"),
    "not a zip": (lambda: package_form(b"just text"), 400, "bad_upload", "damaged"),
    "no metadata": (
        lambda: package_form(with_entries(lambda e: e.pop("metadata.json"))),
        400,
        "bad_upload",
        "metadata.json",
    ),
    "metadata not JSON": (
        lambda: package_form(with_entries(lambda e: e.update({"metadata.json": b"{nope"}))),
        400,
        "bad_upload",
        "metadata.json",
    ),
    "another format": (
        lambda: package_form(with_entries(edit_json("metadata.json", set_key("format", "teachkit-project")))),
        400,
        "bad_upload",
        "format",
    ),
    "another version": (
        lambda: package_form(with_entries(edit_json("metadata.json", set_key("version", 2)))),
        400,
        "bad_upload",
        "version",
    ),
    "one label": (
        lambda: package_form(with_entries(edit_json("metadata.json", set_key("labels", ["apple"])))),
        400,
        "bad_upload",
        "labels",
    ),
    "an empty label": (
        lambda: package_form(with_entries(edit_json("metadata.json", set_key("labels", ["apple", " "])))),
        400,
        "bad_upload",
        "labels",
    ),
    "no embedding size": (
        lambda: package_form(
            with_entries(edit_json("metadata.json", set_key("base.embedding_size", DELETE)))
        ),
        400,
        "bad_upload",
        "base.embedding_size",
    ),
    "no base model named": (
        lambda: package_form(with_entries(edit_json("metadata.json", set_key("base.base", DELETE)))),
        400,
        "bad_upload",
        "names no base model",
    ),
    "an unknown head": (
        lambda: package_form(with_entries(edit_json("metadata.json", set_key("head.kind", "svm")))),
        400,
        "bad_upload",
        "head.kind",
    ),
    "base weights shorter": weights_off("base", -1),
    "base weights longer": weights_off("base", 4),
    "head weights shorter": weights_off("head", -4),
    "head weights longer": weights_off("head", 1),
    "a weights file the manifest does not name": (
        lambda: package_form(
            with_entries(
                edit_json(
                    "base/model.json", lambda m: m["weightsManifest"][0].update(paths=["shard1of2.bin"])
                )
            )
        ),
        400,
        "bad_upload",
        "shard1of2.bin",
    ),
    "a head for other labels": (
        lambda: package_form(with_entries(edit_json("metadata.json", set_key("labels", ["a", "b", "c"])))),
        400,
        "bad_upload",
        "3 outputs",
    ),
    "kNN embeddings shorter": (
        lambda: package_form(with_entries(resized("knn/embeddings.f32", -4), "knn")),
        400,
        "bad_upload",
        "knn/embeddings.f32",
    ),
    "a kNN label out of range": (
        lambda: package_form(
            with_entries(lambda e: e.update({"knn/labels.json": b"[0, 1, 0, 1, 0, 2]"}), "knn")
        ),
        400,
        "bad_upload",
        "knn/labels.json",
    ),
    "a title too long": (
        lambda: package_form(make_package(), ("title", "t" * 201)),
        400,
        "bad_upload",
        "200",
    ),
    "a note too long": (
        lambda: package_form(make_package(), ("note", "n" * 2001)),
        400,
        "bad_upload",
        "2000",
    ),
    "a project file with a ../ name": (
        lambda: package_form(make_package(), ("project", ("p.zip", project_with("../evil.jpg")))),
        400,
        "bad_upload",
        '"../evil.jpg"',
    ),
    "a damaged project file": (
        lambda: package_form(make_package(), ("project", ("p.zip", damaged_project()))),
        400,
        "bad_upload",
        "project file",
    ),
    "the package as a text field": (
        lambda: form(("package", "PK not a file")),
        400,
        "bad_upload",
        "must be a file",
    ),
    "a wrong field name": (lambda: form(("model", ("m.zip", make_package()))), 400, "bad_upload", '"model"'),
    "the weights only": (
        lambda: form(("model.weights.bin", ("w.bin", b"\0" * 8))),
        400,
        "bad_upload",
        "model.json",
    ),
    "TF.js weights shorter": (
        lambda: form(("model.json", ("model.json", TFJS_JSON)), ("model.weights.bin", ("w.bin", b"\0" * 7))),
        400,
        "bad_upload",
        "8 bytes",
    ),
    "TF.js weights longer": (
        lambda: form(("model_json", ("model.json", TFJS_JSON)), ("model_weights_bin", ("w.bin", b"\0" * 9))),
        400,
        "bad_upload",
        "8 bytes",
    ),
    "a package and a TF.js model": (
        lambda: package_form(make_package(), ("model.json", ("model.json", TFJS_JSON))),
        400,
        "bad_upload",
        "not both",
    ),
    "not a form": (lambda: (b'{"package": 1}', "application/json"), 400, "bad_upload", "multipart/form-data"),
    "a broken form": (
        lambda: (b"--x\r\nnonsense", "multipart/form-data; boundary=x"),
        400,
        "bad_upload",
        "holds no model",
    ),
    "a form without its boundary": (
        lambda: (b"--x\r\n", "multipart/form-data"),
        400,
        "bad_upload",
        "the form cannot be read",
    ),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_uploads_are_refused_and_nothing_is_stored(served, case):
    make, status, code, words = HOSTILE[case]
    body, content_type = make()
    before = served.store.keys()
    reply = request("POST", served.url + "models", body=body, headers={"Content-Type": content_type})
    assert (reply.status, reply.error_code) == (status, code), (reply.body[:500], served.log_tail())
    assert reply.headers["content-type"] == "application/json"
    message = reply.json()["error"]["message"]
    assert words in message, message
    assert "Traceback" not in message and "/tmp" not in message and str(REPO) not in message
    assert served.store.keys() == before


def test_a_chunked_body_over_the_cap_is_counted_and_refused(served):
    body, content_type = package_form(os.urandom(MAX_MB * 1024**2 + 1000))
    before = served.store.keys()
    address = urllib.parse.urlsplit(served.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    connection.putrequest("POST", "/models")
    connection.putheader("Content-Type", content_type)
    connection.putheader("Transfer-Encoding", "chunked")
    connection.endheaders()
    for start in range(0, len(body), 256 * 1024):
        piece = body[start : start + 256 * 1024]
        connection.send(b"%x\r\n%s\r\n" % (len(piece), piece))
    connection.send(b"0\r\n\r\n")
    answer = connection.getresponse()
    reply = Reply(answer.status, {}, answer.read())
    connection.close()
    assert (reply.status, reply.error_code) == (413, "too_large")
    assert served.store.keys() == before


def test_a_tfjs_upload_with_the_later_field_names(served):
    weights = np.array([1.5, -2.0], dtype="<f4").tobytes()
    body, content_type = form(
        ("model_json", ("model.json", TFJS_JSON)),
        ("model_weights_bin", ("model.weights.bin", weights)),
        ("title", "Two numbers"),
    )
    reply = request("POST", served.url + "models", body=body, headers={"Content-Type": content_type})
    assert reply.status == 201, reply.body
    url = reply.json()["url"]
    info = request("GET", url).json()
    assert info["kind"] == "tfjs" and info["title"] == "Two numbers" and "labels" not in info
    assert sorted(info["files"]) == ["model.json", "model.weights.bin"]
    model = request("GET", url + "model.json").json()
    assert model["weightsManifest"] == [
        {"paths": ["model.weights.bin"], "weights": [{"name": "w", "shape": [2], "dtype": "float32"}]}
    ]
    assert request("GET", url + "model.weights.bin").body == weights
    assert request("GET", url + "model.zip").error_code == "not_found"


NODE_SCRIPT = r"""
const tf = require("@tensorflow/tfjs");
(async () => {
  await tf.setBackend("cpu");
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ units: 5, inputShape: [3], activation: "relu" }),
      tf.layers.dense({ units: 2, activation: "softmax" }),
    ],
  });
  const x = tf.tensor2d([[1, 2, 3], [0.5, -1, 2]]);
  const before = Array.from(model.predict(x).dataSync());
  const saved = await model.save(process.env.RECEIVER_URL + "models");
  const reply = await saved.responses[0].json();
  const loaded = await tf.loadLayersModel(reply.url + "model.json");
  const after = Array.from(loaded.predict(x).dataSync());
  const head = await tf.loadLayersModel(process.env.HEAD_URL);
  const probabilities = Array.from(head.predict(tf.tensor2d([JSON.parse(process.env.EMBEDDING)])).dataSync());
  const status = saved.responses[0].status;
  console.log("RESULT " + JSON.stringify({ status, reply, before, after, probabilities }));
})().catch((error) => {
  console.log("FAILED " + (error.stack || error));
  process.exit(1);
});
"""


def test_real_tfjs_saves_to_the_receiver_and_loads_back(served):
    """TF.js 4.22 in Node.js: model.save(B + "models") is accepted and tf.loadLayersModel of the
    answered URL predicts what the model did; the head of a teachkit publish loads the same way."""
    entries = package_entries(seed=5)
    teachkit = published(served, zip_entries(entries))
    embedding = np.linspace(-1, 1, EMBEDDING_SIZE, dtype=np.float32)
    result = subprocess.run(
        ["node", "-e", NODE_SCRIPT],
        cwd=REPO,
        env={
            **os.environ,
            "RECEIVER_URL": served.url,
            "HEAD_URL": teachkit["url"] + "head/model.json",
            "EMBEDDING": json.dumps(embedding.tolist()),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith(("RESULT ", "FAILED "))]
    assert result.returncode == 0 and lines and lines[-1].startswith("RESULT "), result.stdout + result.stderr
    outcome = json.loads(lines[-1].removeprefix("RESULT "))
    assert outcome["status"] == 201 and ID.match(outcome["reply"]["id"])
    assert np.allclose(outcome["after"], outcome["before"], atol=1e-6)
    info = request("GET", outcome["reply"]["url"]).json()
    assert info["kind"] == "tfjs" and sorted(info["files"]) == ["model.json", "model.weights.bin"]

    from .support.receivers import dense_head_files

    _, _, (kernel1, bias1, kernel2, bias2) = dense_head_files([EMBEDDING_SIZE, 4, 2], 5)
    hidden = np.maximum(embedding @ kernel1 + bias1, 0)
    logits = hidden @ kernel2 + bias2
    expected = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    assert np.allclose(outcome["probabilities"], expected, atol=1e-5)
