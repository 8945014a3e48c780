"""Reading what a visitor trained in the page: a project file (`.teachkit.zip`, from *Save project
file* or `teachkit.exportProject()`), with its classes, samples (embedding, crop, thumbnail), the
training settings and the trained head.

The zip is judged from its directory before anything is unpacked, like the page does (a small file
that unpacks to gigabytes is refused), and its manifest is validated as a typed model; every
problem is a `TrainedFileError` that says what is wrong.

`read_trained` is the entry for commands that take "whatever the page saved": it tells the kinds of
file apart by what the zip holds (project files and the page's model downloads) and hands each to
its reader.

Every reader takes a path or an `InMemoryFile` (bytes with a label that messages show instead of a
path: an upload to `teachkit receive`, whose messages must never show a server's path).
"""

from __future__ import annotations

import copy
import io
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import TrainedFileError

FORMAT = "teachkit-project"
VERSION = 1
MANIFEST = "teachkit-project.json"
EMBEDDINGS = "embeddings.f32"
ALLOWED = re.compile(r"^(teachkit-project\.json|embeddings\.f32|(images|thumbs)/[A-Za-z0-9-]{1,64}\.jpg)$")
MAX_ENTRIES = 50_000
MAX_TOTAL = 1024**3
# Per entry; anything not named is a picture. The model download's entries are here too.
MAX_ENTRY = {
    MANIFEST: 64 * 1024**2,
    EMBEDDINGS: 512 * 1024**2,
    "base/weights.bin": 512 * 1024**2,
    "head/weights.bin": 512 * 1024**2,
    "knn/embeddings.f32": 512 * 1024**2,
}
MAX_PICTURE = 8 * 1024**2


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ClassEntry(_Loose):
    id: str
    name: str = Field(min_length=1, max_length=40)


class SampleEntry(_Loose):
    id: str = Field(pattern=r"^[A-Za-z0-9-]{1,64}$")
    classId: str
    added: float = 0
    value: float | None = None  # the sample's number, in a regression project


class HeadModel(_Loose):
    kind: Literal["dense", "knn", "regression"]
    config: dict[str, Any]
    classIds: list[str]
    weights: list[list[float]] | None = None


class HeadRecord(_Loose):
    model: HeadModel
    classIds: list[str]
    history: list[dict[str, Any]] = []
    evaluation: dict[str, Any] | None = None


class Manifest(_Loose):
    format: Literal["teachkit-project"]
    version: int
    title: str = ""
    modelFingerprint: str | None = None
    base: dict[str, Any] | None = None  # the base model's identity (pages from this version on)
    embeddingSize: int = Field(ge=1)
    task: Literal["classification", "regression"] = "classification"
    regression: dict[str, Any] | None = None  # the page's [regression] table: label, unit, min, max
    classes: list[ClassEntry] = Field(min_length=1)  # a regression project has one group
    samples: list[SampleEntry]
    settings: dict[str, Any] = {}
    head: HeadRecord | None = None


@dataclass(frozen=True)
class Sample:
    id: str
    class_name: str
    embedding: np.ndarray  # float32, shape (embedding_size,)
    image: bytes  # the input-size crop, JPEG
    thumb: bytes  # 64-pixel thumbnail, JPEG
    value: float | None = None  # the sample's number, in a regression project


@dataclass(frozen=True)
class TrainedHead:
    kind: str  # "dense", "knn" or "regression" (dense layers, one linear output: the number)
    config: dict[str, Any]
    class_names: list[str]  # in the order of the head's outputs
    weights: list[np.ndarray]  # dense: kernel, bias per layer (kernels shaped (inputs, units))
    history: list[dict[str, Any]]
    evaluation: dict[str, Any] | None


@dataclass(frozen=True)
class TrainedProject:
    title: str
    fingerprint: str | None  # of the converted base model the page ran
    base: dict[str, Any] | None
    embedding_size: int
    class_names: list[str]
    samples: list[Sample]
    settings: dict[str, Any]
    head: TrainedHead | None
    source: Path | InMemoryFile | None = None  # the file it was read from, for messages
    regression: dict[str, Any] | None = None  # label, unit, min, max: the project predicts a number

    @property
    def is_regression(self) -> bool:
        return self.regression is not None


@dataclass(frozen=True)
class InMemoryFile:
    """A file's bytes, and what messages call it instead of a path (e.g. "the uploaded package")."""

    data: bytes
    label: str

    def __str__(self) -> str:
        return self.label


Source = Path | InMemoryFile  # what the readers read: a file on disk, or bytes received


def _source(path: Path | str | InMemoryFile) -> Source:
    return path if isinstance(path, InMemoryFile) else Path(path)


def _megabytes(size: int) -> str:
    return f"{round(size / 1024**2)} MB"


def open_zip(
    path: Source,
    kind: str = "a teachkit project file",
    hint: str = "save it again with Save project file in the page",
) -> zipfile.ZipFile:
    """The zip itself, unjudged; a file that is missing or no zip raises TrainedFileError that
    calls the file `kind` and ends with `hint`."""
    try:
        return zipfile.ZipFile(io.BytesIO(path.data) if isinstance(path, InMemoryFile) else path)
    except FileNotFoundError:
        raise TrainedFileError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise TrainedFileError(f"{path} is a folder; expected a project file saved by the page.") from None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        raise TrainedFileError(f"{path}: not {kind}, or it is damaged ({error}).\nHint: {hint}.") from None


def entry_limit(name: str) -> int:
    """The most bytes the entry `name` may unpack to."""
    return MAX_ENTRY.get(name, MAX_PICTURE)


def open_judged(
    path: Source, allowed: re.Pattern[str] = ALLOWED, kind: str = "a teachkit project file"
) -> zipfile.ZipFile:
    """The zip, judged from its directory before anything is unpacked: only `allowed` names, and
    sizes within the limits."""
    archive = open_zip(path)
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        raise TrainedFileError(f"{path}: the file has more than {MAX_ENTRIES} entries.")
    total = 0
    for info in infos:
        if not allowed.match(info.filename):
            raise TrainedFileError(f'{path}: contains "{info.filename}", which does not belong in {kind}.')
        limit = entry_limit(info.filename)
        total += info.file_size
        if info.file_size > limit or total > MAX_TOTAL:
            raise TrainedFileError(
                f'{path}: "{info.filename}" would unpack to {_megabytes(info.file_size)} '
                f"(at most {_megabytes(limit)}); it was not read."
            )
    return archive


def read_entry(archive: zipfile.ZipFile, name: str, path: Source, kind: str = "the project file") -> bytes:
    """One entry's bytes, never more than its limit or than the zip's directory says: an entry
    that unpacks to more than it claims (a zip bomb's trick) is refused after one byte more.
    Messages call the zip `kind`."""
    limit = entry_limit(name)
    try:
        info = archive.getinfo(name)
        declared = min(info.file_size, limit)
        probe = copy.copy(info)
        probe.file_size = declared + 1  # read on one byte; the CRC then fails if it was there
        with archive.open(probe) as entry:
            data = entry.read(declared + 1)
    except KeyError:
        raise TrainedFileError(f"{path}: {kind} has no {name}.") from None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as error:
        # RuntimeError: an encrypted entry
        raise TrainedFileError(f"{path}: {name} in {kind} is damaged ({error}).") from None
    if len(data) > declared:
        raise TrainedFileError(
            f'{path}: "{name}" unpacks to more than its zip directory says (at most '
            f"{_megabytes(limit)} is read); it was refused."
        )
    return data


def _manifest(archive: zipfile.ZipFile, path: Source) -> Manifest:
    try:
        data = json.loads(read_entry(archive, MANIFEST, path))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise TrainedFileError(f"{path}: the project file's {MANIFEST} cannot be read.") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise TrainedFileError(f"{path}: this zip file is not a teachkit project file.")
    if data.get("version") != VERSION:
        raise TrainedFileError(
            f"{path}: project file version {data.get('version')}; this teachkit reads version {VERSION}."
        )
    try:
        return Manifest.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise TrainedFileError(f"{path}: the project file is damaged ({where}: {first['msg']}).") from None


def _head(manifest: Manifest, names: dict[str, str], path: Source) -> TrainedHead | None:
    record = manifest.head
    if record is None:
        return None
    if not all(class_id in names for class_id in record.classIds):
        return None  # trained for classes that are gone: the page treats it as untrained too
    weights: list[np.ndarray] = []
    if record.model.kind in ("dense", "regression"):
        hidden = list(record.model.config.get("hidden_units", []))
        sizes = [manifest.embeddingSize, *hidden, len(record.classIds)]
        flat = record.model.weights or []
        if len(flat) != 2 * (len(sizes) - 1):
            raise TrainedFileError(f"{path}: the trained model's weights are incomplete.")
        for layer in range(len(sizes) - 1):
            kernel = np.asarray(flat[2 * layer], dtype=np.float32)
            bias = np.asarray(flat[2 * layer + 1], dtype=np.float32)
            if kernel.size != sizes[layer] * sizes[layer + 1] or bias.size != sizes[layer + 1]:
                raise TrainedFileError(f"{path}: the trained model's weights do not fit its layers.")
            weights += [kernel.reshape(sizes[layer], sizes[layer + 1]), bias]
    return TrainedHead(
        kind=record.model.kind,
        config=record.model.config,
        class_names=[names[class_id] for class_id in record.classIds],
        weights=weights,
        history=record.history,
        evaluation=record.evaluation,
    )


def read_project_file(path: Path | InMemoryFile) -> TrainedProject:
    """Reads and checks a project file saved by the page; any problem raises TrainedFileError."""
    path = _source(path)
    with open_judged(path) as archive:
        manifest = _manifest(archive, path)
        names = {item.id: item.name for item in manifest.classes}
        size = manifest.embeddingSize
        raw = read_entry(archive, EMBEDDINGS, path)
        if len(raw) != len(manifest.samples) * size * 4:
            raise TrainedFileError(f"{path}: the project file's embeddings are incomplete.")
        regression = manifest.task == "regression"
        if regression and any(entry.value is None for entry in manifest.samples):
            raise TrainedFileError(f"{path}: the project file has a sample without its number.")
        embeddings = np.frombuffer(raw, dtype="<f4").reshape(len(manifest.samples), size)
        samples = []
        for index, entry in enumerate(manifest.samples):
            if entry.classId not in names:
                raise TrainedFileError(f"{path}: the project file has a sample that belongs to no class.")
            samples.append(
                Sample(
                    id=entry.id,
                    class_name=names[entry.classId],
                    embedding=embeddings[index].copy(),
                    image=read_entry(archive, f"images/{entry.id}.jpg", path),
                    thumb=read_entry(archive, f"thumbs/{entry.id}.jpg", path),
                    value=entry.value if regression else None,
                )
            )
        return TrainedProject(
            title=manifest.title,
            fingerprint=manifest.modelFingerprint,
            base=manifest.base,
            embedding_size=size,
            class_names=[item.name for item in manifest.classes],
            samples=samples,
            settings=manifest.settings,
            head=_head(manifest, names, path),
            source=path,
            regression=(manifest.regression or {}) if regression else None,
        )


MODEL_METADATA = "metadata.json"
MODEL_ENTRIES = re.compile(
    r"^(metadata\.json|labels\.txt|README\.md|(base|head)/(model\.json|weights\.bin)|knn/(embeddings\.f32|labels\.json))$"
)


class ModelMetadata(_Loose):
    format: Literal["teachkit-model"]
    version: Literal[1]
    title: str = ""
    labels: list[str] = Field(min_length=1)  # a regression model's one label names its number
    task: Literal["classification", "regression"] = "classification"
    regression: dict[str, Any] | None = None
    base: dict[str, Any]
    head: dict[str, Any]


def _json(archive: zipfile.ZipFile, name: str, path: Source) -> Any:
    try:
        return json.loads(read_entry(archive, name, path))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise TrainedFileError(f"{path}: {name} in the model download cannot be read.") from None


def _layers_weights(archive: zipfile.ZipFile, path: Source) -> list[np.ndarray]:
    """The dense head's kernels and biases, in order, from its TF.js layers model."""
    model = _json(archive, "head/model.json", path)
    data = read_entry(archive, "head/weights.bin", path)
    weights, offset = [], 0
    try:
        specs = [spec for group in model["weightsManifest"] for spec in group["weights"]]
        for spec in specs:
            count = int(np.prod(spec["shape"]))
            if spec.get("dtype", "float32") != "float32" or offset + 4 * count > len(data):
                raise ValueError(spec["name"])
            weights.append(np.frombuffer(data, "<f4", count, offset).reshape(spec["shape"]).copy())
            offset += 4 * count
    except (KeyError, TypeError, ValueError) as error:
        raise TrainedFileError(f"{path}: the model download's head is damaged ({error}).") from None
    return weights


def read_model_download(path: Path | InMemoryFile) -> TrainedProject:
    """Reads a model download (the page's Download model): the head and the base's identity; a
    kNN head brings its samples' embeddings (no pictures)."""
    path = _source(path)
    with open_judged(path, MODEL_ENTRIES, "a model download") as archive:
        try:
            metadata = ModelMetadata.model_validate(_json(archive, MODEL_METADATA, path))
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise TrainedFileError(
                f"{path}: not a teachkit model download ({where}: {first['msg']})."
            ) from None
        head = metadata.head
        size = int(metadata.base.get("embedding_size", 0))
        samples: list[Sample] = []
        weights: list[np.ndarray] = []
        if head.get("kind") in ("dense", "regression"):
            weights = _layers_weights(archive, path)
        elif head.get("kind") == "knn":
            embeddings = np.frombuffer(read_entry(archive, "knn/embeddings.f32", path), "<f4")
            labels = _json(archive, "knn/labels.json", path)
            if not size or embeddings.size != len(labels) * size:
                raise TrainedFileError(f"{path}: the model download's samples are incomplete.")
            for index, label in enumerate(labels):
                embedding = embeddings[index * size : (index + 1) * size].copy()
                samples.append(Sample(f"sample-{index}", metadata.labels[label], embedding, b"", b""))
        else:
            raise TrainedFileError(f"{path}: the model download's head is of no kind this teachkit knows.")
    return TrainedProject(
        title=metadata.title,
        fingerprint=None,
        base=metadata.base,
        embedding_size=size,
        class_names=metadata.labels,
        samples=samples,
        settings={"head": {"type": head["kind"], **head.get("config", {})}},
        head=TrainedHead(
            kind=head["kind"],
            config=head.get("config", {}),
            class_names=metadata.labels,
            weights=weights,
            history=head.get("history") or [],
            evaluation=head.get("evaluation"),
        ),
        source=path,
        regression=(metadata.regression or {}) if head["kind"] == "regression" else None,
    )


# Each kind of file the page saves: (what it is called, the entry that identifies it, its reader).
TRAINED_KINDS = (
    ("a project file (.teachkit.zip, from Save project file)", MANIFEST, read_project_file),
    ("a model download (.teachkit-model.zip, from Download model)", MODEL_METADATA, read_model_download),
)


def read_trained(path: Path | InMemoryFile) -> TrainedProject:
    """Reads any file the page saves about what a visitor trained, telling the kinds apart by the
    entries of the zip; any problem (not a zip, damaged, foreign) raises TrainedFileError."""
    path = _source(path)
    with open_zip(path) as archive:
        names = archive.namelist()
    for _, marker, reader in TRAINED_KINDS:
        if marker in names:
            return reader(path)
    shown = ", ".join(f'"{name}"' for name in names[:3]) + (", …" if len(names) > 3 else "")
    expected = "; or ".join(description for description, _, _ in TRAINED_KINDS)
    raise TrainedFileError(
        f"{path}: this zip file was not saved by a teachkit page (it holds {shown or 'nothing'}; "
        f"expected {expected})."
    )
