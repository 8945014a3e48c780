"""The stores and receivers of tests/test_receiver*.py: a local folder or a bucket of moto's S3
server, and a `teachkit receive` over each. The fixtures (`s3`, `new_store`, `served`, module-scoped)
are imported by the test modules as `*_fixture`, so that the names the tests take stay free."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from .receivers import (
    MotoS3,
    Receiver,
    moto_s3,
    multipart,
    publish,
    start_receiver,
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


@pytest.fixture(scope="module", name="s3")
def s3_fixture() -> Iterator[MotoS3]:
    with moto_s3() as server:
        yield server


@pytest.fixture(scope="module", name="new_store")
def new_store_fixture(s3: MotoS3, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Store]:
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


@pytest.fixture(scope="module", params=["folder", "s3"], name="served")
def served_fixture(request: pytest.FixtureRequest, new_store: Callable[[str], Store]) -> Iterator[Served]:
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


def form(*fields: tuple[str, str | tuple[str, bytes]]) -> tuple[bytes, str]:
    return multipart(list(fields))


def package_form(package: bytes, *extra: tuple[str, str | tuple[str, bytes]]) -> tuple[bytes, str]:
    return form(("package", ("model.zip", package)), *extra)
