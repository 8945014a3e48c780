"""What an upload to POST models may be, judged whole before anything is stored.

Two kinds: a teachkit publish (the file field `package`, the page's model download; optionally
`project`, the page's project file, and the text fields `title` and `note`) and a plain TF.js
`model.save(url)` (the file fields `model.json` and `model.weights.bin`, or `model_json` and
`model_weights_bin`). Zips are judged from their directory first (names, counts, sizes: nothing is
inflated past its limit), the package's metadata is a typed model, every model.json must describe
its weights file byte for byte, and the project file is read by the project file reader.
Any problem raises ApiError 400 `bad_upload` with a sentence that says what is wrong.
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import TrainedFileError
from ..trained import (
    MODEL_ENTRIES,
    InMemoryFile,
    open_judged,
    open_zip,
    read_entry,
    read_model_download,
    read_project_file,
)
from .errors import bad_upload
from .tfjs import check_model_json, problems, with_one_weights_file

TITLE_MAX = 200
NOTE_MAX = 2000
PACKAGE = "the uploaded package"
PROJECT = "the uploaded project file"
PROJECT_NAME = "project.teachkit.zip"
TFJS_JSON = ("model.json", "model_json")  # TF.js 4.22, and later versions
TFJS_WEIGHTS = ("model.weights.bin", "model_weights_bin")
TEACHKIT_FIELDS = ("package", "project", "title", "note")
FIELDS_HELP = (
    "send the page's model download as the file field package (with the optional file field project "
    "and text fields title and note), or what TF.js model.save() sends (model.json and "
    "model.weights.bin)"
)
UNSAFE = re.compile(r"(^|/)\.\.(/|$)|^/|\\|^[A-Za-z]:|\x00")


@dataclass(frozen=True)
class Part:
    """One field of the form: a file (with its file name) or a text field (`filename` None)."""

    name: str
    data: bytes
    filename: str | None


@dataclass(frozen=True)
class Upload:
    kind: Literal["teachkit-model", "tfjs"]
    title: str
    note: str
    labels: list[str] | None  # teachkit only
    base: dict[str, Any] | None  # the base model's identity, teachkit only
    files: dict[str, bytes]  # name → bytes, as they are served
    has_project: bool


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow")


class BaseIdentity(_Loose):
    """The base model a package's head was trained on (render.base_identity writes it)."""

    base: str | None = Field(None, min_length=1)
    """The named base model (efficientnet_lite0, mobilenet_v2, …); or `custom`."""
    custom: str | None = Field(None, min_length=1)
    """The sha256 of the author's own model, instead of `base`."""
    input_size: int = Field(ge=1, le=4096)
    """Pixels per side of the model's square input."""
    embedding_size: int = Field(ge=1, le=1_000_000)
    """Values in one embedding."""
    model_json_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    """The sha256 of the converted base model's model.json."""

    @model_validator(mode="after")
    def _named(self) -> BaseIdentity:
        if not self.base and not self.custom:
            raise ValueError("names no base model (neither base nor custom)")
        return self


class HeadInfo(_Loose):
    kind: Literal["dense", "knn"]
    """A dense network (head/) or k nearest neighbours (knn/)."""
    config: dict[str, Any] = {}


class PackageMetadata(_Loose):
    """metadata.json of the page's model download (templates/app/files/model_file.js writes it)."""

    format: Literal["teachkit-model"]
    version: Literal[1]
    title: str = ""
    labels: list[str] = Field(min_length=2, max_length=10_000)
    """The classes, in the order of the head's outputs."""
    base: BaseIdentity
    head: HeadInfo

    @field_validator("labels")
    @classmethod
    def _named(cls, labels: list[str]) -> list[str]:
        if any(not label.strip() for label in labels):
            raise ValueError("every label must be a non-empty name")
        return labels


def _trained_file_error(error: TrainedFileError) -> Exception:
    return bad_upload(" ".join(str(error).split("\n")))


def _judge_names(data: bytes, label: str, kind: str, max_unpacked: int) -> None:
    """Refuses entry names that point outside a folder, repeated names and a zip that unpacks to
    more than `max_unpacked` bytes, from the zip's directory alone."""
    try:
        with open_zip(InMemoryFile(data, label), kind, "save it again in the teachkit page") as archive:
            infos = archive.infolist()
    except TrainedFileError as error:
        raise _trained_file_error(error) from None
    seen = set()
    total = 0
    for info in infos:
        if UNSAFE.search(info.filename):
            raise bad_upload(
                f'{label} contains the entry "{info.filename}", whose name points outside the folder it '
                "would be unpacked in (.., an absolute path or a backslash); it was refused."
            )
        if info.filename in seen:
            raise bad_upload(f'{label} contains the entry "{info.filename}" twice; it was refused.')
        seen.add(info.filename)
        total += info.file_size
    if total > max_unpacked:
        raise bad_upload(
            f"{label} would unpack to {total // 1024**2} MB, more than this receiver takes "
            f"({max_unpacked // 1024**2} MB); it was not unpacked."
        )


def _unpack_package(data: bytes, max_unpacked: int) -> dict[str, bytes]:
    _judge_names(data, PACKAGE, "a zip file", max_unpacked)
    source = InMemoryFile(data, PACKAGE)
    try:
        with open_judged(source, MODEL_ENTRIES, "a model download") as archive:
            return {
                info.filename: read_entry(archive, info.filename, source, "the package")
                for info in archive.infolist()
                if not info.is_dir()
            }
    except TrainedFileError as error:
        raise _trained_file_error(error) from None
    except zipfile.LargeZipFile as error:
        raise bad_upload(f"{PACKAGE} cannot be read ({error}).") from None


def _require(entries: dict[str, bytes], *names: str, why: str) -> None:
    missing = [name for name in names if name not in entries]
    if missing:
        raise bad_upload(f"{PACKAGE} has no {' or '.join(missing)}, which {why}; download the model again.")


def _check_head(metadata: PackageMetadata, entries: dict[str, bytes]) -> None:
    size = metadata.base.embedding_size
    if metadata.head.kind == "dense":
        _require(entries, "head/model.json", "head/weights.bin", why="a dense head needs")
        stray = sorted(name for name in entries if name.startswith("knn/"))
        if stray:
            raise bad_upload(f"{PACKAGE} has a dense head but also {', '.join(stray)}; it was refused.")
        head = check_model_json(
            entries["head/model.json"],
            entries["head/weights.bin"],
            "weights.bin",
            f"{PACKAGE}'s head/model.json",
        )
        specs = [spec for group in head["weightsManifest"] for spec in group["weights"]]
        kernels = [spec["shape"] for spec in specs if len(spec["shape"]) == 2]
        if not kernels or kernels[0][0] != size or specs[-1]["shape"][-1:] != [len(metadata.labels)]:
            raise bad_upload(
                f"{PACKAGE}'s head does not fit: it must take embeddings of {size} values (the base "
                f"model's embedding_size) and give {len(metadata.labels)} outputs (one per label)."
            )
        return
    _require(entries, "knn/embeddings.f32", "knn/labels.json", why="a k-nearest-neighbour head needs")
    stray = sorted(name for name in entries if name.startswith("head/"))
    if stray:
        raise bad_upload(f"{PACKAGE} has a k-nearest-neighbour head but also {', '.join(stray)}.")
    try:
        sample_labels = json.loads(entries["knn/labels.json"])
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise bad_upload(f"{PACKAGE}'s knn/labels.json is not JSON.") from None
    if (
        not isinstance(sample_labels, list)
        or not sample_labels
        or not all(type(index) is int and 0 <= index < len(metadata.labels) for index in sample_labels)
    ):
        raise bad_upload(
            f"{PACKAGE}'s knn/labels.json must list, for each sample, the index of its label "
            f"(0 to {len(metadata.labels) - 1})."
        )
    expected = len(sample_labels) * size * 4
    if len(entries["knn/embeddings.f32"]) != expected:
        raise bad_upload(
            f"{PACKAGE}'s knn/embeddings.f32 holds {len(entries['knn/embeddings.f32'])} bytes, but "
            f"{len(sample_labels)} samples of {size} float32 values are {expected}; it is incomplete."
        )


def _metadata(entries: dict[str, bytes]) -> PackageMetadata:
    if "metadata.json" not in entries:
        raise bad_upload(
            f"{PACKAGE} has no metadata.json; send the zip the page's Download model saves "
            "(.teachkit-model.zip)."
        )
    try:
        return PackageMetadata.model_validate_json(entries["metadata.json"])
    except ValidationError as error:
        raise bad_upload(
            f"{PACKAGE}'s metadata.json is not a teachkit model's ({problems(error)})."
        ) from None


def _text(value: Part | None, name: str, limit: int) -> str | None:
    if value is None:
        return None
    if value.filename is not None:
        raise bad_upload(f"the field {name} must be text, not a file.")
    try:
        text = value.data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise bad_upload(f"the field {name} is not UTF-8 text.") from None
    if len(text) > limit:
        raise bad_upload(f"the {name} has {len(text)} characters; at most {limit} are kept. Shorten it.")
    return text


def _file(value: Part | None, name: str) -> bytes | None:
    if value is None:
        return None
    if value.filename is None:
        raise bad_upload(
            f'the field {name} must be a file (in JavaScript: form.append("{name}", blob, "file name")).'
        )
    return value.data


def teachkit_upload(
    package: bytes, project: bytes | None, title: str | None, note: str | None, max_unpacked: int
) -> Upload:
    """A teachkit publish, judged whole; `max_unpacked` caps what either zip may unpack to."""
    entries = _unpack_package(package, max_unpacked)
    metadata = _metadata(entries)
    _require(entries, "base/model.json", "base/weights.bin", why="every model needs")
    check_model_json(
        entries["base/model.json"], entries["base/weights.bin"], "weights.bin", f"{PACKAGE}'s base/model.json"
    )
    _check_head(metadata, entries)
    try:
        read_model_download(InMemoryFile(package, PACKAGE))  # what `teachkit export` will read
    except TrainedFileError as error:
        raise _trained_file_error(error) from None
    files = dict(entries)
    if project is not None:
        _judge_names(project, PROJECT, "a project file", max_unpacked)
        try:
            read_project_file(InMemoryFile(project, PROJECT))
        except TrainedFileError as error:
            raise _trained_file_error(error) from None
        files[PROJECT_NAME] = project
    return Upload(
        kind="teachkit-model",
        title=title if title else metadata.title.strip()[:TITLE_MAX],
        note=note or "",
        labels=metadata.labels,
        base=metadata.base.model_dump(exclude_unset=True),
        files=files,
        has_project=project is not None,
    )


def tfjs_upload(model_json: bytes, weights: bytes, title: str | None, note: str | None) -> Upload:
    """A plain TF.js model.save() upload; the stored model.json names the weights next to it."""
    data = check_model_json(model_json, weights, "model.weights.bin", "the uploaded model.json")
    normalized = json.dumps(with_one_weights_file(data, "model.weights.bin")).encode()
    return Upload(
        kind="tfjs",
        title=title or "",
        note=note or "",
        labels=None,
        base=None,
        files={"model.json": normalized, "model.weights.bin": weights},
        has_project=False,
    )


def upload_from_parts(parts: list[Part], max_unpacked: int) -> Upload:
    """The upload that the form's fields make; any problem raises ApiError 400."""
    fields: dict[str, Part] = {}
    for part in parts:
        if part.name in fields:
            raise bad_upload(f"the field {part.name} is sent twice; send it once.")
        fields[part.name] = part
    known = (*TEACHKIT_FIELDS, *TFJS_JSON, *TFJS_WEIGHTS)
    unknown = [name for name in fields if name not in known]
    if unknown:
        raise bad_upload(f'unexpected field "{unknown[0]}" in the upload; {FIELDS_HELP}.')
    title = _text(fields.get("title"), "title", TITLE_MAX)
    note = _text(fields.get("note"), "note", NOTE_MAX)
    json_parts = [fields[name] for name in TFJS_JSON if name in fields]
    weight_parts = [fields[name] for name in TFJS_WEIGHTS if name in fields]
    if "package" in fields:
        if json_parts or weight_parts:
            raise bad_upload("send either a teachkit package or a TF.js model, not both.")
        project = _file(fields.get("project"), "project")
        return teachkit_upload(_file(fields["package"], "package"), project, title, note, max_unpacked)
    if "project" in fields:
        raise bad_upload("the project file comes with the model it belongs to: send the field package too.")
    if json_parts or weight_parts:
        if len(json_parts) != 1 or len(weight_parts) != 1:
            raise bad_upload(
                "a TF.js upload needs one model.json and one model.weights.bin (or model_json and "
                "model_weights_bin) file field."
            )
        return tfjs_upload(
            _file(json_parts[0], json_parts[0].name),
            _file(weight_parts[0], weight_parts[0].name),
            title,
            note,
        )
    raise bad_upload(f"the upload holds no model; {FIELDS_HELP}.")
