"""teachkit receive, the reference cloud receiver, as a real server on 127.0.0.1 over a local folder
and over moto's S3 server: publish, read back, share blobs, delete with the token, list, CORS,
every hostile upload refused with JSON and nothing stored, a receiver killed mid-upload, the rate
limit, bad options, and TF.js (the real one, in Node.js) saving to it and loading from it."""

from __future__ import annotations

import functools
import hashlib
import http.client
import io
import json
import os
import re
import socket
import struct
import subprocess
import time
import urllib.parse
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from builder.trained import InMemoryFile, read_model_download, read_project_file

from .support.receivers import (
    BASE_WEIGHT_BYTES,
    EMBEDDING_SIZE,
    REPO,
    MotoS3,
    Receiver,
    Reply,
    make_package,
    make_project,
    moto_s3,
    multipart,
    package_entries,
    publish,
    receiver_command,
    request,
    start_receiver,
    zip_entries,
)

ALLOWED = "https://class.example.org"
OTHER = "https://elsewhere.example.net"
MAX_MB = 2
ID = re.compile(r"^[A-Za-z0-9_-]{12}$")
LOG_LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z 127\.0\.0\.1 (?P<method>[A-Z]+) (?P<path>\S+) "
    r"(?P<status>\d{3}) \d+ B \d+ ms( \(received \d+ B\))?$"
)


@dataclass
class Store:
    """A store as `--store` names it, the environment a receiver needs for it, and its keys."""

    kind: str
    spec: str
    env: dict[str, str]
    keys: Callable[[], list[str]]
    read: Callable[[str], bytes]


@pytest.fixture(scope="module")
def s3() -> Iterator[MotoS3]:
    with moto_s3() as server:
        yield server


@pytest.fixture(scope="module")
def new_store(s3: MotoS3, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Store]:
    def make(kind: str) -> Store:
        if kind == "folder":
            root = tmp_path_factory.mktemp("store") / "models"  # created by the receiver

            def folder_keys() -> list[str]:
                return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())

            return Store(kind, str(root), {}, folder_keys, lambda key: (root / key).read_bytes())
        bucket = s3.create_bucket()

        def bucket_keys() -> list[str]:
            return [key.removeprefix("class-7/") for key in s3.keys(bucket, "class-7/")]

        return Store(
            kind, f"s3://{bucket}/class-7", s3.env, bucket_keys, lambda key: s3.get(bucket, f"class-7/{key}")
        )

    return make


@dataclass
class Served:
    receiver: Receiver
    store: Store

    @property
    def url(self) -> str:
        return self.receiver.url

    def log_tail(self) -> str:
        return self.receiver.log_text()[-4000:]


@pytest.fixture(scope="module", params=["folder", "s3"])
def served(request: pytest.FixtureRequest, new_store: Callable[[str], Store]) -> Iterator[Served]:
    """A receiver per kind of store, with --list, --max-mb 2 and pages from ALLOWED and file://."""
    store = new_store(request.param)
    with start_receiver(
        store.spec,
        [ALLOWED, "null"],
        list_models=True,
        max_mb=MAX_MB,
        extra_args=["--rate", "100000"],
        env=store.env,
    ) as receiver:
        yield Served(receiver, store)


def published(served: Served, package: bytes, **options: object) -> dict:
    reply = publish(served.url, package, **options)
    assert reply.status == 201, reply.body
    return reply.json()


def blob_keys(store: Store) -> set[str]:
    return {key for key in store.keys() if key.startswith("blobs/")}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def logged(receiver: Receiver, path: str) -> list[str]:
    """The receiver's log lines for requests to `path`, once there is one (10 s at most)."""
    deadline = time.monotonic() + 10
    while True:
        lines = [
            line
            for line in receiver.log_text().splitlines()
            if (match := LOG_LINE.match(line)) and match["path"] == path
        ]
        if lines or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def test_service_says_what_it_is_and_logs_one_line_per_request(served):
    reply = request("GET", served.url)
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    assert reply.json() == {
        "service": "teachkit-receiver",
        "version": "0.1.0",
        "lists": True,
        "max_mb": MAX_MB,
    }
    assert request("GET", served.url + "no/such/route").error_code == "not_found"
    lines = logged(served.receiver, "/no/such/route")
    assert len(lines) == 1 and LOG_LINE.match(lines[0])["status"] == "404", lines
    text = served.receiver.log_text()
    shown = f"the folder {served.store.spec}" if served.store.kind == "folder" else f"{served.store.spec}/"
    assert f"Receiving models into {shown} at {served.url} for pages from {ALLOWED}, null" in text
    assert "uvicorn" not in text.lower() and "Traceback" not in text


@pytest.mark.parametrize("kind", ["dense", "knn"])
def test_publish_then_read_everything_back(served, kind):
    entries = package_entries(kind, title="Fruit from the package")
    package = zip_entries(entries)
    answer = published(served, package, note="Trained in class 7", origin=ALLOWED)
    model_id = answer["id"]
    assert ID.match(model_id) and answer["url"] == f"{served.url}models/{model_id}/"
    assert len(answer["delete_token"]) >= 43  # 32 random bytes
    keys = served.store.keys()
    assert f"models/{model_id}.json" in keys
    assert {f"blobs/{sha256(data)}" for data in entries.values()} <= set(keys)
    stored = json.loads(served.store.read(f"models/{model_id}.json"))
    assert stored["token_sha256"] == sha256(answer["delete_token"].encode())
    assert answer["delete_token"] not in json.dumps(stored)

    info = request("GET", answer["url"])
    assert info.status == 200 and info.headers["cache-control"] == "no-cache"
    assert request("GET", answer["url"].rstrip("/")).json() == info.json()
    record = info.json()
    assert record["created"].endswith("Z") and record.pop("created")
    assert record.pop("base")["embedding_size"] == EMBEDDING_SIZE
    assert record == {
        "id": model_id,
        "kind": "teachkit-model",
        "title": "Fruit from the package",
        "note": "Trained in class 7",
        "labels": ["apple", "banana"],
        "has_project": False,
        "files": {name: {"size": len(data), "sha256": sha256(data)} for name, data in entries.items()},
    }
    for name, data in entries.items():
        file = request("GET", answer["url"] + name)
        assert file.status == 200 and file.body == data, name
        assert file.headers["etag"] == f'"{sha256(data)}"' and file.headers["cache-control"] == "no-cache"
        expected = "application/json" if name.endswith(".json") else None
        assert expected is None or file.headers["content-type"] == expected
    assert (
        request("GET", answer["url"] + "base/weights.bin").headers["content-type"]
        == "application/octet-stream"
    )
    etag = request("GET", answer["url"] + "metadata.json").headers["etag"]
    assert request("GET", answer["url"] + "metadata.json", headers={"If-None-Match": etag}).status == 304

    download = request("GET", answer["url"] + "model.zip")
    assert download.status == 200 and download.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(download.body)) as archive:
        assert {name: archive.read(name) for name in archive.namelist()} == entries
        assert archive.getinfo("base/weights.bin").compress_type == zipfile.ZIP_STORED
    assert request("GET", answer["url"] + "model.zip").body == download.body  # the same zip each time
    trained = read_model_download(InMemoryFile(download.body, "model.zip"))
    assert trained.class_names == ["apple", "banana"] and trained.head.kind == kind

    missing = request("GET", answer["url"] + "project.teachkit.zip")
    assert missing.status == 404 and missing.error_code == "not_found"
    assert "model.zip" in missing.json()["error"]["message"]
    assert request("GET", f"{served.url}models/AAAAAAAAAAAA/").error_code == "not_found"


def test_the_project_file_is_kept_only_when_sent(served):
    project = make_project()
    with_project = published(served, make_package(), project=project, title="With examples")
    info = request("GET", with_project["url"]).json()
    assert info["has_project"] is True and info["title"] == "With examples"
    assert info["files"]["project.teachkit.zip"] == {"size": len(project), "sha256": sha256(project)}
    copy = request("GET", with_project["url"] + "project.teachkit.zip")
    assert copy.status == 200 and copy.body == project
    assert len(read_project_file(InMemoryFile(copy.body, "copy")).samples) == 4
    with zipfile.ZipFile(io.BytesIO(request("GET", with_project["url"] + "model.zip").body)) as archive:
        assert "project.teachkit.zip" not in archive.namelist()  # the model download as it was

    without = published(served, make_package())
    info = request("GET", without["url"]).json()
    assert info["has_project"] is False and "project.teachkit.zip" not in info["files"]
    keys = served.store.keys()
    assert f"refs/{sha256(project)}/{with_project['id']}" in keys
    assert f"refs/{sha256(project)}/{without['id']}" not in keys


def test_same_bytes_are_stored_once_and_deleted_when_no_model_uses_them(served):
    store = served.store
    before = set(store.keys())
    package = make_package(seed=11)
    first = published(served, package)
    after_first = blob_keys(store)
    second = published(served, package)
    assert blob_keys(store) == after_first  # nothing new: the same bytes again
    other = published(served, make_package(seed=12))  # another student: same base, other head
    only_other = blob_keys(store) - after_first
    assert len(only_other) == 1  # head/weights.bin; the base, metadata and topology are shared

    url = f"{served.url}models/{first['id']}"
    refused = request("DELETE", url)
    assert refused.status == 401 and refused.error_code == "no_token"
    wrong = request("DELETE", url, headers={"Authorization": f"Bearer {second['delete_token']}"})
    assert wrong.status == 403 and wrong.error_code == "wrong_token"
    unknown = request(
        "DELETE", f"{served.url}models/AAAAAAAAAAAA", headers={"Authorization": "Bearer whatever"}
    )
    assert unknown.status == 404 and unknown.error_code == "not_found"
    assert request("GET", url + "/").status == 200

    deleted = request("DELETE", url, headers={"Authorization": f"Bearer {first['delete_token']}"})
    assert deleted.status == 200 and deleted.json() == {"deleted": first["id"]}
    assert request("GET", url + "/").error_code == "not_found"
    assert f"models/{first['id']}.json" not in store.keys()
    assert not any(key.endswith(f"/{first['id']}") for key in store.keys())  # its refs
    assert blob_keys(store) == after_first | only_other  # the second copy still uses them all
    assert request("GET", second["url"] + "base/weights.bin").status == 200

    for answer in (second, other):
        reply = request(
            "DELETE", answer["url"], headers={"Authorization": f"Bearer {answer['delete_token']}"}
        )
        assert reply.status == 200, reply.body
    assert set(store.keys()) == before  # every blob, ref and record of the three is gone


def test_listing_shows_the_newest_first(served):
    older = published(served, make_package(), title="Older")
    newer = published(served, make_package("knn"), title="Newer", note="kNN")
    listed = request("GET", served.url + "models")
    assert listed.status == 200
    models = listed.json()["models"]
    assert [model["created"] for model in models] == sorted((m["created"] for m in models), reverse=True)
    ids = [model["id"] for model in models]
    assert ids.index(newer["id"]) < ids.index(older["id"])
    entry = models[ids.index(newer["id"])]
    assert entry.pop("created")
    assert entry == {
        "id": newer["id"],
        "title": "Newer",
        "note": "kNN",
        "labels": ["apple", "banana"],
        "url": newer["url"],
    }


def test_cors_only_for_allowed_origins(served):
    allowed = request("GET", served.url, headers={"Origin": ALLOWED})
    assert allowed.status == 200
    assert allowed.headers["access-control-allow-origin"] == ALLOWED and "Origin" in allowed.headers["vary"]
    from_file = request("GET", served.url, headers={"Origin": "null"})
    assert from_file.headers["access-control-allow-origin"] == "null"
    preflight = request(
        "OPTIONS",
        served.url + "models",
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "DELETE",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert preflight.status == 204
    assert preflight.headers["access-control-allow-origin"] == ALLOWED
    assert preflight.headers["access-control-allow-methods"] == "GET, POST, DELETE, OPTIONS"
    assert preflight.headers["access-control-allow-headers"] == "Authorization, Content-Type"
    assert preflight.headers["access-control-max-age"] == "600"
    plain = request("GET", served.url)
    assert plain.status == 200 and "access-control-allow-origin" not in plain.headers

    model = published(served, make_package(), origin=ALLOWED)
    before = served.store.keys()
    for method, url, body in [
        ("GET", served.url, None),
        ("OPTIONS", served.url + "models", None),
        ("GET", model["url"], None),
        ("GET", model["url"] + "model.zip", None),
        ("DELETE", model["url"], None),
    ]:
        headers = {"Origin": OTHER, "Authorization": f"Bearer {model['delete_token']}"}
        refused = request(method, url, body=body, headers=headers)
        assert refused.status == 403 and refused.error_code == "origin_not_allowed", (method, url)
        assert "access-control-allow-origin" not in refused.headers
        assert OTHER in refused.json()["error"]["message"]
    refused = publish(served.url, make_package(seed=99), origin=OTHER)
    assert refused.status == 403 and refused.error_code == "origin_not_allowed"
    assert served.store.keys() == before  # nothing stored, nothing deleted


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


def form(*fields: tuple[str, str | tuple[str, bytes]]) -> tuple[bytes, str]:
    return multipart(list(fields))


def package_form(package: bytes, *extra: tuple[str, str | tuple[str, bytes]]) -> tuple[bytes, str]:
    return form(("package", ("model.zip", package)), *extra)


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
    "base weights shorter": (
        lambda: package_form(with_entries(resized("base/weights.bin", -1))),
        400,
        "bad_upload",
        "base/model.json",
    ),
    "base weights longer": (
        lambda: package_form(with_entries(resized("base/weights.bin", 4))),
        400,
        "bad_upload",
        "base/model.json",
    ),
    "head weights shorter": (
        lambda: package_form(with_entries(resized("head/weights.bin", -4))),
        400,
        "bad_upload",
        "head/model.json",
    ),
    "head weights longer": (
        lambda: package_form(with_entries(resized("head/weights.bin", 1))),
        400,
        "bad_upload",
        "head/model.json",
    ),
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


def test_a_receiver_killed_mid_upload_keeps_every_earlier_model_and_no_partial_one(new_store, store_kind):
    store = new_store(store_kind)
    with start_receiver(store.spec, [ALLOWED], list_models=True, env=store.env) as first:
        kept = published(Served(first, store), make_package(), project=make_project())
        before = store.keys()
        body, content_type = package_form(
            make_package(seed=3), ("project", ("p.zip", make_project(per_class=40)))
        )
        address = urllib.parse.urlsplit(first.url)
        with socket.create_connection((address.hostname, address.port), timeout=10) as raw:
            head = (
                f"POST /models HTTP/1.1\r\nHost: {address.netloc}\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            raw.sendall(head + body[: len(body) // 2])
            time.sleep(0.5)
            first.kill()
        assert first.process.returncode == -9
    assert store.keys() == before
    with start_receiver(store.spec, [ALLOWED], list_models=True, env=store.env) as second:
        assert [model["id"] for model in request("GET", second.url + "models").json()["models"]] == [
            kept["id"]
        ]
        info = request("GET", f"{second.url}models/{kept['id']}/").json()
        for name, described in info["files"].items():
            data = request("GET", f"{second.url}models/{kept['id']}/{name}").body
            assert sha256(data) == described["sha256"], name
    assert store.keys() == before


@pytest.fixture(params=["folder", "s3"])
def store_kind(request: pytest.FixtureRequest) -> str:
    return request.param


def test_leftovers_of_an_interrupted_upload_are_swept_when_old(new_store):
    """What a receiver killed while storing leaves (a temporary file, refs and a blob with no
    record) is invisible, and swept by the next start once over an hour old."""
    store = new_store("folder")
    root = Path(store.spec)
    with start_receiver(store.spec, [ALLOWED], env=store.env) as receiver:
        kept = published(Served(receiver, store), make_package())
    before = store.keys()
    orphan = "ab" * 32
    (root / "refs" / orphan).mkdir(parents=True)
    leftovers = [
        root / "refs" / orphan / "ZZZZZZZZZZZZ",
        root / "blobs" / orphan,
        root / ".tmp" / "tmp1234.part",
    ]
    fresh = root / ".tmp" / "tmp5678.part"
    for path in [*leftovers, fresh]:
        path.write_bytes(b"half")
    old = time.time() - 7200
    for path in leftovers:
        os.utime(path, (old, old))
    with start_receiver(store.spec, [ALLOWED], env=store.env) as receiver:
        assert request("GET", f"{receiver.url}models/{kept['id']}/").status == 200
        assert "Swept 3 leftovers" in receiver.log_text()
    assert store.keys() == sorted([*before, ".tmp/tmp5678.part"])  # a fresh one may be an upload under way


def test_over_the_rate_and_without_list(tmp_path):
    with start_receiver(str(tmp_path / "store"), [ALLOWED], extra_args=["--rate", "3"]) as receiver:
        # start_receiver's own GET / took the first request of the minute
        unlisted = request("GET", receiver.url + "models", headers={"Origin": ALLOWED})
        assert unlisted.status == 404 and unlisted.error_code == "not_listed"
        assert request("GET", receiver.url).status == 200
        refused = request("GET", receiver.url, headers={"Origin": ALLOWED})
        assert refused.status == 429 and refused.error_code == "too_many_requests"
        assert 1 <= int(refused.headers["retry-after"]) <= 20
        assert refused.headers["access-control-allow-origin"] == ALLOWED  # the page can read why
        assert f"try again in {refused.headers['retry-after']} seconds" in refused.json()["error"]["message"]


def test_teachkit_receive_does_not_import_tensorflow(tmp_path):
    with start_receiver(str(tmp_path), [ALLOWED], env={"PYTHONPROFILEIMPORTTIME": "1"}) as receiver:
        imported = receiver.log_text()
    assert re.search(r"\|\s+uvicorn$", imported, re.MULTILINE), imported[-2000:]
    assert re.search(r"\|\s+starlette$", imported, re.MULTILINE)
    assert "tensorflow" not in imported


@pytest.fixture
def port_in_use() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


BAD_OPTIONS = {
    "a file as the store": ("{file}", ALLOWED, (), "is a file; give a folder"),
    "an unwritable folder": (
        "/proc/teachkit",
        ALLOWED,
        (),
        "cannot write to the store folder /proc/teachkit",
    ),
    "a bucket that does not exist": (
        "s3://no-such-bucket/x",
        ALLOWED,
        (),
        "the bucket no-such-bucket does not exist",
    ),
    "no credentials": ("s3://{bucket}", ALLOWED, (), "no AWS credentials"),
    "no bucket name": ("s3://", ALLOWED, (), "is not a bucket name"),
    "another scheme": ("gs://bucket/x", ALLOWED, (), "s3://bucket/prefix"),
    "an origin with a path": (
        "{folder}",
        "https://class.example.org/page.html",
        (),
        "use https://class.example.org",
    ),
    "an origin without a scheme": ("{folder}", "class.example.org", (), "is not an origin"),
    "any origin": ("{folder}", "*", (), "list each origin"),
    "an ftp origin": ("{folder}", "ftp://class.example.org", (), "is not an origin"),
    "a port in use": ("{folder}", ALLOWED, ("--port", "{port}"), "cannot listen on 127.0.0.1:{port}"),
    "a public URL that is none": (
        "{folder}",
        ALLOWED,
        ("--public-url", "models.example.org"),
        "is not a base URL",
    ),
}


@pytest.mark.parametrize("case", list(BAD_OPTIONS))
def test_bad_options_are_one_line_and_exit_1(case, tmp_path, s3, port_in_use):
    store, origin, extra, expected = BAD_OPTIONS[case]
    (tmp_path / "file").write_text("not a folder")
    values = {
        "file": tmp_path / "file",
        "folder": tmp_path / "store",
        "port": port_in_use,
        "bucket": s3.create_bucket(),
    }
    env = dict(s3.env)
    if case == "no credentials":
        del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
        env |= {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}
    result = subprocess.run(
        [*receiver_command(store.format(**values), [origin]), *(arg.format(**values) for arg in extra)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert expected.format(**values) in lines[0]


def test_links_use_the_public_url_or_what_the_proxy_says(tmp_path):
    package = make_package()
    with start_receiver(
        str(tmp_path / "a"), [ALLOWED], extra_args=["--public-url", "https://ml.example.org/rx"]
    ) as fixed:
        answer = publish(fixed.url, package).json()
        assert answer["url"] == f"https://ml.example.org/rx/models/{answer['id']}/"
    with start_receiver(str(tmp_path / "b"), [ALLOWED], list_models=True) as proxied:
        body, content_type = package_form(package)
        headers = {"Content-Type": content_type, "Host": "ml.example.org", "X-Forwarded-Proto": "https"}
        answer = request("POST", proxied.url + "models", body=body, headers=headers).json()
        assert answer["url"] == f"https://ml.example.org/models/{answer['id']}/"
        listed = request(
            "GET", proxied.url + "models", headers={"Host": "ml.example.org", "X-Forwarded-Proto": "https"}
        )
        assert listed.json()["models"][0]["url"] == answer["url"]


def test_a_failure_inside_is_a_logged_500_with_json(new_store):
    store = new_store("folder")
    with start_receiver(store.spec, [ALLOWED], env=store.env) as receiver:
        answer = published(Served(receiver, store), make_package())
        record = json.loads(store.read(f"models/{answer['id']}.json"))
        (Path(store.spec) / "blobs" / record["files"]["labels.txt"]["sha256"]).unlink()
        reply = request("GET", answer["url"] + "labels.txt", headers={"Origin": ALLOWED})
        assert (reply.status, reply.error_code) == (500, "internal")
        assert reply.headers["access-control-allow-origin"] == ALLOWED
        assert "blob" not in reply.json()["error"]["message"]
        deadline = time.monotonic() + 10
        while "the blob of labels.txt is missing" not in receiver.log_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (
            "Traceback" in receiver.log_text() and "the blob of labels.txt is missing" in receiver.log_text()
        )
        assert logged(receiver, f"/models/{answer['id']}/labels.txt")[0].split()[4] == "500"


def test_help_names_every_option():
    from .support.site import run_cli

    result = run_cli("receive", "--help")
    assert result.exit_code == 0
    for option in (
        "--store",
        "--allow-origin",
        "--host",
        "--port",
        "--max-mb",
        "--list",
        "--public-url",
        "--rate",
    ):
        assert option in result.output, option
    missing = run_cli("receive", "--store", "x")
    assert missing.exit_code == 2 and "Missing option '--allow-origin'" in missing.output
