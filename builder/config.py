"""The project file: its schema, loading, and error messages a non-programmer can act on.

The schema is declared once, as pydantic models; each field's description is its reference
documentation (see `reference_markdown`). `load_project` reports every problem of a project file in
one `ConfigError`, one line per problem, each `field.path: what is wrong (got X; expected Y)`.
Relative paths are resolved against the folder of the project file, never the current directory.
"""

from __future__ import annotations

import datetime
import difflib
import ipaddress
import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    PrivateAttr,
    Strict,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import InitErrorDetails, PydanticCustomError, core_schema

from .errors import ConfigError
from .models.catalog import (  # noqa: F401 - public names of this module too
    ALPHAS,
    BASE_MODELS,
    DEFAULT_BASE,
    FIXED_WEIGHTS,
    INPUT_SIZES,
    KERAS_MODEL_SUFFIXES,
    BaseName,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 needs the backport
    import tomli as tomllib

PROJECT_FILE_NAME = "project.toml"

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg")
COLOUR_PATTERN = r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"

_ERROR = "teachkit"  # the pydantic error type of every message written in this module
_CORE_ERROR_TYPES = frozenset(get_args(core_schema.ErrorType))


class Expect(NamedTuple):
    """Field metadata: what a valid value looks like, for the `expected …` part of messages."""

    text: str


class Page(NamedTuple):
    """Field metadata: how the page shows a setting as a control (see `settings_spec`).

    The bounds are not repeated here: the page gets them from the field's own constraints.
    """

    label: str
    step: float | str = 1  # the input's step; "any" for a number without a natural step
    # The head type the setting applies to ("dense" includes the network of a regression head); None: all.
    head: Literal["dense", "knn"] | None = None
    choices: dict[str, str] | None = None  # labels of a Literal's values; missing ones show the value


def _show(value: Any) -> str:
    """A value as the author wrote it in TOML, shortened if long."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, Path):
        text = json.dumps(str(value), ensure_ascii=False)
    elif isinstance(value, (int, float)):
        text = repr(value)
    elif isinstance(value, (datetime.date, datetime.time)):
        text = value.isoformat()
    elif isinstance(value, dict):
        return "a table"
    elif isinstance(value, (list, tuple)):
        text = "[" + ", ".join(_show(item) for item in value) + "]"
    else:
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _problem(what: str, got: str, expected: str) -> PydanticCustomError:
    """An error whose three parts are already human text; `got` is shown as is."""
    return PydanticCustomError(_ERROR, "{what}", {"what": what, "got": got, "expected": expected})


def _one_of(values: Sequence[Any]) -> str:
    if len(values) == 1:
        return _show(values[0])
    return "one of " + ", ".join(_show(value) for value in values)


# --------------------------------------------------------------------------------------------- paths


def _project_dir(info: ValidationInfo) -> Path | None:
    project_file = (info.context or {}).get("project_file")
    return Path(project_file).resolve().parent if project_file else None


def _resolve(value: Path, info: ValidationInfo) -> Path:
    """Make a path absolute against the project file's folder (never the current directory)."""
    path = value.expanduser()
    if path.is_absolute():
        return path.resolve()
    project_dir = _project_dir(info)
    if project_dir is None:
        raise _problem(
            "a relative path needs the folder of the project file",
            _show(value),
            'the project to be loaded with load_project() or validated with context={"project_file": path}',
        )
    return (project_dir / path).resolve()


def _must_exist(written: Path, path: Path, expected: str) -> None:
    if not path.exists():
        raise _problem(
            f"file not found: {path}", _show(written), f"{expected}; paths are relative to the project file"
        )


def _check_logo(written: Path, path: Path) -> Path:
    _must_exist(written, path, 'an image file, like "logo.png"')
    if path.is_dir() or path.suffix.lower() not in IMAGE_SUFFIXES:
        raise _problem(
            "not an image file",
            _show(written),
            "a " + ", ".join(IMAGE_SUFFIXES[:-1]) + f" or {IMAGE_SUFFIXES[-1]} file",
        )
    if path.suffix.lower() == ".svg":
        _check_svg(written, path)
    else:
        _check_raster_image(written, path)
    return path


SVG_NAMESPACE = "http://www.w3.org/2000/svg"
# Pillow's format names, and the file name endings that say so.
RASTER_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".gif": "GIF", ".webp": "WEBP"}
_EXPORT_AGAIN = "export the logo again from an image editor"


def _check_raster_image(written: Path, path: Path) -> None:
    """The file opens as an image (Pillow checks its structure) of the type its name ends in."""
    from PIL import Image

    expected = RASTER_FORMATS[path.suffix.lower()]
    try:
        with Image.open(path) as image:
            found = image.format
            image.verify()
    except Exception:  # Pillow raises many types for a broken file; each means "not readable"
        raise _problem(
            f"not a readable {expected} image", _show(written), f"a {expected} image file; {_EXPORT_AGAIN}"
        ) from None
    if found != expected:
        endings = " or ".join(suffix for suffix, name in RASTER_FORMATS.items() if name == found)
        raise _problem(
            f"a {found} image named like a {expected} one",
            _show(written),
            f"a name ending in {endings}" if endings else f"a {expected} image file; {_EXPORT_AGAIN}",
        )


def _check_svg(written: Path, path: Path) -> None:
    """The file is XML whose root element is <svg>."""
    import xml.etree.ElementTree as ElementTree

    expected = "an SVG file: XML with an <svg> root element"
    try:
        root = ElementTree.parse(path).getroot()
    except (ElementTree.ParseError, OSError, UnicodeError) as error:
        reason = f": {error}" if isinstance(error, ElementTree.ParseError) else ""
        raise _problem(f"not a readable SVG image{reason}", _show(written), expected) from None
    tag = root.tag.rsplit("}", 1)[-1]
    if tag != "svg":
        raise _problem(f"not an SVG image: its root element is <{tag}>", _show(written), expected)
    if root.tag != f"{{{SVG_NAMESPACE}}}svg":
        # Parsed as an image, an <svg> outside this namespace is unknown XML: browsers draw nothing.
        raise _problem(
            f'not an SVG image browsers draw: its <svg> root element lacks xmlns="{SVG_NAMESPACE}"',
            _show(written),
            f'<svg xmlns="{SVG_NAMESPACE}" …>',
        )


def _check_keras_model(written: Path, path: Path) -> Path:
    expected = "a .keras or .h5 file or a SavedModel folder"
    _must_exist(written, path, f"your Keras model: {expected}")
    if path.is_dir() and not (path / "saved_model.pb").is_file():
        raise _problem("not a SavedModel folder: it has no saved_model.pb", _show(written), expected)
    if not path.is_dir() and path.suffix.lower() not in KERAS_MODEL_SUFFIXES:
        raise _problem("not a Keras model file", _show(written), expected)
    return path


def _checked_path(check: Callable[[Path, Path], Path] | None = None) -> Any:
    """A path type: made absolute against the project file's folder, then `check(written, resolved)`."""

    def validate(written: Path, info: ValidationInfo) -> Path:
        path = _resolve(written, info)
        return check(written, path) if check else path

    return Annotated[
        Path, Strict(False), AfterValidator(validate), WithJsonSchema({"type": "string", "format": "path"})
    ]


def _check_weights(value: Any, info: ValidationInfo) -> str | Path:
    if isinstance(value, Path):  # already validated (a Project passed in again)
        return value
    if not isinstance(value, str):
        raise _problem(
            "must be text in quotes", _show(value), '"imagenet" or the path of a Keras weights file'
        )
    if value == "imagenet":
        return value
    if not value.strip():
        raise _problem("must not be empty", _show(value), '"imagenet" or the path of a Keras weights file')
    path = _resolve(Path(value), info)
    _must_exist(Path(value), path, '"imagenet" or the path of a Keras weights file')
    if path.is_dir():
        raise _problem("is a folder", _show(value), 'a Keras weights file, like "weights.h5"')
    return path


KerasModelPath = _checked_path(_check_keras_model)
LogoPath = _checked_path(_check_logo)
FolderPath = _checked_path()
Colour = Annotated[
    str,
    StringConstraints(pattern=COLOUR_PATTERN),
    Expect('a CSS hex colour like "#1f6feb" or "#fff"'),
    WithJsonSchema({"type": "string", "format": "color", "pattern": COLOUR_PATTERN}),
]
ClassName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=40),
    Expect('a short name like "cats"'),
]


# ------------------------------------------------------------------------------------------- origins

ORIGIN_EXAMPLE = 'an origin like "https://socr.ucla.edu"'
DEFAULT_PORTS = {"http": 80, "https": 443}
# scheme://authority, then whatever follows: a path, a query or a fragment
_URL = re.compile(r"(?s)([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)(.*)")
_AUTHORITY = re.compile(r"(?s)(?:(.*)@)?(\[[^\]]*\]|[^:]*)(?::(.*))?")
_HOST = re.compile(r"[a-z0-9._-]+")


def _check_origin(value: str) -> str:
    """An allowed host page, exactly as a browser reports it in `MessageEvent.origin`.

    The page compares origins as plain text, so anything a browser would never send (a slash, a
    capital letter, a default port) would silently never match; it is refused here instead.
    """
    if value == "null":
        return value
    if not value:
        raise _problem("must not be empty", _show(value), ORIGIN_EXAMPLE)
    if value.strip().lower() == "null":
        raise _problem('must be written exactly as "null"', _show(value), '"null"')
    if "*" in value:
        raise _problem(
            "wildcards are not allowed: list each host page's origin",
            _show(value),
            'exact origins like "https://socr.ucla.edu"',
        )
    if any(character.isspace() for character in value):
        fixed = value.strip()
        expected = ORIGIN_EXAMPLE if not fixed or any(c.isspace() for c in fixed) else _show(fixed)
        raise _problem("must not contain spaces", _show(value), expected)
    url = _URL.fullmatch(value)
    if url is None:
        raise _problem(
            "must start with https:// or http://",
            _show(value),
            'an origin like "https://socr.ucla.edu" or "http://localhost:8080"',
        )
    scheme, authority, rest = url.groups()
    if scheme.lower() == "file":
        raise _problem(
            'a page opened from a file has no origin: the browser reports it as "null"',
            _show(value),
            f'"null" for a host page opened from a file, or {ORIGIN_EXAMPLE}',
        )
    if scheme.lower() not in DEFAULT_PORTS:
        raise _problem(f"{scheme}: is not allowed, only http: and https:", _show(value), ORIGIN_EXAMPLE)
    userinfo, host, port = _AUTHORITY.fullmatch(authority).groups()  # type: ignore[union-attr]
    if not host:
        raise _problem("has no host name", _show(value), ORIGIN_EXAMPLE)
    international = not host.isascii()
    try:
        host = host.encode("idna").decode("ascii").lower() if international else host.lower()
    except UnicodeError:
        raise _problem("not a valid host name", _show(value), ORIGIN_EXAMPLE) from None
    if host.startswith("["):
        try:
            host = f"[{ipaddress.IPv6Address(host[1:-1]).compressed}]"
        except ValueError:
            raise _problem("not a valid IPv6 address", _show(value), ORIGIN_EXAMPLE) from None
    elif not _HOST.fullmatch(host):
        raise _problem("not a valid host name", _show(value), ORIGIN_EXAMPLE)
    if port is not None and not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
        raise _problem("the port must be a number from 1 to 65535", _show(value), ORIGIN_EXAMPLE)
    scheme = scheme.lower()
    default_port = port is not None and int(port) == DEFAULT_PORTS[scheme]
    origin = f"{scheme}://{host}" + (f":{int(port)}" if port is not None and not default_port else "")
    if userinfo is not None:
        what = "must not contain a user name or password"
    elif rest == "/":
        what = 'must not end with "/": drop the slash, an origin has no path'
    elif rest.startswith("/"):
        what = "must not contain a path: an origin is only the scheme, host and port"
    elif rest:
        what = 'must not contain a query or fragment: drop everything from the "?" or "#"'
    elif international:
        what = "must give the host in its xn-- form, as the browser reports it"
    elif origin.lower() == value.lower() and origin != value:
        what = "must be lowercase: the browser reports the scheme and host in lowercase"
    elif default_port:
        what = (
            f"must leave out the default port :{DEFAULT_PORTS[scheme]}: "
            "the browser reports the origin without it"
        )
    elif origin != value:  # e.g. a port with leading zeros, an IPv6 address not in its short form
        what = "not written the way the browser reports it"
    else:
        return value
    raise _problem(what, _show(value), _show(origin))


Origin = Annotated[str, AfterValidator(_check_origin), Expect(ORIGIN_EXAMPLE)]


# --------------------------------------------------------------------------------------------- tables


class _Table(BaseModel):
    """One table of the project file: unknown keys are errors, TOML types are taken strictly.

    Checks that combine several keys live in `_combined_problems`; they read the raw table, so they
    run even when other keys of the table are wrong, and all problems come out in one pass.
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    @classmethod
    def _combined_problems(cls, raw: dict[str, Any], failed: set[str]) -> list[InitErrorDetails]:
        return []

    @model_validator(mode="wrap")
    @classmethod
    def _check_combinations(cls, data: Any, handler: Callable[[Any], Any], info: ValidationInfo) -> Any:
        try:
            result, errors = handler(data), []
        except ValidationError as exc:
            if not isinstance(data, dict):
                raise
            result, errors = None, exc.errors()
        if not isinstance(data, dict):
            return result
        failed = {str(error["loc"][0]) for error in errors if error["loc"]}
        combined = cls._combined_problems(data, failed)
        if not errors and not combined:
            return result
        raise ValidationError.from_exception_data(cls.__name__, [*map(_reraisable, errors), *combined])


def _reraisable(error: Any) -> InitErrorDetails:
    details: dict[str, Any] = {"loc": error["loc"], "input": error["input"]}
    if error["type"] == _ERROR:
        details["type"] = PydanticCustomError(_ERROR, "{what}", error["ctx"])
    elif error["type"] not in _CORE_ERROR_TYPES:  # raised by pydantic itself, e.g. path_type
        details["type"] = PydanticCustomError(error["type"], error["msg"], error.get("ctx"))
    else:
        details["type"] = error["type"]
        if "ctx" in error:
            details["ctx"] = error["ctx"]
    return details  # type: ignore[return-value]


class ModelSection(_Table):
    """The base model that turns an image into an embedding, and how it is shipped."""

    base: Annotated[BaseName, Expect(_one_of(BASE_MODELS))] = Field(
        DEFAULT_BASE,
        description="Pretrained base model that turns each image into an embedding; leave it out when "
        "model.path is set.",
    )
    alpha: Annotated[float | None, Expect("a width multiplier like 1.0")] = Field(
        None,
        description="Width multiplier of a MobileNet (smaller is faster, less accurate); offered: "
        + "; ".join(f"{base} {', '.join(map(str, values))}" for base, values in ALPHAS.items())
        + ". Default: 1.0.",
    )
    input_size: Annotated[int | None, Expect("an image size in pixels like 224")] = Field(
        None,
        ge=32,
        le=1024,
        description="Side in pixels of the square image the model sees; offered: "
        + "; ".join(
            f"{base} {', '.join(map(str, sizes))}" for base, sizes in INPUT_SIZES.items() if len(sizes) > 1
        )
        + "; other bases 224. Default: 224, or your own model's size.",
    )
    weights: Annotated[str | Path, PlainValidator(_check_weights)] = Field(
        "imagenet",
        description='"imagenet" (downloaded by Keras) or the path of a Keras weights file for the base; '
        "not for efficientnet_lite0 or your own model.",
        json_schema_extra={"type": "string", "examples": ["imagenet", "weights/mobilenet_v2.h5"]},
    )
    path: Annotated[KerasModelPath | None, Expect("a .keras or .h5 file or a SavedModel folder")] = Field(
        None,
        description="Your own Keras model instead of a base: a .keras or .h5 file or a SavedModel folder.",
    )
    cut_layer: Annotated[
        str | None,
        StringConstraints(strip_whitespace=True, min_length=1),
        Expect("the name of the layer whose output is the embedding"),
    ] = Field(None, description="With model.path: the name of the layer whose output is the embedding.")
    input_range: Annotated[Literal["0-255", "0-1", "-1-1"], Expect(_one_of(["0-255", "0-1", "-1-1"]))] = (
        Field("0-1", description="With model.path: the pixel value range your model expects.")
    )
    quantization: Annotated[
        Literal["auto", "none", "float16", "uint16", "uint8"],
        Expect(_one_of(["auto", "none", "float16", "uint16", "uint8"])),
    ] = Field(
        "auto",
        description="How the model's weights are shrunk for the web; auto picks the smallest that keeps "
        "min_fidelity.",
    )
    min_fidelity: Annotated[float, Expect("a number like 0.99")] = Field(
        0.99,
        gt=0,
        le=1,
        description="Lowest cosine similarity allowed between quantized and full-precision embeddings.",
    )
    runtime: Annotated[Literal["auto", "litert", "tfjs"], Expect(_one_of(["auto", "litert", "tfjs"]))] = (
        Field(
            "auto",
            description="What runs the base model in the page: litert (LiteRT.js, an int8 .tflite, faster, "
            "a larger download), tfjs (TensorFlow.js) or auto: litert for a hosted build when a LiteRT.js "
            "encoding keeps min_fidelity, tfjs otherwise, for a single file and when quantization names "
            "an encoding (TF.js's).",
        )
    )

    @property
    def may_use_litert(self) -> bool:
        """Whether the build makes a .tflite for LiteRT.js: asked for, or left to auto with no TF.js
        encoding named (quantization = "float16" and the like choose TF.js's weights)."""
        return self.runtime == "litert" or (self.runtime == "auto" and self.quantization == "auto")

    @classmethod
    def _combined_problems(cls, raw: dict[str, Any], failed: set[str]) -> list[InitErrorDetails]:
        found: list[tuple[str, str, str]] = []  # (key, what is wrong, expected)
        custom = "path" in raw
        base = None if "base" in failed or custom else raw.get("base", DEFAULT_BASE)
        given = {key for key in raw if key not in failed}
        if custom and "base" in raw:
            found.append(
                (
                    "base",
                    "cannot be used together with model.path",
                    "either a base model or your own model in model.path, not both",
                )
            )
        if custom and "cut_layer" not in raw:
            found.append(
                (
                    "cut_layer",
                    "required when model.path is set",
                    "the name of the layer whose output is the embedding",
                )
            )
        for key in ("cut_layer", "input_range"):
            if not custom and key in raw:
                found.append(
                    (key, "only used with your own model in model.path", f"no {key} for a base model")
                )
        if "alpha" in given and custom:
            found.append(("alpha", "only used with a base model", "no alpha with model.path"))
        elif "alpha" in given and base is not None and base not in ALPHAS:
            found.append(
                (
                    "alpha",
                    f"{base} has no alpha setting",
                    "no alpha, or a base that has one: " + ", ".join(ALPHAS),
                )
            )
        elif "alpha" in given and base is not None and raw["alpha"] not in ALPHAS[base]:
            found.append(("alpha", f"not offered for {base}", _one_of(ALPHAS[base])))
        if "input_size" in given and base is not None and raw["input_size"] not in INPUT_SIZES[base]:
            found.append(("input_size", f"not offered for {base}", _one_of(INPUT_SIZES[base])))
        if "weights" in given and raw["weights"] != "imagenet":
            if custom:
                found.append(
                    (
                        "weights",
                        "not used with model.path",
                        "no weights key: your own model file holds its weights",
                    )
                )
            elif base in FIXED_WEIGHTS:
                found.append(
                    (
                        "weights",
                        f"{base} comes with its own weights",
                        '"imagenet" or no weights key, or a Keras base model',
                    )
                )
        return [
            {
                "type": _problem(what, _show(raw[key]) if key in raw else "nothing", expected),
                "loc": (key,),
                "input": raw.get(key),
            }
            for key, what, expected in found
        ]

    @property
    def is_custom(self) -> bool:
        """Whether the author's own Keras model (model.path) is used instead of a base model."""
        return self.path is not None

    @property
    def weights_path(self) -> Path | None:
        """The local Keras weights file for the base, or None for the "imagenet" download."""
        return self.weights if isinstance(self.weights, Path) else None


class HeadSection(_Table):
    """The small classifier trained in the browser on top of the embeddings."""

    type: Annotated[
        Literal["dense", "knn", "regression"],
        Expect(_one_of(["dense", "knn", "regression"])),
        Page(
            "Classifier",
            choices={"dense": "small neural network", "knn": "nearest neighbours", "regression": "a number"},
        ),
    ] = Field(
        "dense",
        description="dense: a small neural network; knn: nearest neighbours among the samples; regression: "
        "a small neural network that predicts a number instead of a class (see [regression]).",
    )
    # The bounds below keep a visitor's browser from being asked for more than it can train.
    hidden_units: Annotated[
        list[Annotated[int, Field(ge=1, le=4096), Expect("a whole number of neurons like 100")]],
        Expect("a list of whole numbers like [100] or []"),
        Page("Hidden layer sizes", head="dense"),
    ] = Field([100], max_length=4, description="Neurons in each hidden layer of the dense head; [] for none.")
    activation: Annotated[
        Literal["relu", "tanh", "sigmoid", "elu", "selu", "swish"],
        Expect(_one_of(["relu", "tanh", "sigmoid", "elu", "selu", "swish"])),
        Page("Activation", head="dense"),
    ] = Field("relu", description="Activation function of the hidden layers.")
    dropout: Annotated[float, Expect("a number like 0.2"), Page("Dropout", step=0.05, head="dense")] = Field(
        0.0, ge=0, le=0.9, description="Fraction of hidden neurons switched off at random while training."
    )
    k: Annotated[int, Expect("a whole number like 3"), Page("Neighbours (k)", head="knn")] = Field(
        3, ge=1, le=100, description="With type knn: how many nearest samples vote."
    )


class RegressionSection(_Table):
    """With head.type = "regression": the number each sample is labelled with and the page predicts."""

    label: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=40),
        Expect('a short name like "How open the hand is"'),
    ] = Field("Value", description="What the number is, shown on the slider, the charts and the gauge.")
    unit: Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=12), Expect('a short unit like "%" or "cm"')
    ] = Field("", description="The number's unit, shown after it; empty for none.")
    min: Annotated[float, Expect("a number like 0")] = Field(0.0, description="Lowest value of the slider.")
    max: Annotated[float, Expect("a number like 100")] = Field(
        100.0, description="Highest value of the slider."
    )

    @classmethod
    def _combined_problems(cls, raw: dict[str, Any], failed: set[str]) -> list[InitErrorDetails]:
        low, high = raw.get("min", 0.0), raw.get("max", 100.0)
        if {"min", "max"} & failed or not all(isinstance(v, (int, float)) for v in (low, high)):
            return []
        if low < high:
            return []
        return [
            {
                "type": _problem("must be above min", _show(high), f"a number above {_show(low)}"),
                "loc": ("max",),
                "input": high,
            }
        ]


class TrainingSection(_Table):
    """The starting values of the training controls on the page."""

    epochs: Annotated[int, Expect("a whole number like 50"), Page("Epochs", head="dense")] = Field(
        50, ge=1, le=1000, description="How many times training goes through all samples."
    )
    batch_size: Annotated[int, Expect("a whole number like 16"), Page("Batch size", head="dense")] = Field(
        16, ge=1, le=1024, description="Samples per training step."
    )
    learning_rate: Annotated[
        float, Expect("a number like 0.001"), Page("Learning rate", step="any", head="dense")
    ] = Field(0.001, gt=0, le=1, description="Step size of the optimizer.")
    validation_fraction: Annotated[
        float, Expect("a number like 0.15"), Page("Held back for checking", step=0.05)
    ] = Field(0.15, ge=0, le=0.5, description="Share of each class's samples held back to measure accuracy.")
    # The page's random generator takes an unsigned 32-bit seed.
    seed: Annotated[int, Expect("a whole number like 42"), Page("Random seed")] = Field(
        42, ge=0, le=2**32 - 1, description="Random seed, so the same samples give the same split and result."
    )


class CaptureSection(_Table):
    """How samples are recorded from the webcam."""

    fps: Annotated[int, Expect("a whole number like 10")] = Field(
        10, ge=1, le=30, description="Frames per second recorded while the record button is held."
    )


class ThemeSection(_Table):
    """How the page looks and what it says around the tool."""

    primary_color: Colour = Field("#1f6feb", description="Colour of buttons, bars and highlights.")
    background_color: Colour = Field("#ffffff", description="Page background colour.")
    text_color: Colour = Field("#1f2328", description="Text colour.")
    logo: Annotated[LogoPath | None, Expect('an image file like "logo.png"')] = Field(
        None, description="Image shown next to the title: a png, jpg, gif, webp or svg file."
    )
    intro: Annotated[str, Expect('a text like "Teach the computer to tell leaves apart."')] = Field(
        "", description="Text shown under the title."
    )
    footer: Annotated[str, Expect('a text like "Made for class 7b"')] = Field(
        "", description="Text shown at the bottom of the page."
    )


class PageSection(_Table):
    """What the page offers its visitors."""

    mode: Annotated[Literal["teach", "predict"], Expect(_one_of(["teach", "predict"]))] = Field(
        "teach",
        description="teach: collect examples, train and predict (starting from the model baked in with "
        "teachkit build --trained, if any); predict: only the prediction panel (camera and upload), "
        "for a finished classifier in a course page; needs teachkit build --trained FILE.",
    )


class EmbedSection(_Table):
    """Which web pages may control this page when they show it in an iframe (through embed.js)."""

    allowed_origins: Annotated[
        list[Origin], Expect('a list of origins like ["https://socr.ucla.edu", "http://localhost:8080"]')
    ] = Field(
        [],
        description="Exact origins (scheme, host and port, no path or slash) of the host pages that may "
        'control the page through embed.js, like "https://socr.ucla.edu"; "null", written exactly so, '
        "for a host page opened from a file. Empty: the page works in any iframe but answers no host.",
        json_schema_extra={"uniqueItems": True},
    )

    @classmethod
    def _combined_problems(cls, raw: dict[str, Any], failed: set[str]) -> list[InitErrorDetails]:
        origins = raw.get("allowed_origins")
        if not isinstance(origins, list):
            return []
        problems: list[InitErrorDetails] = []
        seen: set[str] = set()
        for index, origin in enumerate(origins):
            if not isinstance(origin, str):
                continue  # reported by the item check, as are the origins refused below
            try:
                _check_origin(origin)
            except PydanticCustomError:
                continue
            if origin in seen:
                problems.append(
                    {
                        "type": _problem("duplicate origin", _show(origin), "every origin to be different"),
                        "loc": ("allowed_origins", index),
                        "input": origin,
                    }
                )
            seen.add(origin)
        return problems


CLOUD_EXAMPLE = 'a web address like "https://models.example.edu/teachkit/"'
_LOOPBACK_NAMES = {"localhost", "[::1]"}


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.IPv4Address(host).is_loopback
    except ValueError:
        return False


def _check_cloud_url(value: str | None) -> str | None:
    """The receiver's base URL, as the page resolves "models/…" against it: https (http only on
    this computer, for testing), no user name, query or fragment, and a path ending in "/" (added
    when missing)."""
    if value is None:
        return None
    url = _URL.fullmatch(value)
    if url is None or url.group(1).lower() not in DEFAULT_PORTS:
        raise _problem("must start with https://", _show(value), CLOUD_EXAMPLE)
    scheme, authority, rest = url.groups()
    if "?" in rest or "#" in rest:
        what = 'must not contain a query or fragment: drop everything from the "?" or "#"'
        raise _problem(what, _show(value), CLOUD_EXAMPLE)
    path = rest if rest.endswith("/") else f"{rest}/"
    try:
        origin = _check_origin(f"{scheme}://{authority}")
    except PydanticCustomError as problem:
        # The origin's own message, with the path kept in what is expected.
        context = problem.context or {}
        expected = context.get("expected", CLOUD_EXAMPLE)
        if expected.startswith('"http'):
            expected = _show(json.loads(expected) + path)
        raise _problem(context.get("what", "not a valid address"), _show(value), expected) from None
    host = _AUTHORITY.fullmatch(authority).group(2)  # type: ignore[union-attr]
    if scheme == "http" and not _is_loopback(host):
        raise _problem(
            "must use https:// (http:// only for a receiver on this computer, for testing)",
            _show(value),
            _show(f"https://{authority}{path}"),
        )
    return origin + path


class CloudSection(_Table):
    """Where the page keeps copies of trained models in the cloud: a receiver (teachkit receive)."""

    url: Annotated[str | None, AfterValidator(_check_cloud_url), Expect(CLOUD_EXAMPLE)] = Field(
        None,
        description='Base web address of the receiver, like "https://models.example.edu/teachkit/": the '
        "page may send the trained model there (never the images, unless the visitor ticks the box) and "
        "open models from there. https only, or http://127.0.0.1 for testing. Leave it out for no cloud.",
    )

    @property
    def origin(self) -> str | None:
        """The one origin the page's Content-Security-Policy lets it connect to for the cloud."""
        if self.url is None:
            return None
        scheme, rest = self.url.split("://", 1)
        return f"{scheme}://{rest.split('/', 1)[0]}"


class OutputSection(_Table):
    """What `teachkit build` writes, and where."""

    mode: Annotated[Literal["hosted", "single_file"], Expect(_one_of(["hosted", "single_file"]))] = Field(
        "hosted",
        description="hosted: a folder for any web server; single_file: one .html file that works offline.",
    )
    dir: Annotated[FolderPath, Expect('a folder path like "dist"')] = Field(
        Path("dist"), validate_default=True, description="Folder the build is written to."
    )


def _table(cls: type[_Table]) -> Any:
    # Validate the default ({}) too, so that paths in an absent table are resolved as well.
    return Field(default_factory=dict, validate_default=True, description=cls.__doc__)


class Project(_Table):
    """A teachkit project: what the page teaches and how it is built."""

    title: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=80),
        Expect('a short title like "Leaves of Kew"'),
    ] = Field("My image classifier", description="Page title and heading.")
    description: Annotated[str, Expect('a text like "Sorts leaves by tree"')] = Field(
        "", description="One sentence about the classifier, for the page's metadata and the model file."
    )
    # Required, at least two, unless the head predicts a number (checked in _combined_problems).
    classes: Annotated[list[ClassName], Expect('a list like ["cats", "dogs"]')] = Field(
        default_factory=list,
        max_length=20,
        description="Names of the classes the visitor teaches, 2 to 20, each different (ignoring case); "
        'none with head.type = "regression".',
        json_schema_extra={"uniqueItems": True},
    )
    model: ModelSection = _table(ModelSection)
    head: HeadSection = _table(HeadSection)
    regression: RegressionSection = _table(RegressionSection)
    training: TrainingSection = _table(TrainingSection)
    capture: CaptureSection = _table(CaptureSection)
    theme: ThemeSection = _table(ThemeSection)
    page: PageSection = _table(PageSection)
    embed: EmbedSection = _table(EmbedSection)
    cloud: CloudSection = _table(CloudSection)
    output: OutputSection = _table(OutputSection)

    _project_file: Path | None = PrivateAttr(None)

    @classmethod
    def _combined_problems(cls, raw: dict[str, Any], failed: set[str]) -> list[InitErrorDetails]:
        head = raw.get("head")
        regression = isinstance(head, dict) and head.get("type") == "regression"
        problems = cls._task_problems(raw, failed, regression)
        classes = raw.get("classes")
        if not isinstance(classes, list):
            return problems
        seen: set[str] = set()
        for index, name in enumerate(classes):
            if not isinstance(name, str) or not 1 <= len(name.strip()) <= 40:
                continue  # reported by the item check
            key = name.strip().casefold()
            if key in seen:
                problems.append(
                    {
                        "type": _problem("duplicate class name", _show(name), "every name to be different"),
                        "loc": ("classes", index),
                        "input": name,
                    }
                )
            seen.add(key)
        return problems

    @staticmethod
    def _task_problems(raw: dict[str, Any], failed: set[str], regression: bool) -> list[InitErrorDetails]:
        """A classifier needs two classes or more; a regression head predicts a number, so it has none."""
        classes = raw.get("classes")
        if regression:
            if "classes" not in raw:
                return []
            what = 'not used with head.type = "regression", which predicts a number'
            expected = "no classes: [regression] label names the number"
            return [{"type": _problem(what, _show(classes), expected), "loc": ("classes",), "input": classes}]
        problems: list[InitErrorDetails] = []
        if "regression" in raw:
            what = 'only used with head.type = "regression"'
            expected = 'head.type = "regression", or no [regression] table'
            problems.append(
                {"type": _problem(what, "a table", expected), "loc": ("regression",), "input": None}
            )
        if "classes" not in raw:
            problems.append({"type": "missing", "loc": ("classes",), "input": raw})
        elif isinstance(classes, list) and len(classes) < 2 and "classes" not in failed:
            ctx = {"field_type": "List", "min_length": 2, "actual_length": len(classes)}
            problems.append({"type": "too_short", "loc": ("classes",), "input": classes, "ctx": ctx})
        return problems

    @property
    def is_regression(self) -> bool:
        """Whether the head predicts a number rather than a class."""
        return self.head.type == "regression"

    @model_validator(mode="after")
    def _remember_file(self, info: ValidationInfo) -> Project:
        project_file = (info.context or {}).get("project_file")
        if project_file is not None:
            self._project_file = Path(project_file).resolve()
        return self

    @property
    def project_file(self) -> Path:
        """Absolute path of the project file this project was loaded from."""
        if self._project_file is None:
            raise AttributeError("this Project was not loaded from a file (use load_project)")
        return self._project_file

    @property
    def project_dir(self) -> Path:
        """Absolute path of the folder holding the project file; relative paths start here."""
        return self.project_file.parent

    def page_config(self) -> dict[str, Any]:
        """What the browser page needs from the project, as JSON-ready data (no file paths)."""
        return {
            "title": self.title,
            "description": self.description,
            # A regression page keeps its samples in one group, named after the number.
            "classes": [self.regression.label] if self.is_regression else list(self.classes),
            "regression": self.regression.model_dump(mode="json") if self.is_regression else None,
            "head": self.head.model_dump(mode="json"),
            "training": self.training.model_dump(mode="json"),
            "capture": self.capture.model_dump(mode="json"),
            "theme": self.theme.model_dump(
                mode="json", include={"primary_color", "background_color", "text_color", "intro", "footer"}
            ),
            "page": self.page.model_dump(mode="json"),
            "embed": self.embed.model_dump(mode="json"),
            "cloud": self.cloud.model_dump(mode="json"),
            "settings": settings_spec(),
        }


# --------------------------------------------------------------------------------------------- page


def settings_spec() -> list[dict[str, Any]]:
    """The head and training settings the page offers as controls, with the schema's own bounds.

    The page checks a visitor's input against exactly these, so the project file and the page can
    never disagree about what is allowed.
    """
    spec = []
    for section in ("head", "training"):
        table = Project.model_fields[section].annotation
        for key, field in table.model_fields.items():  # type: ignore[union-attr]
            if any(isinstance(item, Page) for item in field.metadata):
                spec.append(_setting(section, key, field))
    return spec


def _setting(section: str, key: str, field: Any) -> dict[str, Any]:
    annotation, metadata = _walk((section, key))
    page = next(item for item in metadata if isinstance(item, Page))
    entry: dict[str, Any] = {"section": section, "key": key, "label": page.label}
    if get_origin(annotation) is Literal:
        labels = page.choices or {}
        entry["kind"] = "choice"
        entry["choices"] = [
            {"value": value, "label": labels.get(value, value)} for value in get_args(annotation)
        ]
    else:
        listed = get_origin(annotation) is list
        item, bounded = _walk((section, key, 0)) if listed else (annotation, metadata)
        kind = {(True, int): "integer_list", (False, int): "integer", (False, float): "number"}.get(
            (listed, item)
        )
        if kind is None:
            raise TypeError(f"{section}.{key}: the page has no control for {annotation}")
        bounds = _bounds(bounded)
        entry["kind"] = kind
        entry["min"] = bounds.get("ge", bounds.get("gt"))
        entry["max"] = bounds.get("le", bounds.get("lt"))
        entry["min_exclusive"] = "gt" in bounds
        entry["max_exclusive"] = "lt" in bounds
        if kind == "integer_list":
            entry["max_items"] = next(
                (item.max_length for item in metadata if hasattr(item, "max_length")), None
            )
        entry["step"] = page.step
    default = field.default
    entry["default"] = list(default) if isinstance(default, list) else default
    entry["help"] = field.description
    entry["head"] = page.head
    return entry


# --------------------------------------------------------------------------------------------- loading


def load_project(path: Path) -> Project:
    """Read, validate and return the project file at `path`; any problem raises one ConfigError."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")  # -sig: Windows editors may add a BOM
    except FileNotFoundError:
        parent = path.parent if str(path.parent) else Path(".")
        raise ConfigError(
            f"{path}: file not found "
            f"(expected a teachkit project file; create one with: teachkit init {parent})"
        ) from None
    except IsADirectoryError:
        raise ConfigError(
            f"{path}: is a folder (expected a teachkit project file, like {path / PROJECT_FILE_NAME})"
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not a text file (got a byte that is not UTF-8 at position {exc.start}; "
            "expected a project file saved as UTF-8 text)"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {_syntax_error(str(exc))}") from None
    return project_from_data(data, path)


def project_from_data(data: dict[str, Any], project_file: Path) -> Project:
    """Validate already parsed project data as if read from `project_file` (paths resolve beside it)."""
    try:
        return Project.model_validate(data, context={"project_file": Path(project_file)})
    except ValidationError as exc:
        lines = problem_lines(exc, data)
    count = f"{len(lines)} problem" + ("" if len(lines) == 1 else "s")
    raise ConfigError(
        "\n".join([f"{project_file}: {count} in the project file:", *("  " + line for line in lines)])
    )


def _syntax_error(message: str) -> str:
    match = re.fullmatch(r"(?s)(.*) \(at line (\d+), column (\d+)\)", message)
    if match:
        reason, line, column = match.groups()
        return f"TOML syntax error at line {line}, column {column}: {reason}"
    match = re.fullmatch(r"(?s)(.*) \(at end of document\)", message)
    if match:
        return f"TOML syntax error at the end of the file: {match.group(1)}"
    return f"TOML syntax error: {message}"


def problem_lines(exc: ValidationError, data: dict[str, Any]) -> list[str]:
    """Every error of a Project validation as `field.path: what (got X; expected Y)`, in schema order."""
    keyed = [(_sort_key(error["loc"], data), _message(error)) for error in exc.errors()]
    return [message for _, message in sorted(keyed, key=lambda pair: pair[0])]


def _loc_text(loc: Sequence[str | int]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(project)"


def _walk(loc: Sequence[str | int]) -> tuple[Any, list[Any]]:
    """The annotation and metadata (Expect, Ge, …) of the schema node at `loc`, or (None, [])."""
    annotation: Any = Project
    metadata: list[Any] = []
    for part in loc:
        annotation = _unwrap_optional(annotation)
        if isinstance(part, str) and isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(part)
            if field is None:
                return None, []
            annotation, metadata = field.annotation, list(field.metadata)
        elif isinstance(part, int) and get_origin(annotation) is list:
            annotation, metadata = get_args(annotation)[0], []
        else:
            return None, []
        while get_origin(annotation) is Annotated:
            args = get_args(annotation)
            annotation, metadata = args[0], [*args[1:], *metadata]
    for item in list(metadata):
        metadata.extend(getattr(item, "metadata", []))  # constraints of a nested Field(...)
    return annotation, metadata


def _unwrap_optional(annotation: Any) -> Any:
    args = [arg for arg in get_args(annotation) if arg is not type(None)]
    if type(None) in get_args(annotation) and len(args) == 1:
        return args[0]
    return annotation


def _sort_key(loc: Sequence[str | int], data: Any) -> tuple[int, ...]:
    """Position of `loc` in the schema; unknown keys come after a table's known ones, in file order."""
    key: list[int] = []
    model: Any = Project
    for part in loc:
        model = _unwrap_optional(model)
        if isinstance(part, int):
            key.append(part)
            model = get_args(model)[0] if get_origin(model) is list else None
        elif isinstance(model, type) and issubclass(model, BaseModel) and part in model.model_fields:
            key.append(list(model.model_fields).index(part))
            model = model.model_fields[part].annotation
        else:
            in_file = list(data) if isinstance(data, dict) else []
            fields = model.model_fields if isinstance(model, type) and issubclass(model, BaseModel) else {}
            key.append(len(fields) + (in_file.index(part) if part in in_file else len(in_file)))
            model = None
        data = _child(data, part)
    return tuple(key)


def _child(data: Any, part: str | int) -> Any:
    if isinstance(data, dict):
        return data.get(part)
    if isinstance(data, list) and isinstance(part, int) and part < len(data):
        return data[part]
    return None


_TYPE_WORDS = {
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "string_type": "must be text in quotes",
    "list_type": "must be a list in square brackets",
    "model_type": "must be a table",
    "model_attributes_type": "must be a table",
    "dict_type": "must be a table",
    "path_type": "must be a path in quotes",
    "bool_type": "must be true or false",
}


def _message(error: Any) -> str:
    loc, kind, ctx, value = error["loc"], error["type"], error.get("ctx", {}), error["input"]
    where = _loc_text(loc)
    if kind == _ERROR:
        return f"{where}: {ctx['what']} (got {ctx['got']}; expected {ctx['expected']})"
    if kind == "extra_forbidden":
        return f"{where}: unknown key ({_suggest(loc)})"
    _, metadata = _walk(loc)
    expects = [item.text for item in metadata if isinstance(item, Expect)]
    expected = expects[0] if expects else "a valid value"
    got = "nothing" if kind == "missing" else _show(value)
    if kind == "missing":
        what = "required"
    elif kind in _TYPE_WORDS:
        what = _TYPE_WORDS[kind]
        if kind in ("int_type", "float_type") and isinstance(value, str) and _is_number(value):
            what += ", without quotes"
        if kind in ("model_type", "dict_type"):
            expected = f"a [{_loc_text(loc)}] table"
    elif kind == "literal_error":
        what = "not one of the allowed values"
    elif kind == "string_pattern_mismatch":
        what = "not a CSS hex colour" if ctx.get("pattern") == COLOUR_PATTERN else "not in the expected form"
    elif kind in ("too_short", "string_too_short") and ctx.get("min_length") == 1:
        what = "must not be empty"
    elif kind == "too_short":
        what = f"needs at least {ctx['min_length']} {_noun(loc)}"
        got = str(ctx["actual_length"])
    elif kind == "too_long":
        what = f"has too many {_noun(loc)}, at most {ctx['max_length']}"
        got = str(ctx["actual_length"])
    elif kind == "string_too_short":
        what = f"too short, at least {ctx['min_length']} characters"
        got = f"{len(value.strip())} characters"
    elif kind == "string_too_long":
        what = f"too long, at most {ctx['max_length']} characters"
        got = f"{len(value.strip())} characters"
    elif kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        what = _range_words(metadata, ctx)
    else:  # a pydantic error this module does not expect; keep its own words
        what = error["msg"]
    return f"{where}: {what} (got {got}; expected {expected})"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _noun(loc: Sequence[str | int]) -> str:
    return "classes" if tuple(loc) == ("classes",) else "entries"


def _bounds(metadata: list[Any]) -> dict[str, Any]:
    """The numeric constraints (ge, gt, le, lt) among a field's metadata."""
    return {
        name: getattr(item, name)
        for item in metadata
        for name in ("ge", "gt", "le", "lt")
        if hasattr(item, name)
    }


def _range_words(metadata: list[Any], ctx: dict[str, Any]) -> str:
    bounds = _bounds(metadata) or dict(ctx)
    lower = (
        f"at least {bounds['ge']}"
        if "ge" in bounds
        else f"more than {bounds['gt']}"
        if "gt" in bounds
        else ""
    )
    upper = (
        f"at most {bounds['le']}" if "le" in bounds else f"less than {bounds['lt']}" if "lt" in bounds else ""
    )
    if "ge" in bounds and "le" in bounds:
        return f"must be from {bounds['ge']} to {bounds['le']}"
    return "must be " + " and ".join(part for part in (lower, upper) if part)


def _suggest(loc: Sequence[str | int]) -> str:
    annotation, _ = _walk(loc[:-1]) if len(loc) > 1 else (Project, [])
    annotation = _unwrap_optional(annotation)
    valid = (
        list(annotation.model_fields)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel)
        else []
    )
    close = difflib.get_close_matches(str(loc[-1]), valid, n=1)
    if close:
        return f'did you mean "{close[0]}"?'
    return (
        "expected one of " + ", ".join(f'"{key}"' for key in valid)
        if valid
        else "not part of a teachkit project"
    )


# --------------------------------------------------------------------------------------------- reference


class _TomlJsonSchema(GenerateJsonSchema):
    """TOML has no null: an optional key is simply left out, so drop `null` from the schema."""

    def nullable_schema(self, schema: Any) -> Any:
        return self.generate_inner(schema["schema"])

    def default_schema(self, schema: Any) -> Any:
        result = super().default_schema(schema)
        if result.get("default", ...) is None:
            del result["default"]
        return result


def project_json_schema() -> dict[str, Any]:
    """The JSON Schema of the project file, e.g. for completion in an editor's TOML plugin."""
    schema = Project.model_json_schema(schema_generator=_TomlJsonSchema)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
        "title": "teachkit project file",
    }


def reference_markdown() -> str:
    """A Markdown reference of every key of the project file, generated from the JSON Schema."""
    schema = project_json_schema()
    defs = schema.get("$defs", {})
    top: list[str] = []
    tables: list[tuple[str, str, dict[str, Any]]] = []
    for name, prop in schema["properties"].items():
        ref = prop.get("$ref") or next(
            (item["$ref"] for item in prop.get("allOf", []) if "$ref" in item), None
        )
        if ref:
            tables.append((name, prop.get("description", ""), defs[ref.rsplit("/", 1)[-1]]))
        else:
            top.append(_reference_row(name, prop, name in schema.get("required", [])))
    header = ["| Key | Type | Default | Allowed values | Description |", "| --- | --- | --- | --- | --- |"]
    out = ["### Top level", "", *header, *top]
    for name, description, table in tables:
        out += ["", f"### `[{name}]`", "", _cell(table.get("description", description)), "", *header]
        out += [_reference_row(f"{name}.{key}", prop, False) for key, prop in table["properties"].items()]
    return "\n".join(out) + "\n"


def _reference_row(key: str, prop: dict[str, Any], required: bool) -> str:
    default = "required" if required else f"`{_toml(prop['default'])}`" if "default" in prop else "not set"
    cells = [f"`{key}`", _type_words(prop), default, _allowed_words(prop), prop.get("description", "")]
    return "| " + " | ".join(_cell(cell) for cell in cells) + " |"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


def _type_words(prop: dict[str, Any]) -> str:
    if "enum" in prop or "const" in prop:
        return "text"
    kind = prop.get("type")
    if prop.get("format") == "path":
        return "path"
    if prop.get("format") == "color":
        return "colour"
    if kind == "array":
        return "list of " + {"string": "text", "integer": "whole numbers", "number": "numbers"}.get(
            prop.get("items", {}).get("type", ""), "values"
        )
    return {"string": "text", "integer": "whole number", "number": "number", "boolean": "true/false"}.get(
        kind, "text"
    )


def _allowed_words(prop: dict[str, Any]) -> str:
    if "enum" in prop:
        return ", ".join(f"`{_toml(value)}`" for value in prop["enum"])
    if prop.get("format") == "color":
        return 'CSS hex colour, like `"#1f6feb"` or `"#fff"`'
    parts: list[str] = []
    lower = (
        f"≥ {prop['minimum']}"
        if "minimum" in prop
        else f"> {prop['exclusiveMinimum']}"
        if "exclusiveMinimum" in prop
        else ""
    )
    upper = (
        f"≤ {prop['maximum']}"
        if "maximum" in prop
        else f"< {prop['exclusiveMaximum']}"
        if "exclusiveMaximum" in prop
        else ""
    )
    if "minimum" in prop and "maximum" in prop:
        parts.append(f"{prop['minimum']} to {prop['maximum']}")
    elif lower or upper:
        parts.append(" and ".join(part for part in (lower, upper) if part))
    if "minLength" in prop or "maxLength" in prop:
        parts.append(
            f"{prop.get('minLength', 0)}–{prop['maxLength']} characters"
            if "maxLength" in prop
            else "not empty"
        )
    if "minItems" in prop or "maxItems" in prop:
        parts.append(f"{prop.get('minItems', 0)}–{prop.get('maxItems', '…')} entries")
    items = prop.get("items", {})
    if items:
        item_words = _allowed_words(items)
        if item_words:
            parts.append(f"each {item_words}")
    if prop.get("uniqueItems"):
        parts.append("all different")
    if not parts and "examples" in prop:
        parts.append("e.g. " + ", ".join(f"`{_toml(value)}`" for value in prop["examples"]))
    return "; ".join(parts)


REFERENCE_START = "<!-- reference:start -->"
REFERENCE_END = "<!-- reference:end -->"


def readme_reference(text: str) -> str | None:
    """The text between the reference markers of a README, or None when the markers are missing."""
    start, end = text.find(REFERENCE_START), text.find(REFERENCE_END)
    if start < 0 or end < start:
        return None
    return text[start + len(REFERENCE_START) : end]


def update_readme_reference(readme: Path) -> bool:
    """Rewrite the generated reference between the README's markers; True if the file changed."""
    text = readme.read_text(encoding="utf-8")
    current = readme_reference(text)
    if current is None:
        raise ConfigError(
            f"{readme}: no {REFERENCE_START} … {REFERENCE_END} markers to put the reference between"
        )
    block = "\n\n" + reference_markdown() + "\n"
    if current == block:
        return False
    start = text.find(REFERENCE_START) + len(REFERENCE_START)
    readme.write_text(text[:start] + block + text[text.find(REFERENCE_END) :], encoding="utf-8")
    return True


if __name__ == "__main__":  # python -m builder.config [FILE]: regenerate the docs' project-file reference
    update_readme_reference(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/project-file.md"))
