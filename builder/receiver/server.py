"""Starting the receiver: the store checked, the port bound (so that a port in use is a one-line
error, and port 0 picks a free one), then uvicorn serving the app on that socket."""

from __future__ import annotations

import ipaddress
import logging
import socket
from dataclasses import dataclass

from .app import make_app
from .errors import ReceiverError
from .settings import ReceiverSettings
from .store import ModelStore, open_store


@dataclass
class Receiver:
    settings: ReceiverSettings
    store: ModelStore
    socket: socket.socket

    @property
    def url(self) -> str:
        host, port = self.socket.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}/"

    def start_line(self) -> str:
        public = f" (public URL {self.settings.public_url})" if self.settings.public_url else ""
        listing = "; lists its models" if self.settings.listing else ""
        return (
            f"Receiving models into {self.store.description} at {self.url}{public} for pages from "
            f"{', '.join(self.settings.origins)}; at most {self.settings.max_mb} MB per upload, "
            f"{self.settings.rate} requests a minute per client{listing} (Ctrl+C to stop)"
        )

    def run(self) -> None:
        """Serves until interrupted (Ctrl+C or SIGTERM: requests under way are finished first)."""
        import uvicorn

        logging.getLogger("uvicorn").setLevel(logging.WARNING)
        config = uvicorn.Config(
            make_app(self.settings, self.store),
            log_config=None,
            access_log=False,  # AccessLog writes one line per request
            lifespan="off",
            proxy_headers=True,  # X-Forwarded-For/-Proto from the addresses in FORWARDED_ALLOW_IPS
            server_header=False,
            timeout_keep_alive=5,
            ws="none",
        )
        try:
            uvicorn.Server(config).run(sockets=[self.socket])
        finally:
            self.socket.close()


def bind(host: str, port: int) -> socket.socket:
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(host.strip("[]")).version == 6 else socket.AF_INET
    except ValueError:
        family = socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
    except (OSError, OverflowError) as error:
        sock.close()
        reason = getattr(error, "strerror", None) or str(error)
        raise ReceiverError(
            f"cannot listen on {host}:{port} ({reason}); try another --port or --host."
        ) from None
    sock.set_inheritable(True)
    return sock


def open_receiver(settings: ReceiverSettings) -> Receiver:
    """A receiver ready to run: its store usable and its address bound; raises ReceiverError."""
    store = open_store(settings.store)
    return Receiver(settings, store, bind(settings.host, settings.port))
