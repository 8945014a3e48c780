"""Helpers for tests that need a real cloud receiver (`teachkit receive`), importable from any test:

- `start_receiver(store, allow_origins, …)` starts the command as a subprocess on 127.0.0.1 (a free
  port) and returns a `Receiver` once `GET /` answers; use it as a context manager.
- `moto_s3()` runs moto's S3 server on 127.0.0.1 and yields a `MotoS3`: its endpoint, the
  environment a receiver needs to use it, and ways to make a bucket and list its keys.
- `request`, `multipart` and `publish` speak HTTP to a receiver with the standard library only;
  `hand_in` and `class_submissions` are a student's and a teacher's requests to a class, and
  `teachkit_class` runs `teachkit class …` (with `make_class` for a new class's code and token).
- `make_package` and `make_project` build a small but structurally real model download (dense or
  kNN head) and project file, as the page writes them; `project_zip` writes any project file's zip
  (tests/support/trained_project.py writes a trained one with it).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[2]
START_LINE = re.compile(r"^Receiving models into .* at (?P<url>http://\S+/)", re.MULTILINE)


@dataclass
class Reply:
    """An HTTP answer: status, headers (names in lower case), body."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def error_code(self) -> str | None:
        """The `error.code` of a JSON error answer, else None."""
        try:
            return self.json()["error"]["code"]
        except (ValueError, KeyError, TypeError):
            return None


def request(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> Reply:
    """One HTTP request with urllib; 4xx and 5xx answers are returned, not raised."""
    prepared = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(prepared, timeout=timeout) as answer:
            return Reply(answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read())
    except urllib.error.HTTPError as error:
        with error:
            return Reply(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())


def multipart(fields: Sequence[tuple[str, str | tuple[str, bytes]]]) -> tuple[bytes, str]:
    """A multipart/form-data body and its Content-Type. Each field is (name, text) or
    (name, (file name, bytes))."""
    boundary = f"----teachkit{secrets.token_hex(12)}"
    out = io.BytesIO()
    for name, value in fields:
        out.write(f"--{boundary}\r\n".encode())
        if isinstance(value, tuple):
            filename, data = value
            out.write(
                f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n".encode()
            )
            out.write(data)
        else:
            out.write(f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
            out.write(value.encode())
        out.write(b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def publish(
    base_url: str,
    package: bytes,
    *,
    project: bytes | None = None,
    title: str | None = None,
    note: str | None = None,
    origin: str | None = None,
) -> Reply:
    """POST base_url + "models" as the page does: the package, and optionally the project file,
    title and note; `origin` is sent as the Origin header."""
    fields: list[tuple[str, str | tuple[str, bytes]]] = [("package", ("model.teachkit-model.zip", package))]
    if project is not None:
        fields.append(("project", ("project.teachkit.zip", project)))
    if title is not None:
        fields.append(("title", title))
    if note is not None:
        fields.append(("note", note))
    body, content_type = multipart(fields)
    headers = {"Content-Type": content_type, **({"Origin": origin} if origin else {})}
    return request("POST", base_url + "models", body=body, headers=headers)


def hand_in(
    base_url: str,
    code: str,
    package: bytes | None,
    name: str | None,
    *,
    metrics: str | None = None,
    token: str | None = None,
    origin: str | None = None,
    extra: Sequence[tuple[str, str | tuple[str, bytes]]] = (),
) -> Reply:
    """POST base_url + "classes/CODE/submissions" as the page does: the package, the name and the
    metrics (JSON text); `token` is sent as Authorization: Bearer, `origin` as the Origin header,
    `extra` as more fields."""
    fields: list[tuple[str, str | tuple[str, bytes]]] = []
    if package is not None:
        fields.append(("package", ("model.teachkit-model.zip", package)))
    if name is not None:
        fields.append(("name", name))
    if metrics is not None:
        fields.append(("metrics", metrics))
    body, content_type = multipart([*fields, *extra])
    headers = {"Content-Type": content_type}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if origin is not None:
        headers["Origin"] = origin
    return request("POST", f"{base_url}classes/{code}/submissions", body=body, headers=headers)


def class_submissions(base_url: str, code: str, token: str | None, *, origin: str | None = None) -> Reply:
    """GET base_url + "classes/CODE/submissions" as the teacher's view does (`token` as Bearer)."""
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    if origin is not None:
        headers["Origin"] = origin
    return request("GET", f"{base_url}classes/{code}/submissions", headers=headers)


def teachkit_class(
    *args: str, store: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess:
    """`teachkit class ARGS… --store STORE`, run by this Python with `env` added to the environment;
    its output as text."""
    return subprocess.run(
        [sys.executable, "-m", "builder.cli", "class", *args, "--store", store],
        cwd=REPO,
        capture_output=True,
        text=True,
        input=stdin if stdin is not None else "",
        env={**os.environ, **(env or {})},
        timeout=60,
    )


def make_class(title: str, *, store: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """A new class (`teachkit class create TITLE --json`): {code, title, created, teacher_token}."""
    result = teachkit_class("create", title, "--json", store=store, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


@dataclass
class Receiver:
    """A running `teachkit receive`: `url` is its base URL (ending in "/"), `process` the
    subprocess, `log_path` the file its output (stdout and stderr) goes to."""

    url: str
    process: subprocess.Popen
    log_path: Path
    args: list[str] = field(default_factory=list)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 15) -> int:
        """SIGTERM (requests under way finish), then waits; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.returncode

    def kill(self) -> None:
        """SIGKILL: gone at once, as in a crash or a power cut of the process."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(15)

    def __enter__(self) -> Receiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def receiver_command(
    store: str,
    allow_origins: Sequence[str],
    *,
    list_models: bool = False,
    max_mb: int | None = None,
    port: int = 0,
    extra_args: Sequence[str] = (),
) -> list[str]:
    """The command line of `teachkit receive` with these options, run by this Python."""
    args = [sys.executable, "-m", "builder.cli", "receive", "--store", store, "--port", str(port)]
    for origin in allow_origins:
        args += ["--allow-origin", origin]
    if list_models:
        args.append("--list")
    if max_mb is not None:
        args += ["--max-mb", str(max_mb)]
    return args + [str(arg) for arg in extra_args]


def start_receiver(
    store: str,
    allow_origins: Sequence[str],
    *,
    list_models: bool = False,
    max_mb: int | None = None,
    extra_args: Sequence[str] = (),
    env: dict[str, str] | None = None,
    timeout: float = 30,
) -> Receiver:
    """Starts `teachkit receive --store STORE --allow-origin …` on 127.0.0.1 and a free port and
    returns once GET / answers 200. `env` is added to this process's environment (e.g.
    `MotoS3.env`). Fails with the receiver's output if it exits or does not answer in `timeout` s."""
    args = receiver_command(
        store, allow_origins, list_models=list_models, max_mb=max_mb, extra_args=extra_args
    )
    handle, name = tempfile.mkstemp(prefix="teachkit-receiver-", suffix=".log")
    log_path = Path(name)
    with os.fdopen(handle, "wb") as log:
        process = subprocess.Popen(
            args,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )
    deadline = time.monotonic() + timeout
    url = None
    while time.monotonic() < deadline:
        text = log_path.read_text(errors="replace")
        if url is None and (match := START_LINE.search(text)):
            url = match["url"]
        if url is not None:
            with contextlib.suppress(OSError):
                if request("GET", url, timeout=2).status == 200:
                    return Receiver(url, process, log_path, args)
        if process.poll() is not None:
            raise AssertionError(f"teachkit receive exited with {process.returncode}:\n{text}")
        time.sleep(0.05)
    process.kill()
    process.wait(10)
    raise AssertionError(f"teachkit receive did not answer in {timeout} s:\n{log_path.read_text()}")


@dataclass
class MotoS3:
    """moto's S3 server: `endpoint` (http://127.0.0.1:PORT) and `env`, the environment that points
    boto3 (and so a receiver) at it with test credentials."""

    endpoint: str
    env: dict[str, str]
    client: Any  # a boto3 S3 client for the server

    def create_bucket(self, name: str | None = None) -> str:
        """Makes a bucket (a new unique name unless given) and returns its name."""
        name = name or f"teachkit-{secrets.token_hex(6)}"
        self.client.create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Every key in the bucket under `prefix`, sorted (all pages of list_objects_v2)."""
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def get(self, bucket: str, key: str) -> bytes:
        return self.client.get_object(Bucket=bucket, Key=key)["Body"].read()


@contextlib.contextmanager
def moto_s3() -> Iterator[MotoS3]:
    """Runs moto's S3 server mode (moto.server.ThreadedMotoServer) on 127.0.0.1 and a free port for
    the block, starting empty. moto keeps buckets in this process's memory, shared by every server
    in it, and each moto_s3() empties it: one at a time. Its request log is kept quiet."""
    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        assert request("POST", f"{endpoint}/moto-api/reset").status == 200
        env = {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )
        yield MotoS3(endpoint, env, client)
    finally:
        server.stop()


# A small base model and heads, with the shapes and formats the page writes (not a real Lite0).
EMBEDDING_SIZE = 8
INPUT_SIZE = 32
BASE_SPECS = [
    {"name": "stem/kernel", "shape": [3, 3, 3, 4], "dtype": "float32", "quantization": {"dtype": "float16"}},
    {"name": "stem/bias", "shape": [4], "dtype": "float32"},
    {
        "name": "project/kernel",
        "shape": [4, EMBEDDING_SIZE],
        "dtype": "float32",
        "quantization": {"dtype": "uint8", "scale": 0.01, "min": -1.0},
    },
    {"name": "steps", "shape": [], "dtype": "int32"},
    {"name": "mask", "shape": [2], "dtype": "bool"},
]
BASE_WEIGHT_BYTES = 108 * 2 + 4 * 4 + 32 * 1 + 4 + 2


def base_model_files() -> tuple[bytes, bytes]:
    """base/model.json (a graph model with float16- and uint8-quantized weights) and weights.bin."""
    model = {
        "format": "graph-model",
        "generatedBy": "2.19.0",
        "convertedBy": "TensorFlow.js Converter v4.22.0",
        "modelTopology": {"node": [{"name": "pixels", "op": "Placeholder"}], "library": {}, "versions": {}},
        "weightsManifest": [{"paths": ["weights.bin"], "weights": BASE_SPECS}],
    }
    return json.dumps(model).encode(), random.Random(1).randbytes(BASE_WEIGHT_BYTES)


def dense_head_files(sizes: Sequence[int], seed: int = 0) -> tuple[bytes, bytes, list[np.ndarray]]:
    """head/model.json and weights.bin of a tfjs-layers Sequential of Dense layers (relu, then
    softmax), `sizes` = [inputs, hidden…, outputs]; and the weights [kernel, bias, …]."""
    rng = np.random.default_rng(seed)
    layers, specs, weights = [], [], []
    for index, (inputs, units) in enumerate(zip(sizes, sizes[1:], strict=False)):
        name = f"dense_Dense{index + 1}"
        config: dict[str, Any] = {
            "units": units,
            "activation": "softmax" if index == len(sizes) - 2 else "relu",
            "use_bias": True,
            "kernel_initializer": {
                "class_name": "VarianceScaling",
                "config": {"scale": 1, "mode": "fan_avg", "distribution": "normal", "seed": None},
            },
            "bias_initializer": {"class_name": "Zeros", "config": {}},
            "kernel_regularizer": None,
            "bias_regularizer": None,
            "activity_regularizer": None,
            "kernel_constraint": None,
            "bias_constraint": None,
            "name": name,
            "trainable": True,
        }
        if index == 0:
            config |= {"batch_input_shape": [None, inputs], "dtype": "float32"}
        layers.append({"class_name": "Dense", "config": config})
        specs += [
            {"name": f"{name}/kernel", "shape": [inputs, units], "dtype": "float32"},
            {"name": f"{name}/bias", "shape": [units], "dtype": "float32"},
        ]
        weights += [
            rng.normal(0, 0.5, (inputs, units)).astype("<f4"),
            rng.normal(0, 0.1, units).astype("<f4"),
        ]
    model = {
        "format": "layers-model",
        "generatedBy": "TensorFlow.js tfjs-layers v4.22.0",
        "convertedBy": None,
        "modelTopology": {
            "class_name": "Sequential",
            "config": {"name": "sequential_1", "layers": layers},
            "keras_version": "tfjs-layers 4.22.0",
            "backend": "tensor_flow.js",
        },
        "weightsManifest": [{"paths": ["weights.bin"], "weights": specs}],
    }
    return json.dumps(model).encode(), b"".join(w.tobytes() for w in weights), weights


def base_identity(model_json: bytes) -> dict[str, Any]:
    import hashlib

    return {
        "base": "efficientnet_lite0",
        "weights": "0" * 64,
        "input_size": INPUT_SIZE,
        "embedding_size": EMBEDDING_SIZE,
        "preprocessing": {"resize": "crop", "input_size": INPUT_SIZE},
        "model_json_sha256": hashlib.sha256(model_json).hexdigest(),
    }


def zip_entries(entries: dict[str, bytes]) -> bytes:
    """A zip as the page's fflate writes it: weights stored, everything else deflated."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            stored = name.endswith((".bin", ".f32"))
            archive.writestr(name, data, zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def package_entries(
    kind: str = "dense",
    *,
    labels: Sequence[str] = ("apple", "banana"),
    title: str = "Fruit",
    seed: int = 0,
    samples: int = 6,
) -> dict[str, bytes]:
    """The entries of a model download (`kind` "dense" or "knn"); `seed` changes only the head, so
    packages of different seeds share their base model, as every student's package does."""
    base_json, base_weights = base_model_files()
    entries: dict[str, bytes] = {}
    if kind == "dense":
        head_json, head_weights, _ = dense_head_files([EMBEDDING_SIZE, 4, len(labels)], seed)
        entries |= {"head/model.json": head_json, "head/weights.bin": head_weights}
        config: dict[str, Any] = {"hidden_units": [4], "activation": "relu", "epochs": 20}
    else:
        rng = np.random.default_rng(seed)
        entries["knn/embeddings.f32"] = rng.normal(0, 1, (samples, EMBEDDING_SIZE)).astype("<f4").tobytes()
        entries["knn/labels.json"] = json.dumps([i % len(labels) for i in range(samples)]).encode()
        config = {"k": 3}
    metadata = {
        "format": "teachkit-model",
        "version": 1,
        "teachkitVersion": "0.1.0",
        "title": title,
        "labels": list(labels),
        "base": base_identity(base_json),
        "head": {"kind": kind, "config": config, "history": [], "evaluation": None},
    }
    entries |= {
        "metadata.json": json.dumps(metadata, indent=1).encode(),
        "labels.txt": ("\n".join(labels) + "\n").encode(),
        "README.md": f"# {title}: a model trained with teachkit\n".encode(),
        "base/model.json": base_json,
        "base/weights.bin": base_weights,
    }
    return entries


def make_package(kind: str = "dense", **options: Any) -> bytes:
    """A model download zip (see `package_entries` for the options)."""
    return zip_entries(package_entries(kind, **options))


def make_project(
    labels: Sequence[str] = ("apple", "banana"), per_class: int = 2, title: str = "Fruit"
) -> bytes:
    """A project file (.teachkit.zip) with `per_class` samples per class: manifest, embeddings and
    small JPEG crops and thumbnails, untrained."""
    from PIL import Image

    def jpeg(shade: int, size: int) -> bytes:
        out = io.BytesIO()
        Image.new("RGB", (size, size), (shade, 255 - shade, 128)).save(out, "JPEG")
        return out.getvalue()

    base_json, _ = base_model_files()
    classes = [{"id": f"class-{i}", "name": name} for i, name in enumerate(labels)]
    samples = [
        {"id": f"sample-{c}-{n}", "classId": item["id"], "added": 0}
        for c, item in enumerate(classes)
        for n in range(per_class)
    ]
    manifest = {
        "format": "teachkit-project",
        "version": 1,
        "title": title,
        "modelFingerprint": "0123456789abcdef",
        "base": base_identity(base_json),
        "embeddingSize": EMBEDDING_SIZE,
        "classes": classes,
        "samples": samples,
        "settings": {},
        "head": None,
    }
    embeddings = np.arange(len(samples) * EMBEDDING_SIZE, dtype="<f4").reshape(len(samples), -1)
    pictures = {
        sample["id"]: (jpeg(40 * index % 255, INPUT_SIZE), jpeg(40 * index % 255, 16))
        for index, sample in enumerate(samples)
    }
    return project_zip(manifest, embeddings, pictures)


def project_zip(
    manifest: dict[str, Any], embeddings: np.ndarray, pictures: dict[str, tuple[bytes, bytes]]
) -> bytes:
    """A project file's zip: the manifest, the samples' embeddings (one row each, in the manifest's
    order) and each sample's (crop, thumbnail) JPEGs by sample id."""
    entries = {
        "teachkit-project.json": json.dumps(manifest).encode(),
        "embeddings.f32": np.ascontiguousarray(embeddings, dtype="<f4").tobytes(),
    }
    for sample_id, (image, thumb) in pictures.items():
        entries[f"images/{sample_id}.jpg"] = image
        entries[f"thumbs/{sample_id}.jpg"] = thumb
    return zip_entries(entries)
