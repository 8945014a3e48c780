"""teachkit receive, the reference cloud receiver, as a real server on 127.0.0.1 over a local folder
and over moto's S3 server: publish, read back, share blobs, delete with the token, list, CORS.
Hostile uploads and TF.js: tests/test_receiver_uploads.py; the command itself (a kill mid-upload,
the rate limit, bad options): tests/test_receiver_command.py."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from builder.trained import InMemoryFile, read_model_download, read_project_file

from .support import receiver_stores
from .support.receiver_stores import (
    ALLOWED,
    ID,
    LOG_LINE,
    MAX_MB,
    OTHER,
    blob_keys,
    logged,
    published,
    sha256,
)
from .support.receivers import (
    EMBEDDING_SIZE,
    make_package,
    make_project,
    package_entries,
    publish,
    request,
    zip_entries,
)

# The receiver fixtures (s3, new_store, served): pytest finds a module's fixtures among its names.
s3_fixture = receiver_stores.s3_fixture
new_store_fixture = receiver_stores.new_store_fixture
served_fixture = receiver_stores.served_fixture


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
