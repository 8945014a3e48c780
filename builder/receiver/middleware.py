"""What every request passes through, outermost first: one log line, the origin check and CORS
headers, JSON for any failure, the rate limit. Plain ASGI wrappers, one job each."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from traceback import format_exc

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import ApiError
from .limits import RateLimiter

log = logging.getLogger("builder.receiver")

METHODS = "GET, POST, DELETE, OPTIONS"
PREFLIGHT = {
    "Access-Control-Allow-Methods": METHODS,
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Max-Age": "600",
}


def error_response(error: ApiError) -> Response:
    return JSONResponse(
        error.body(), status_code=error.status, headers={"Cache-Control": "no-store", **error.headers}
    )


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class HttpMiddleware:
    """Wraps an ASGI app; HTTP requests go through `handle`, anything else (lifespan) passes by."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.handle(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class AccessLog(HttpMiddleware):
    """One line per request: time, client, method, path, status, bytes sent (and received), ms."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        counts = {"status": 0, "sent": 0, "received": 0}

        async def counting_receive() -> Message:
            message = await receive()
            counts["received"] += len(message.get("body", b""))
            return message

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                counts["status"] = message["status"]
            elif message["type"] == "http.response.body":
                counts["sent"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, counting_receive, counting_send)
        finally:
            client = scope.get("client")
            received = f" (received {counts['received']} B)" if counts["received"] else ""
            log.info(
                "%s %s %s %s %s %d B %d ms%s",
                now_iso(),
                client[0] if client else "-",
                scope["method"],
                scope.get("root_path", "") + scope["path"],
                counts["status"] or "-",
                counts["sent"],
                round((time.perf_counter() - started) * 1000),
                received,
            )


class Origins(HttpMiddleware):
    """Pages from allowed origins get CORS headers (and their preflights a 204); a request whose
    Origin is not allowed is refused before anything runs; requests without Origin (curl,
    scripts) are served."""

    def __init__(self, app: ASGIApp, origins: tuple[str, ...]):
        super().__init__(app)
        self.origins = frozenset(origins)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        origin = Headers(scope=scope).get("origin")
        if origin is not None and origin not in self.origins:
            refused = ApiError(
                403,
                "origin_not_allowed",
                f"this receiver does not take requests from pages on {origin}; its operator can allow them "
                f"with teachkit receive --allow-origin {origin}.",
                {"Vary": "Origin"},
            )
            await error_response(refused)(scope, receive, send)
            return
        cors = {"Vary": "Origin"}
        if origin is not None:
            cors |= {"Access-Control-Allow-Origin": origin, "Access-Control-Expose-Headers": "Retry-After"}
        if scope["method"] == "OPTIONS":
            preflight = {**cors, **PREFLIGHT} if origin is not None else cors
            await Response(status_code=204, headers={"Allow": METHODS, **preflight})(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in cors.items():
                    headers.append(name, value)
            await send(message)

        await self.app(scope, receive, send_with_cors)


class JsonErrors(HttpMiddleware):
    """Anything that goes wrong unexpectedly: its traceback in the log, 500 `internal` to the client."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            # The traceback in the message: teachkit's console handler prints messages only.
            log.error("internal error answering %s %s:\n%s", scope["method"], scope["path"], format_exc())
            if not started:
                internal = ApiError(
                    500,
                    "internal",
                    "something went wrong in the receiver (it is in the receiver's log); try again later, "
                    "or tell the receiver's operator.",
                )
                await error_response(internal)(scope, receive, send)


class RateLimit(HttpMiddleware):
    """At most the limiter's requests per minute per client address; then 429 with Retry-After."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter):
        super().__init__(app)
        self.limiter = limiter

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        wait = self.limiter.take(client[0] if client else "-")
        if wait is not None:
            refused = ApiError(
                429,
                "too_many_requests",
                f"too many requests from your address (at most {round(self.limiter.capacity)} a "
                f"minute); try again in {wait} seconds.",
                {"Retry-After": str(wait)},
            )
            await error_response(refused)(scope, receive, send)
            return
        await self.app(scope, receive, send)
