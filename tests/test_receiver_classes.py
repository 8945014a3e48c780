"""Classes on the receiver (issue 22), against a real `teachkit receive` over a folder and over
moto's S3 server: `teachkit class create|list|close|delete`, a student's hand-in, the teacher's list,
replacing a hand-in with its delete token, and every refusal storing nothing."""

from __future__ import annotations

import hashlib
import json
import re
import threading

import pytest

from .support import receiver_stores
from .support.receiver_stores import ALLOWED, ID, MAX_MB, OTHER, Served, published
from .support.receivers import (
    class_submissions,
    hand_in,
    make_class,
    make_package,
    make_project,
    request,
    start_receiver,
    teachkit_class,
)

# The receiver fixtures (s3, new_store, served): pytest finds a module's fixtures among its names.
s3_fixture = receiver_stores.s3_fixture
new_store_fixture = receiver_stores.new_store_fixture
served_fixture = receiver_stores.served_fixture

CODE = re.compile(r"^[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{7}$")
METRICS = {"accuracy": 0.94, "validation": {"correct": 16, "count": 17}, "epochs": 20}
IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


@pytest.fixture
def klass(served: Served) -> dict:
    return make_class("7b biology", store=served.store.spec, env=served.store.env)


def handed_in(served: Served, code: str, name: str, **options) -> dict:
    options.setdefault("metrics", json.dumps(METRICS))
    reply = hand_in(served.url, code, options.pop("package", None) or make_package(), name, **options)
    assert reply.status == 201, reply.body
    return reply.json()


def listed(served: Served, klass: dict) -> dict:
    reply = class_submissions(served.url, klass["code"], klass["teacher_token"])
    assert reply.status == 200, reply.body
    return reply.json()


def stored_bytes(served: Served) -> dict[str, bytes]:
    return {key: served.store.read(key) for key in served.store.keys()}


def test_create_prints_a_code_and_a_token_that_is_stored_only_as_its_hash(served, klass):
    assert CODE.match(klass["code"]) and klass["title"] == "7b biology"
    assert len(klass["teacher_token"]) >= 43  # 32 random bytes
    stored = stored_bytes(served)
    record = json.loads(stored[f"classes/{klass['code']}/class.json"])
    assert record == {
        "code": klass["code"],
        "title": "7b biology",
        "created": klass["created"],
        "closed": False,
        "token_sha256": hashlib.sha256(klass["teacher_token"].encode()).hexdigest(),
    }
    assert not any(klass["teacher_token"].encode() in data for data in stored.values())

    result = teachkit_class("list", "--json", store=served.store.spec, env=served.store.env)
    assert result.returncode == 0, result.stderr
    assert {**klass, "closed": False, "submissions": 0, "teacher_token": None} in [
        {**row, "teacher_token": None} for row in json.loads(result.stdout)
    ]
    shown = teachkit_class("create", "8a", store=served.store.spec, env=served.store.env)
    assert shown.returncode == 0, shown.stderr
    code, token = re.search(r"the code (\S+): .*\n.*shown only now\): (\S+)$", shown.stdout.strip()).groups()
    assert CODE.match(code) and len(token) >= 43


def test_a_hand_in_is_listed_for_the_teacher_and_its_url_serves_the_model(served, klass):
    package = make_package(labels=("cat", "dog"), seed=4)
    answer = handed_in(served, klass["code"], "  Ada  L. ", package=package, origin=ALLOWED)
    assert ID.match(answer["id"]) and answer["replaced"] is False
    assert answer["url"] == f"{served.url}models/{answer['id']}/" and len(answer["delete_token"]) >= 43

    # The code is read case-insensitively, with spaces and dashes ignored.
    typed = f"{klass['code'][:3].lower()}-{klass['code'][3:]}"
    reply = class_submissions(served.url, typed, klass["teacher_token"], origin=ALLOWED)
    assert reply.status == 200, reply.body
    assert reply.headers["access-control-allow-origin"] == ALLOWED
    listing = reply.json()
    assert {key: listing[key] for key in ("code", "title", "closed", "created")} == {
        "code": klass["code"],
        "title": "7b biology",
        "closed": False,
        "created": klass["created"],
    }
    [item] = listing["submissions"]
    assert item == {
        "id": answer["id"],
        "name": "Ada  L.",
        "created": item["created"],
        "labels": ["cat", "dog"],
        "url": answer["url"],
        "metrics": METRICS,
    }
    info = request("GET", item["url"]).json()
    assert info["labels"] == ["cat", "dog"] and info["class"] == klass["code"] and "token_sha256" not in info
    assert request("GET", item["url"] + "model.zip").status == 200
    assert request("GET", item["url"] + "head/weights.bin").status == 200

    # The student deletes it with its delete token: the class no longer lists it.
    assert request("DELETE", f"{served.url}models/{answer['id']}").status == 401
    deleted = request(
        "DELETE",
        f"{served.url}models/{answer['id']}",
        headers={"Authorization": f"Bearer {answer['delete_token']}"},
    )
    assert deleted.status == 200, deleted.body
    assert listed(served, klass)["submissions"] == []
    assert not [key for key in served.store.keys() if key.startswith(f"classes/{klass['code']}/submissions/")]


def test_the_same_name_again_replaces_only_with_the_earlier_delete_token(served, klass):
    code = klass["code"]
    first = handed_in(served, code, "Ada Lovelace", package=make_package(seed=1))
    other = handed_in(served, code, "Grace", package=make_package(seed=2))
    before = served.store.keys()
    for token in (None, other["delete_token"], klass["teacher_token"]):
        reply = hand_in(served.url, code, make_package(seed=3), "ada   LOVELACE ", token=token)
        assert reply.status == 409 and reply.error_code == "name_taken", reply.body
        assert "already handed in as Ada Lovelace" in reply.json()["error"]["message"]
    assert served.store.keys() == before

    again = handed_in(
        served, code, "ada   LOVELACE ", package=make_package(seed=3), token=first["delete_token"]
    )
    assert again["replaced"] is True and again["id"] != first["id"]
    names = [(item["id"], item["name"]) for item in listed(served, klass)["submissions"]]
    assert names == [(again["id"], "ada   LOVELACE"), (other["id"], "Grace")]
    assert len([key for key in served.store.keys() if key.startswith(f"classes/{code}/submissions/")]) == 2
    assert request("GET", first["url"]).error_code == "not_found"
    assert f"models/{first['id']}.json" not in served.store.keys()
    assert not [key for key in served.store.keys() if key.endswith(f"/{first['id']}")]  # its refs
    # The replacing submission's token is the one that replaces it next.
    assert (
        hand_in(served.url, code, make_package(seed=5), "Ada Lovelace", token=first["delete_token"]).status
        == 409
    )


def refusal_cases(klass: dict, closed: dict, taken: dict) -> dict[str, tuple]:
    """name: (hand_in keyword arguments, status, error code, a phrase of the message)."""
    package = make_package(seed=9)
    return {
        "unknown code": (
            {"code": "ABC2345"},
            404,
            "unknown_class_code",
            "There is no class with the code ABC2345 here; check the code your teacher gave you.",
        ),
        "malformed code": ({"code": "not-a-code!"}, 404, "unknown_class_code", "check the code your teacher"),
        "closed class": (
            {"code": closed["code"]},
            409,
            "class_closed",
            f"The class {closed['code']} no longer takes hand-ins; ask your teacher.",
        ),
        "with images": (
            {"extra": [("project", ("project.teachkit.zip", make_project()))]},
            400,
            "bad_upload",
            "a hand-in carries the trained model only, never example images",
        ),
        "empty name": ({"name": "   "}, 400, "bad_upload", "the name is empty"),
        "an invisible name": ({"name": " \u200b\u2060 "}, 400, "bad_upload", "the name is empty"),
        "no name": ({"name": None}, 400, "bad_upload", "the hand-in has no name"),
        "61 characters": ({"name": "a" * 61}, 400, "bad_upload", "the name has 61 characters; at most 60"),
        "a line break": ({"name": "Ada\nLovelace"}, 400, "bad_upload", "control characters"),
        "a bidi override": ({"name": "Ada\u202eecalevol"}, 400, "bad_upload", "control characters"),
        "metrics not JSON": ({"metrics": "{accuracy: 1"}, 400, "bad_upload", "the field metrics is not JSON"),
        "metrics a list": (
            {"metrics": "[0.9]"},
            400,
            "bad_upload",
            "must be a JSON object ({...}), not an array",
        ),
        "metrics with NaN": ({"metrics": '{"accuracy": NaN}'}, 400, "bad_upload", "NaN and Infinity are not"),
        "metrics nested deep": ({"metrics": "[" * 30000}, 400, "bad_upload", "the field metrics is not JSON"),
        "no package": ({"package": None}, 400, "bad_upload", "the hand-in holds no model"),
        "not a package": ({"package": b"PK\x03\x04 not a zip"}, 400, "bad_upload", "the uploaded package"),
        "a TF.js model": (
            {"package": None, "extra": [("model.json", ("model.json", b"{}"))]},
            400,
            "bad_upload",
            'unexpected field "model.json" in the hand-in',
        ),
        "oversize": (
            {"package": package + b"\0" * (MAX_MB * 1024 * 1024)},
            413,
            "too_large",
            f"larger than this receiver takes ({MAX_MB} MB)",
        ),
        "foreign origin": ({"origin": OTHER}, 403, "origin_not_allowed", f"pages on {OTHER}"),
        "name taken": ({"name": taken["name"].upper()}, 409, "name_taken", "choose another name"),
        "name taken, another's token": (
            {"name": taken["name"], "token": klass["teacher_token"]},
            409,
            "name_taken",
            "choose another name",
        ),
    }


def test_every_refused_hand_in_says_why_and_stores_nothing(served, klass):
    closed = make_class("last year", store=served.store.spec, env=served.store.env)
    result = teachkit_class("close", closed["code"], store=served.store.spec, env=served.store.env)
    assert result.returncode == 0 and f"Closed the class {closed['code']}" in result.stdout, result.stderr
    taken = handed_in(served, klass["code"], "Ada") | {"name": "Ada"}
    for case, (options, status, code, phrase) in refusal_cases(klass, closed, taken).items():
        arguments = {"code": klass["code"], "package": make_package(seed=9), "name": "Grace", **options}
        before = served.store.keys()
        reply = hand_in(
            served.url,
            arguments.pop("code"),
            arguments.pop("package"),
            arguments.pop("name"),
            metrics=arguments.pop("metrics", "{}"),
            **arguments,
        )
        assert (reply.status, reply.error_code) == (status, code), f"{case}: {reply.body[:300]!r}"
        assert phrase in reply.json()["error"]["message"], f"{case}: {reply.body!r}"
        assert served.store.keys() == before, case
    assert [item["name"] for item in listed(served, klass)["submissions"]] == ["Ada"]


def test_only_the_teacher_token_lists_the_class(served, klass):
    student = handed_in(served, klass["code"], "Ada")
    other = make_class("8a", store=served.store.spec, env=served.store.env)
    reply = class_submissions(served.url, klass["code"], None)
    assert (reply.status, reply.error_code) == (401, "no_token") and reply.headers[
        "www-authenticate"
    ] == "Bearer"
    assert "the teacher token that teachkit class create printed" in reply.json()["error"]["message"]
    for token in (student["delete_token"], other["teacher_token"], "x" * 43):
        reply = class_submissions(served.url, klass["code"], token)
        assert (reply.status, reply.error_code) == (403, "wrong_token"), reply.body
    reply = class_submissions(served.url, "ABC2345", klass["teacher_token"])
    assert (reply.status, reply.error_code) == (404, "unknown_class_code")
    assert class_submissions(served.url, other["code"], other["teacher_token"]).json()["submissions"] == []
    # A page's preflight may send the token.
    preflight = request(
        "OPTIONS",
        f"{served.url}classes/{klass['code']}/submissions",
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert preflight.status == 204 and "Authorization" in preflight.headers["access-control-allow-headers"]


def test_no_image_bytes_are_stored_and_the_public_list_has_no_submissions(served, klass):
    public = published(served, make_package(title="Public fruit"))
    ids = {
        handed_in(served, klass["code"], f"Student {n}", package=make_package(seed=n))["id"] for n in range(3)
    }
    refused = hand_in(
        served.url, klass["code"], make_package(), "Eve", extra=[("project", ("p.zip", make_project()))]
    )
    assert refused.status == 400
    for key, data in stored_bytes(served).items():
        assert not data.startswith(IMAGE_MAGIC) and b"JFIF" not in data, key
    listed_ids = {model["id"] for model in request("GET", served.url + "models").json()["models"]}
    assert public["id"] in listed_ids and not ids & listed_ids


def test_two_hand_ins_at_once_are_both_listed(served, klass):
    answers: dict[str, int] = {}

    def send(name: str, seed: int) -> None:
        answers[name] = hand_in(served.url, klass["code"], make_package(seed=seed), name).status

    threads = [threading.Thread(target=send, args=(name, seed)) for seed, name in enumerate(("Ada", "Grace"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert answers == {"Ada": 201, "Grace": 201}
    assert [item["name"] for item in listed(served, klass)["submissions"]] == ["Ada", "Grace"]


def test_of_first_hand_ins_under_one_name_at_once_one_is_kept_and_no_model_is_left_over(served, klass):
    statuses: list[tuple[int, str | None]] = []

    def send(seed: int) -> None:
        reply = hand_in(served.url, klass["code"], make_package(seed=seed), "Ada")
        statuses.append((reply.status, reply.error_code))

    threads = [threading.Thread(target=send, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(statuses, key=str) == sorted([(201, None)] + [(409, "name_taken")] * 3, key=str)
    [item] = listed(served, klass)["submissions"]
    records = [
        json.loads(served.store.read(key))
        for key in served.store.keys()
        if key.startswith("models/") and key.endswith(".json")
    ]
    assert [record["id"] for record in records if record.get("class") == klass["code"]] == [item["id"]]


def test_close_list_and_delete_on_the_command_line(served, klass):
    store, env = served.store.spec, served.store.env
    kept = make_class("8a", store=store, env=env)
    kept_answer = handed_in(served, kept["code"], "Grace")
    answers = [handed_in(served, klass["code"], name) for name in ("Ada", "Alan")]

    closing = teachkit_class("close", klass["code"].lower(), store=store, env=env)
    assert closing.returncode == 0, closing.stderr
    reply = hand_in(served.url, klass["code"], make_package(), "Late")
    assert (reply.status, reply.error_code) == (409, "class_closed")
    assert listed(served, klass)["closed"] is True  # the teacher still lists it
    rows = {
        row["code"]: row for row in json.loads(teachkit_class("list", "--json", store=store, env=env).stdout)
    }
    assert (rows[klass["code"]]["closed"], rows[klass["code"]]["submissions"]) == (True, 2)
    assert (rows[kept["code"]]["closed"], rows[kept["code"]]["submissions"]) == (False, 1)
    text = teachkit_class("list", store=store, env=env).stdout
    assert re.search(rf"^{klass['code']}  \S+  closed  2 submissions  7b biology$", text, re.MULTILINE), text

    refused = teachkit_class("delete", klass["code"], store=store, env=env, stdin="n\n")
    assert refused.returncode == 1 and "Aborted" in refused.stderr
    deleted = teachkit_class("delete", klass["code"], "--yes", store=store, env=env)
    assert deleted.returncode == 0, deleted.stderr
    assert f"Deleted the class {klass['code']} (7b biology) and its 2 submissions." in deleted.stdout
    keys = served.store.keys()
    assert not [key for key in keys if key.startswith(f"classes/{klass['code']}/")]
    for answer in answers:
        assert f"models/{answer['id']}.json" not in keys and request("GET", answer["url"]).status == 404
    assert request("GET", kept_answer["url"]).status == 200
    reply = hand_in(served.url, klass["code"], make_package(), "Ada")
    assert (reply.status, reply.error_code) == (404, "unknown_class_code")

    untitled = teachkit_class("create", "  ", store=store, env=env)
    assert untitled.returncode == 1 and "error: the class needs a title of 1 to 200" in untitled.stderr
    missing = teachkit_class("close", "ABC2345", store=store, env=env)
    assert missing.returncode == 1 and missing.stderr.startswith("error: there is no class ABC2345 in "), (
        missing
    )
    assert "Traceback" not in missing.stderr


def test_hand_ins_are_rate_limited_like_publishing(tmp_path):
    store = str(tmp_path / "store")
    klass = make_class("7b", store=store)
    with start_receiver(store, [ALLOWED], extra_args=["--rate", "2"]) as receiver:  # GET / took one
        assert hand_in(receiver.url, klass["code"], make_package(), "Ada").status == 201
        reply = hand_in(receiver.url, klass["code"], make_package(), "Grace")
        assert (reply.status, reply.error_code) == (429, "too_many_requests") and reply.headers["retry-after"]


def test_a_hand_in_whose_index_entry_cannot_be_written_leaves_no_model(tmp_path):
    store = tmp_path / "store"
    klass = make_class("7b", store=str(store))
    # A file where the class's index folder goes: the model is saved, then its entry fails.
    (store / "classes" / klass["code"] / "submissions").write_bytes(b"")
    with start_receiver(str(store), [ALLOWED]) as receiver:
        before = sorted(p.relative_to(store).as_posix() for p in store.rglob("*") if p.is_file())
        reply = hand_in(receiver.url, klass["code"], make_package(), "Ada")
        assert (reply.status, reply.error_code) == (500, "internal"), reply.body
        after = sorted(p.relative_to(store).as_posix() for p in store.rglob("*") if p.is_file())
        assert after == before
        assert "Traceback" in receiver.log_text() and "put_new_entry" in receiver.log_text()
