"""The receiver's two kinds of failure: one that stops it from starting (a TeachkitError, shown by
the CLI as `error: …`), and one that refuses a request (an ApiError, sent as JSON)."""

from __future__ import annotations

from ..errors import TeachkitError


class ReceiverError(TeachkitError):
    """The receiver cannot start: a store it cannot use, a malformed origin, a port in use."""


class ApiError(Exception):
    """A refused request: its HTTP status, a stable code for programs and a plain sentence that
    says what is wrong and how to fix it."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict:
        return {"error": {"code": self.code, "message": self.message}}


def bad_upload(message: str) -> ApiError:
    return ApiError(400, "bad_upload", message)


def not_found(message: str) -> ApiError:
    return ApiError(404, "not_found", message)
