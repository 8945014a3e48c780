"""Where the receiver keeps models: a local folder or an S3-compatible bucket, content-addressed.

Layout (under the folder, or under the bucket's prefix):

    blobs/<sha256>          each distinct file once, whoever uploaded it
    refs/<sha256>/<ID>      an empty marker: model ID uses that blob
    models/<ID>.json        the model's record (what GET models/ID/ answers, the files' hashes and
                            the delete token's sha256), written last: a model exists once its
                            record does, and then every blob it names is there

All state is in the store, so several receivers may share one bucket. Saving writes the refs, then
the blobs that are missing, then the record, then checks once more that every blob is still there
(writing again any that is not). Deleting removes the record, then its refs, then each blob that no
ref names any more.

What remains of a race: a receiver deleting the last other model that shares a blob lists that
blob's refs, finds none, and deletes the blob; if an upload of the same bytes wrote its ref just
after that listing and finished its final check before the delete, the new model names a blob that
is gone (its files answer 500 internal, logged). The window is one store round trip wide, between
a listing and a delete; a store with conditional writes or a lock would close it.

Writes are atomic: a folder's through a temporary file inside the store and `os.replace`, a
bucket's because put_object is. `put_new` writes only where nothing is (a folder's by a hard link,
a bucket's with If-None-Match: *), so that of two first hand-ins under one name one wins. An upload
interrupted by a killed receiver leaves at most refs and blobs without a record (invisible) and
temporary files; `ModelStore.sweep`, run when a receiver starts, removes those that are over an
hour old.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .errors import ReceiverError

log = logging.getLogger(__name__)

MODEL_ID = re.compile(r"^[A-Za-z0-9_-]{12}$")  # secrets.token_urlsafe(9)
SHA256 = re.compile(r"^[0-9a-f]{64}$")
ORPHAN_AGE = 3600.0  # seconds after which a ref, blob or temporary file with no model is swept
BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


@dataclass(frozen=True)
class Listed:
    key: str  # relative to the store's root
    modified: float  # seconds since the epoch


class Backend(Protocol):
    """Bytes under keys like "blobs/<sha256>"; every write is all or nothing."""

    description: str  # for the start line and messages

    def check(self) -> None: ...
    def put(self, key: str, data: bytes) -> None: ...
    def put_new(self, key: str, data: bytes) -> bool: ...
    def get(self, key: str) -> bytes | None: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...
    def list(self, prefix: str) -> list[Listed]: ...
    def sweep_temporary(self, older_than: float) -> int: ...


class FolderBackend:
    """A local folder; each write goes to a temporary file in `.tmp/` inside it, then os.replace."""

    TEMPORARY = ".tmp"

    def __init__(self, root: Path):
        self.root = root
        self.description = f"the folder {root}"

    def check(self) -> None:
        if self.root.exists() and not self.root.is_dir():
            raise ReceiverError(f"--store {self.root} is a file; give a folder (it is created if missing).")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = f"{self.TEMPORARY}/probe-{secrets.token_hex(4)}"
            self.put(probe, b"")
            self.delete(probe)
        except OSError as error:
            raise ReceiverError(
                f"cannot write to the store folder {self.root} ({error.strerror or error}); give a folder "
                "this user may create and write to."
            ) from None

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*key.split("/"))

    def _written_aside(self, data: bytes) -> str:
        """`data` in a new file of the temporary folder, on disk (synced): its path."""
        temporary_dir = self.root / self.TEMPORARY
        temporary_dir.mkdir(exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=temporary_dir, suffix=".part")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        return temporary

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        temporary = self._written_aside(data)
        try:
            for attempt in range(3):
                path.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.replace(temporary, path)
                    break
                except FileNotFoundError:  # a delete removed the emptied folder just now
                    if attempt == 2:
                        raise
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise

    def put_new(self, key: str, data: bytes) -> bool:
        """Writes `key` only if nothing is there (a hard link is made or refused at once); False
        if something is."""
        path = self._path(key)
        temporary = self._written_aside(data)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(temporary, path)
            except FileExistsError:
                return False
            return True
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temporary)

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)
        # An emptied refs/<sha256>/ folder goes too (the top folders stay).
        parent = path.parent
        if parent.parent != self.root and parent != self.root:
            with contextlib.suppress(OSError):
                parent.rmdir()

    def list(self, prefix: str) -> list[Listed]:
        base = self._path(prefix.rstrip("/")) if prefix else self.root
        found = []
        for path in base.rglob("*") if base.is_dir() else []:
            relative = path.relative_to(self.root).as_posix()
            if relative.startswith(self.TEMPORARY + "/") or relative == self.TEMPORARY:
                continue
            with contextlib.suppress(FileNotFoundError):  # deleted while listing
                if path.is_file():
                    found.append(Listed(relative, path.stat().st_mtime))
        return found

    def sweep_temporary(self, older_than: float) -> int:
        swept = 0
        now = time.time()
        for path in (self.root / self.TEMPORARY).glob("*"):
            with contextlib.suppress(OSError):
                if now - path.stat().st_mtime > older_than:
                    path.unlink()
                    swept += 1
        return swept


class S3Backend:
    """A bucket (and a prefix in it) of an S3-compatible service, through boto3, configured the
    standard AWS way: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, AWS_ENDPOINT_URL for
    services other than AWS (R2, MinIO, GCS), AWS_DEFAULT_REGION. Calls block: the app runs them
    in its thread pool."""

    def __init__(self, bucket: str, prefix: str):
        self.bucket = bucket
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self.description = f"s3://{bucket}/{self.prefix}"
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            if logging.getLogger().getEffectiveLevel() > logging.DEBUG:  # "Found credentials in …"
                logging.getLogger("botocore").setLevel(logging.WARNING)

            config = Config(
                retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=60
            )
            self._client = boto3.client("s3", config=config)
        return self._client

    def _explain(self, error: Exception) -> str:
        from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

        if isinstance(error, NoCredentialsError):
            return (
                "no AWS credentials were found; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or "
                "AWS_PROFILE for a profile in ~/.aws/credentials"
            )
        if isinstance(error, EndpointConnectionError):
            return f"cannot reach the storage service ({error}); check AWS_ENDPOINT_URL and the network"
        if isinstance(error, ClientError):
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchBucket"):
                return f"the bucket {self.bucket} does not exist there; create it, or check AWS_ENDPOINT_URL"
            if code in ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                return f"these credentials may not use the bucket {self.bucket} ({code})"
            return f"the storage service said {code or 'no'}: {error}"
        return str(error) or type(error).__name__

    def check(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
            probe = f"{self.prefix}.probe/{secrets.token_hex(4)}"
            self.client.put_object(Bucket=self.bucket, Key=probe, Body=b"")
            self.client.delete_object(Bucket=self.bucket, Key=probe)
        except (BotoCoreError, ClientError, ValueError) as error:
            raise ReceiverError(f"cannot use the store {self.description}: {self._explain(error)}.") from None

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data)

    def put_new(self, key: str, data: bytes) -> bool:
        """put_object with If-None-Match: * (S3 since 2024, R2, MinIO); a service that does not
        take the condition gets a check and a plain put (a narrow race left open there)."""
        from botocore.exceptions import ClientError

        try:
            self.client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data, IfNoneMatch="*")
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                return False
            if code not in ("NotImplemented", "501", "InvalidArgument"):
                raise
            log.warning(
                "%s does not take conditional writes (%s); checking, then writing", self.description, code
            )
            if self.exists(key):
                return False
            self.put(key, data)
        return True

    def get(self, key: str) -> bytes | None:
        from botocore.exceptions import ClientError

        try:
            reply = self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        return reply["Body"].read()

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self.prefix + key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.prefix + key)

    def list(self, prefix: str) -> list[Listed]:
        found = []
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix + prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                key = item["Key"][len(self.prefix) :]
                found.append(Listed(key, item["LastModified"].timestamp()))
        return found

    def sweep_temporary(self, older_than: float) -> int:
        return 0  # put_object leaves nothing half-written


def _record_key(model_id: str) -> str:
    return f"models/{model_id}.json"


class ModelStore:
    """Models as records over content-addressed blobs (see the module's docstring)."""

    def __init__(self, backend: Backend):
        self.backend = backend

    @property
    def description(self) -> str:
        return self.backend.description

    def new_id(self) -> str:
        while True:
            model_id = secrets.token_urlsafe(9)
            if not self.backend.exists(_record_key(model_id)):
                return model_id

    def save(self, model_id: str, record: dict[str, Any], files: dict[str, bytes]) -> None:
        """Stores the files' bytes (once per distinct content) and then the record naming them by
        their sha256 (record["files"][name]["sha256"])."""
        blobs = {record["files"][name]["sha256"]: data for name, data in files.items()}
        for digest in blobs:
            self.backend.put(f"refs/{digest}/{model_id}", b"")
        for digest, data in blobs.items():
            if not self.backend.exists(f"blobs/{digest}"):
                self.backend.put(f"blobs/{digest}", data)
        self.backend.put(_record_key(model_id), json.dumps(record, indent=1).encode())
        for digest, data in blobs.items():  # a concurrent delete may have taken one (see above)
            if not self.backend.exists(f"blobs/{digest}"):
                log.warning("blob %s went missing while model %s was saved; stored again", digest, model_id)
                self.backend.put(f"blobs/{digest}", data)

    def record(self, model_id: str) -> dict[str, Any] | None:
        if not MODEL_ID.match(model_id):
            return None
        data = self.backend.get(_record_key(model_id))
        return json.loads(data) if data is not None else None

    def blob(self, digest: str) -> bytes | None:
        return self.backend.get(f"blobs/{digest}") if SHA256.match(digest) else None

    def delete(self, model_id: str, record: dict[str, Any]) -> None:
        self.backend.delete(_record_key(model_id))
        digests = {entry["sha256"] for entry in record["files"].values()}
        for digest in digests:
            self.backend.delete(f"refs/{digest}/{model_id}")
        for digest in digests:
            if not self.backend.list(f"refs/{digest}/"):
                self.backend.delete(f"blobs/{digest}")

    def records(self) -> list[dict[str, Any]]:
        found = []
        for item in self.backend.list("models/"):
            name = item.key.removeprefix("models/").removesuffix(".json")
            record = self.record(name)
            if record is not None:
                found.append(record)
        return found

    def sweep(self, older_than: float = ORPHAN_AGE) -> int:
        """Removes what an interrupted upload or delete left behind, if older than `older_than`
        seconds: temporary files, refs of models without a record, blobs without refs."""
        now = time.time()
        swept = self.backend.sweep_temporary(older_than)
        known: dict[str, bool] = {}
        referenced = set()
        for item in self.backend.list("refs/"):
            parts = item.key.split("/")
            if len(parts) != 3:
                continue
            _, digest, model_id = parts
            if model_id not in known:
                known[model_id] = self.backend.exists(_record_key(model_id))
            if known[model_id] or now - item.modified <= older_than:
                referenced.add(digest)
            else:
                self.backend.delete(item.key)
                swept += 1
        for item in self.backend.list("blobs/"):
            digest = item.key.removeprefix("blobs/")
            if digest not in referenced and now - item.modified > older_than:
                self.backend.delete(item.key)
                swept += 1
        return swept


def open_store(spec: str) -> ModelStore:
    """The store `spec` names (a folder, or s3://bucket/prefix), checked to be usable and swept;
    raises ReceiverError saying why it cannot be used."""
    backend: Backend
    if spec.startswith("s3://"):
        bucket, _, prefix = spec.removeprefix("s3://").partition("/")
        if not BUCKET.match(bucket):
            raise ReceiverError(
                f'--store "{spec}": "{bucket}" is not a bucket name (3 to 63 lower-case letters, digits, '
                "dots and hyphens); give s3://bucket or s3://bucket/prefix."
            )
        backend = S3Backend(bucket, prefix)
    elif re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", spec):
        raise ReceiverError(f'--store "{spec}": give a folder, or s3://bucket/prefix for a bucket.')
    else:
        backend = FolderBackend(Path(spec).expanduser().absolute())
    backend.check()
    store = ModelStore(backend)
    try:
        swept = store.sweep()
    except Exception as error:  # the store works (checked above); a failed sweep can wait
        log.warning("could not sweep %s: %s", backend.description, error)
    else:
        if swept:
            log.info("Swept %d leftovers of interrupted uploads from %s", swept, backend.description)
    return store
