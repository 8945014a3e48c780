"""What `teachkit receive` was asked for, checked before anything starts: the store, the origins
whose pages may publish, where to listen and the limits."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from .errors import ReceiverError

ORIGIN = re.compile(
    r"^(?P<scheme>https?)://(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(?P<port>\d{1,5}))?$"
)
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class ReceiverSettings:
    store: str  # a folder, or s3://bucket/prefix
    origins: tuple[str, ...]  # normalized as browsers send them; "null" for pages opened from file://
    host: str = "127.0.0.1"
    port: int = 8700
    max_mb: int = 50  # one upload's body at most
    listing: bool = False  # GET models lists every model
    public_url: str | None = None  # the base of returned URLs, ending in "/"
    rate: int = 120  # requests per minute per client address

    @property
    def max_bytes(self) -> int:
        return self.max_mb * 1024 * 1024


def normalize_origin(given: str) -> str:
    """An origin as a browser sends it in the Origin header: scheme://host[:port], lower case, no
    default port; or "null". Anything else raises ReceiverError saying what an origin looks like."""
    text = given.strip()
    if text == "null":
        return text
    match = ORIGIN.match(text)
    if not match:
        parts = urlsplit(text)
        if parts.scheme in DEFAULT_PORTS and parts.netloc and (parts.path or parts.query or parts.fragment):
            hint = f"; use {parts.scheme}://{parts.netloc}"
        elif text == "*":
            hint = "; list each origin whose pages may publish (several --allow-origin are fine)"
        else:
            hint = ""
        raise ReceiverError(
            f'--allow-origin "{given}" is not an origin (expected scheme://host or scheme://host:port '
            f'with http or https and no path, like https://class.example.org, or "null" for pages '
            f"opened from file://){hint}."
        )
    scheme, host, port = match["scheme"].lower(), match["host"].lower(), match["port"]
    if port is not None and not 0 < int(port) < 65536:
        raise ReceiverError(f'--allow-origin "{given}": the port must be between 1 and 65535.')
    if port is None or int(port) == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{int(port)}"


def normalize_public_url(given: str | None) -> str | None:
    if given is None:
        return None
    parts = urlsplit(given.strip())
    if parts.scheme not in DEFAULT_PORTS or not parts.netloc or parts.query or parts.fragment:
        raise ReceiverError(
            f'--public-url "{given}" is not a base URL (expected http(s)://host[:port][/path], like '
            "https://models.example.org/receiver/)."
        )
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return f"{parts.scheme}://{parts.netloc}{path}"


def make_settings(
    *,
    store: str,
    origins: tuple[str, ...] | list[str],
    host: str = "127.0.0.1",
    port: int = 8700,
    max_mb: int = 50,
    listing: bool = False,
    public_url: str | None = None,
    rate: int = 120,
) -> ReceiverSettings:
    """The settings, every value checked; raises ReceiverError naming the first bad one."""
    if not origins:
        raise ReceiverError("give at least one --allow-origin: the origin of the page that publishes.")
    normalized = tuple(dict.fromkeys(normalize_origin(origin) for origin in origins))
    if not store.strip():
        raise ReceiverError("--store is empty; give a folder or s3://bucket/prefix.")
    if max_mb < 1:
        raise ReceiverError(f"--max-mb must be at least 1 (got {max_mb}).")
    if rate < 1:
        raise ReceiverError(f"--rate must be at least 1 request per minute (got {rate}).")
    return ReceiverSettings(
        store=store,
        origins=normalized,
        host=host,
        port=port,
        max_mb=max_mb,
        listing=listing,
        public_url=normalize_public_url(public_url),
        rate=rate,
    )
