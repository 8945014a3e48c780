"""The receiver's limits: requests per minute per client address (in this process's memory), and
the size of one upload's body (declared or counted while it arrives)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request

from .errors import ApiError

MAX_CLIENTS = 10_000  # remembered at once; full buckets are forgotten first
DRAIN_FACTOR = 2  # a refused body is read on, up to this many times the cap, so the client hears why


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """A token bucket per client: `per_minute` requests, refilled evenly over the minute."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic):
        self.capacity = float(per_minute)
        self.refill = per_minute / 60.0
        self.clock = clock
        self.buckets: dict[str, _Bucket] = {}

    def take(self, client: str) -> int | None:
        """None if `client` may go on, else the seconds to wait (for Retry-After)."""
        now = self.clock()
        bucket = self.buckets.get(client)
        if bucket is None:
            if len(self.buckets) >= MAX_CLIENTS:
                self._forget(now)
            bucket = self.buckets[client] = _Bucket(self.capacity, now)
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.refill)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return None
        return max(1, math.ceil((1 - bucket.tokens) / self.refill))

    def _forget(self, now: float) -> None:
        for client, bucket in list(self.buckets.items()):
            if bucket.tokens + (now - bucket.updated) * self.refill >= self.capacity:
                del self.buckets[client]
        while len(self.buckets) >= MAX_CLIENTS:  # all busy: forget the longest idle
            del self.buckets[min(self.buckets, key=lambda name: self.buckets[name].updated)]


def too_large(max_mb: int) -> ApiError:
    return ApiError(
        413,
        "too_large",
        f"the upload is larger than this receiver takes ({max_mb} MB); publish a smaller model, or ask "
        "the receiver's operator to raise --max-mb.",
    )


async def read_body(request: Request, max_bytes: int, max_mb: int) -> bytes:
    """The request's body, refused (413) when its Content-Length says it is over `max_bytes` or
    when more than that arrives. A body only a little over is read to its end first, so that the
    client, still sending, gets the answer rather than a reset connection."""
    declared = request.headers.get("content-length")
    drain_limit = DRAIN_FACTOR * max_bytes
    if declared is not None:
        try:
            length = int(declared)
        except ValueError:
            raise ApiError(400, "bad_upload", "the Content-Length header is not a number.") from None
        if length > drain_limit:
            raise too_large(max_mb)
    chunks: list[bytes] = []
    received = 0
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ApiError(400, "bad_upload", "the upload stopped before its end; send it again.")
        chunk = message.get("body", b"")
        received += len(chunk)
        if received <= max_bytes:
            chunks.append(chunk)
        else:
            chunks.clear()
        if not message.get("more_body", False) or received > drain_limit:
            break
    if received > max_bytes:
        raise too_large(max_mb)
    return b"".join(chunks)
