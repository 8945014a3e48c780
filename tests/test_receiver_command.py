"""teachkit receive as a command: a receiver killed mid-upload, leftovers swept, the rate limit,
no TensorFlow imported, bad options, public links, a failure inside, its help."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from .support import receiver_stores
from .support.receiver_stores import (
    ALLOWED,
    Served,
    logged,
    package_form,
    published,
    sha256,
)
from .support.receivers import (
    REPO,
    make_package,
    make_project,
    publish,
    receiver_command,
    request,
    start_receiver,
)

# The receiver fixtures (s3, new_store): pytest finds a module's fixtures among its names.
s3_fixture = receiver_stores.s3_fixture
new_store_fixture = receiver_stores.new_store_fixture


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
