"""The project file's own value types: paths (resolved against the project file), the logo, the
Keras model and weights, colours, class names, the origins of host pages and the cloud's address.

Each check raises `problem(what, got, expected)`, so its message reads like every other one.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, Strict, StringConstraints, ValidationInfo, WithJsonSchema
from pydantic_core import PydanticCustomError

from ..models.catalog import KERAS_MODEL_SUFFIXES
from .fields import Expect
from .words import problem, show

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg")
COLOUR_PATTERN = r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"
CLASS_LIST_EXAMPLE = 'a list like ["cats", "dogs"]'

# --------------------------------------------------------------------------------------------- paths


def _project_dir(info: ValidationInfo) -> Path | None:
    project_file = (info.context or {}).get("project_file")
    return Path(project_file).resolve().parent if project_file else None


def resolve(value: Path, info: ValidationInfo) -> Path:
    """Make a path absolute against the project file's folder (never the current directory)."""
    path = value.expanduser()
    if path.is_absolute():
        return path.resolve()
    project_dir = _project_dir(info)
    if project_dir is None:
        raise problem(
            "a relative path needs the folder of the project file",
            show(value),
            'the project to be loaded with load_project() or validated with context={"project_file": path}',
        )
    return (project_dir / path).resolve()


def _must_exist(written: Path, path: Path, expected: str) -> None:
    if not path.exists():
        raise problem(
            f"file not found: {path}", show(written), f"{expected}; paths are relative to the project file"
        )


def _check_logo(written: Path, path: Path) -> Path:
    _must_exist(written, path, 'an image file, like "logo.png"')
    if path.is_dir() or path.suffix.lower() not in IMAGE_SUFFIXES:
        raise problem(
            "not an image file",
            show(written),
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
        raise problem(
            f"not a readable {expected} image", show(written), f"a {expected} image file; {_EXPORT_AGAIN}"
        ) from None
    if found != expected:
        endings = " or ".join(suffix for suffix, name in RASTER_FORMATS.items() if name == found)
        raise problem(
            f"a {found} image named like a {expected} one",
            show(written),
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
        raise problem(f"not a readable SVG image{reason}", show(written), expected) from None
    tag = root.tag.rsplit("}", 1)[-1]
    if tag != "svg":
        raise problem(f"not an SVG image: its root element is <{tag}>", show(written), expected)
    if root.tag != f"{{{SVG_NAMESPACE}}}svg":
        # Parsed as an image, an <svg> outside this namespace is unknown XML: browsers draw nothing.
        raise problem(
            f'not an SVG image browsers draw: its <svg> root element lacks xmlns="{SVG_NAMESPACE}"',
            show(written),
            f'<svg xmlns="{SVG_NAMESPACE}" …>',
        )


def _check_keras_model(written: Path, path: Path) -> Path:
    expected = "a .keras or .h5 file or a SavedModel folder"
    _must_exist(written, path, f"your Keras model: {expected}")
    if path.is_dir() and not (path / "saved_model.pb").is_file():
        raise problem("not a SavedModel folder: it has no saved_model.pb", show(written), expected)
    if not path.is_dir() and path.suffix.lower() not in KERAS_MODEL_SUFFIXES:
        raise problem("not a Keras model file", show(written), expected)
    return path


def _checked_path(check: Callable[[Path, Path], Path] | None = None) -> Any:
    """A path type: made absolute against the project file's folder, then `check(written, resolved)`."""

    def validate(written: Path, info: ValidationInfo) -> Path:
        path = resolve(written, info)
        return check(written, path) if check else path

    return Annotated[
        Path, Strict(False), AfterValidator(validate), WithJsonSchema({"type": "string", "format": "path"})
    ]


def check_weights(value: Any, info: ValidationInfo) -> str | Path:
    if isinstance(value, Path):  # already validated (a Project passed in again)
        return value
    if not isinstance(value, str):
        raise problem("must be text in quotes", show(value), '"imagenet" or the path of a Keras weights file')
    if value == "imagenet":
        return value
    if not value.strip():
        raise problem("must not be empty", show(value), '"imagenet" or the path of a Keras weights file')
    path = resolve(Path(value), info)
    _must_exist(Path(value), path, '"imagenet" or the path of a Keras weights file')
    if path.is_dir():
        raise problem("is a folder", show(value), 'a Keras weights file, like "weights.h5"')
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


def check_origin(value: str) -> str:
    """An allowed host page, exactly as a browser reports it in `MessageEvent.origin`.

    The page compares origins as plain text, so anything a browser would never send (a slash, a
    capital letter, a default port) would silently never match; it is refused here instead.
    """
    if value == "null":
        return value
    if not value:
        raise problem("must not be empty", show(value), ORIGIN_EXAMPLE)
    if value.strip().lower() == "null":
        raise problem('must be written exactly as "null"', show(value), '"null"')
    if "*" in value:
        raise problem(
            "wildcards are not allowed: list each host page's origin",
            show(value),
            'exact origins like "https://socr.ucla.edu"',
        )
    if any(character.isspace() for character in value):
        fixed = value.strip()
        expected = ORIGIN_EXAMPLE if not fixed or any(c.isspace() for c in fixed) else show(fixed)
        raise problem("must not contain spaces", show(value), expected)
    url = _URL.fullmatch(value)
    if url is None:
        raise problem(
            "must start with https:// or http://",
            show(value),
            'an origin like "https://socr.ucla.edu" or "http://localhost:8080"',
        )
    scheme, authority, rest = url.groups()
    if scheme.lower() == "file":
        raise problem(
            'a page opened from a file has no origin: the browser reports it as "null"',
            show(value),
            f'"null" for a host page opened from a file, or {ORIGIN_EXAMPLE}',
        )
    if scheme.lower() not in DEFAULT_PORTS:
        raise problem(f"{scheme}: is not allowed, only http: and https:", show(value), ORIGIN_EXAMPLE)
    userinfo, host, port = _AUTHORITY.fullmatch(authority).groups()  # type: ignore[union-attr]
    if not host:
        raise problem("has no host name", show(value), ORIGIN_EXAMPLE)
    international = not host.isascii()
    try:
        host = host.encode("idna").decode("ascii").lower() if international else host.lower()
    except UnicodeError:
        raise problem("not a valid host name", show(value), ORIGIN_EXAMPLE) from None
    if host.startswith("["):
        try:
            host = f"[{ipaddress.IPv6Address(host[1:-1]).compressed}]"
        except ValueError:
            raise problem("not a valid IPv6 address", show(value), ORIGIN_EXAMPLE) from None
    elif not _HOST.fullmatch(host):
        raise problem("not a valid host name", show(value), ORIGIN_EXAMPLE)
    if port is not None and not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
        raise problem("the port must be a number from 1 to 65535", show(value), ORIGIN_EXAMPLE)
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
    raise problem(what, show(value), show(origin))


Origin = Annotated[str, AfterValidator(check_origin), Expect(ORIGIN_EXAMPLE)]


# --------------------------------------------------------------------------------------------- cloud

CLOUD_EXAMPLE = 'a web address like "https://models.example.edu/teachkit/"'
_LOOPBACK_NAMES = {"localhost", "[::1]"}


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.IPv4Address(host).is_loopback
    except ValueError:
        return False


def check_cloud_url(value: str | None) -> str | None:
    """The receiver's base URL, as the page resolves "models/…" against it: https (http only on
    this computer, for testing), no user name, query or fragment, and a path ending in "/" (added
    when missing)."""
    if value is None:
        return None
    url = _URL.fullmatch(value)
    if url is None or url.group(1).lower() not in DEFAULT_PORTS:
        raise problem("must start with https://", show(value), CLOUD_EXAMPLE)
    scheme, authority, rest = url.groups()
    if "?" in rest or "#" in rest:
        what = 'must not contain a query or fragment: drop everything from the "?" or "#"'
        raise problem(what, show(value), CLOUD_EXAMPLE)
    path = rest if rest.endswith("/") else f"{rest}/"
    try:
        origin = check_origin(f"{scheme}://{authority}")
    except PydanticCustomError as refused:
        # The origin's own message, with the path kept in what is expected.
        context = refused.context or {}
        expected = context.get("expected", CLOUD_EXAMPLE)
        if expected.startswith('"http'):
            expected = show(json.loads(expected) + path)
        raise problem(context.get("what", "not a valid address"), show(value), expected) from None
    host = _AUTHORITY.fullmatch(authority).group(2)  # type: ignore[union-attr]
    if scheme == "http" and not _is_loopback(host):
        raise problem(
            "must use https:// (http:// only for a receiver on this computer, for testing)",
            show(value),
            show(f"https://{authority}{path}"),
        )
    return origin + path
