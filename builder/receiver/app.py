"""The receiver's HTTP API (paths relative to its base URL B, which ends with "/"):

    GET    B                        what this receiver is: version, whether it lists, max_mb
    POST   B models                 publish (multipart/form-data): 201 {id, url, delete_token}
    GET    B models                 every model, newest first (only with --list)
    GET    B models/ID/             a model's record: kind, title, note, created, labels, files
    GET    B models/ID/NAME         one of its files (and model.zip, the package re-assembled)
    DELETE B models/ID              with Authorization: Bearer <delete_token>
    POST   B classes/CODE/submissions   a student's hand-in (multipart/form-data: package, name,
                                    metrics): 201 {id, url, delete_token, replaced}
    GET    B classes/CODE/submissions   with Authorization: Bearer <teacher token>: the class and
                                    its submissions, sorted by name

Every refusal is JSON {"error": {"code", "message"}}; see docs/receiver.md.
"""

from __future__ import annotations

import hashlib
import io
import secrets
import zipfile
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Route

from .. import __version__
from .classes import (
    ClassStore,
    check_metrics,
    check_name,
    class_closed,
    name_key,
    normalize_code,
    token_matches,
    unknown_class,
)
from .errors import ApiError, bad_upload, not_found
from .limits import RateLimiter, read_body
from .middleware import AccessLog, JsonErrors, Origins, RateLimit, error_response, log, now_iso
from .settings import ReceiverSettings
from .store import ModelStore
from .uploads import PROJECT_NAME, Part, Upload, upload_from_parts

UNPACKED_FACTOR = 4  # a zip may unpack to this many times --max-mb (weights hardly compress)
MAX_PARTS = 8
MAX_TEXT = 64 * 1024  # bytes of one text field
PACKAGE_ORDER = (
    "metadata.json",
    "labels.txt",
    "README.md",
    "head/model.json",
    "head/weights.bin",
    "knn/embeddings.f32",
    "knn/labels.json",
    "base/model.json",
    "base/weights.bin",
)
STORED_UNCOMPRESSED = (".bin", ".f32")
CONTENT_TYPES = {
    ".json": "application/json",
    ".bin": "application/octet-stream",
    ".f32": "application/octet-stream",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".zip": "application/zip",
}
PRIVATE = ("token_sha256",)  # kept in the record, never answered
HAND_IN_FIELDS = ("package", "name", "metrics", "title", "note")
NO_IMAGES = (
    "a hand-in carries the trained model only, never example images: send it without the field project."
)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _content_type(name: str) -> str:
    return next(
        (kind for suffix, kind in CONTENT_TYPES.items() if name.endswith(suffix)), "application/octet-stream"
    )


def make_record(model_id: str, upload: Upload, token: str) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": model_id,
        "kind": upload.kind,
        "title": upload.title,
        "note": upload.note,
        "created": now_iso(),
    }
    if upload.kind == "teachkit-model":
        record |= {"labels": upload.labels, "base": upload.base}
    return record | {
        "has_project": upload.has_project,
        "files": {name: {"size": len(data), "sha256": _sha256(data)} for name, data in upload.files.items()},
        "token_sha256": _sha256(token.encode()),
    }


def assemble_package(record: dict[str, Any], blobs: dict[str, bytes]) -> bytes:
    """The model download again, from the stored files: the same bytes give the same zip."""
    created = datetime.fromisoformat(record["created"].replace("Z", "+00:00"))
    stamp = (
        max(created.year, 1980),
        created.month,
        created.day,
        created.hour,
        created.minute,
        created.second,
    )
    names = [name for name in PACKAGE_ORDER if name in blobs]
    names += sorted(name for name in blobs if name not in names and name != PROJECT_NAME)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            info = zipfile.ZipInfo(name, stamp)
            info.compress_type = (
                zipfile.ZIP_STORED if name.endswith(STORED_UNCOMPRESSED) else zipfile.ZIP_DEFLATED
            )
            archive.writestr(info, blobs[name])
    return buffer.getvalue()


class Api:
    """The routes' handlers, over one store and the settings."""

    def __init__(self, settings: ReceiverSettings, store: ModelStore):
        self.settings = settings
        self.store = store
        self.classes = ClassStore(store)

    def base_url(self, request: Request) -> str:
        return self.settings.public_url or str(request.base_url)

    async def service(self, request: Request) -> Response:
        return JSONResponse(
            {
                "service": "teachkit-receiver",
                "version": __version__,
                "lists": self.settings.listing,
                "max_mb": self.settings.max_mb,
            }
        )

    async def _form_parts(self, request: Request, body: bytes) -> list[Part]:
        content_type = request.headers.get("content-type", "")
        if not content_type.lower().startswith("multipart/form-data"):
            raise bad_upload(
                f"send the model as multipart/form-data (got {content_type or 'no Content-Type'}); "
                "in JavaScript: fetch(url, {method: 'POST', body: formData})."
            )
        sent = False

        async def replay() -> dict:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        form_request = Request(request.scope, replay)
        try:
            form = await form_request.form(max_files=MAX_PARTS, max_fields=MAX_PARTS, max_part_size=MAX_TEXT)
        except HTTPException as error:
            raise bad_upload(f"the form cannot be read ({error.detail}).") from None
        try:
            parts = []
            for name, value in form.multi_items():
                if isinstance(value, str):
                    parts.append(Part(name, value.encode(), None))
                else:
                    parts.append(Part(name, await value.read(), value.filename or name))
            return parts
        finally:
            await form.close()

    async def _read_form(self, request: Request) -> list[Part]:
        """The request's multipart fields, the body refused (413) over --max-mb."""
        body = await read_body(request, self.settings.max_bytes, self.settings.max_mb)
        return await self._form_parts(request, body)

    async def _judge(self, parts: list[Part]) -> Upload:
        return await run_in_threadpool(upload_from_parts, parts, UNPACKED_FACTOR * self.settings.max_bytes)

    async def _save(self, upload: Upload, extra: dict[str, Any] | None = None) -> tuple[dict[str, Any], str]:
        """Stores a judged upload as a new model (its record with `extra`'s keys too); returns the
        record and the model's delete token, which only its sha256 is kept of."""
        model_id = await run_in_threadpool(self.store.new_id)
        token = secrets.token_urlsafe(32)
        record = make_record(model_id, upload, token) | (extra or {})
        await run_in_threadpool(self.store.save, model_id, record, upload.files)
        return record, token

    def _model_url(self, request: Request, model_id: str) -> str:
        return f"{self.base_url(request)}models/{model_id}/"

    async def publish(self, request: Request) -> Response:
        upload = await self._judge(await self._read_form(request))
        record, token = await self._save(upload)
        url = self._model_url(request, record["id"])
        return JSONResponse(
            {"id": record["id"], "url": url, "delete_token": token},
            status_code=201,
            headers={"Location": url, "Cache-Control": "no-store"},
        )

    async def _class(self, request: Request) -> dict[str, Any]:
        """The class the path names, or 404 unknown_class_code."""
        given = request.path_params["code"]
        code = normalize_code(given)
        record = await run_in_threadpool(self.classes.get, code) if code else None
        if record is None:
            raise unknown_class(code or " ".join(given.split())[:20].upper())
        return record

    async def hand_in(self, request: Request) -> Response:
        """A student's model handed in to a class. Everything is checked before anything is stored;
        a hand-in under a name already in the class replaces that submission only with its delete
        token (the new model saved, the index entry rewritten, then the old model deleted)."""
        parts = await self._read_form(request)
        klass = await self._class(request)
        if klass["closed"]:
            raise class_closed(klass["code"])
        fields: dict[str, Part] = {}
        for part in parts:
            if part.name == "project":
                raise bad_upload(NO_IMAGES)
            if part.name not in HAND_IN_FIELDS:
                raise bad_upload(
                    f'unexpected field "{part.name}" in the hand-in; send the page\'s model download as the '
                    "file field package, and the text fields name and metrics."
                )
            if part.name in fields:
                raise bad_upload(f"the field {part.name} is sent twice; send it once.")
            fields[part.name] = part
        if "package" not in fields:
            raise bad_upload(
                "the hand-in holds no model; send the page's model download as the file field package."
            )
        name = check_name(_text_field(fields.get("name"), "name"))
        metrics = check_metrics(_text_field(fields.get("metrics"), "metrics"))
        code, key = klass["code"], name_key(name)
        entry, earlier = await self._earlier_submission(code, key, _bearer(request))
        # Only package, title and note are left: a teachkit model, never a bare TF.js one.
        upload = await self._judge([part for part in parts if part.name not in ("name", "metrics")])
        record, token = await self._save(upload, {"class": code, "name": name, "metrics": metrics})
        entry_now = {"id": record["id"], "name": name, "created": record["created"]}
        try:
            if entry is None:
                written = await run_in_threadpool(self.classes.put_new_entry, code, key, entry_now)
            else:  # replacing, or an entry whose model is gone
                await run_in_threadpool(self.classes.put_entry, code, key, entry_now)
                written = True
        except BaseException:
            await run_in_threadpool(self.store.delete, record["id"], record)
            raise
        if not written:  # someone handed in under this name since the check above
            await run_in_threadpool(self.store.delete, record["id"], record)
            raise name_taken(code, name)
        if earlier is not None:
            try:
                await run_in_threadpool(self.store.delete, earlier["id"], earlier)
            except Exception as error:  # the new one is handed in; the old one is only no longer listed
                log.warning(
                    "class %s: could not delete the replaced model %s: %s", code, earlier["id"], error
                )
        url = self._model_url(request, record["id"])
        return JSONResponse(
            {"id": record["id"], "url": url, "delete_token": token, "replaced": earlier is not None},
            status_code=201,
            headers={"Location": url, "Cache-Control": "no-store"},
        )

    async def _earlier_submission(
        self, code: str, key: str, token: str | None
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """This name's index entry and the model handed in under it, if its delete token came with
        this hand-in; no model if the name is free (no entry, or one whose model is gone); 409
        name_taken otherwise."""
        entry = await run_in_threadpool(self.classes.entry, code, key)
        earlier = await run_in_threadpool(self.store.record, entry["id"]) if entry else None
        if earlier is None:
            return entry, None
        if token is None or not token_matches(token, earlier["token_sha256"]):
            raise name_taken(code, entry["name"])
        return entry, earlier

    async def submissions(self, request: Request) -> Response:
        klass = await self._class(request)
        token = _bearer(request)
        if token is None:
            raise ApiError(
                401,
                "no_token",
                "listing a class's submissions needs the teacher token that teachkit class create printed, "
                "sent as the header Authorization: Bearer <token>.",
                {"WWW-Authenticate": "Bearer"},
            )
        if not token_matches(token, klass["token_sha256"]):
            raise ApiError(403, "wrong_token", f"this is not the teacher token of the class {klass['code']}.")
        found = await run_in_threadpool(self.classes.submissions, klass["code"])
        listed = [
            {
                "id": item["entry"]["id"],
                "name": item["entry"]["name"],
                "created": item["entry"]["created"],
                "labels": item["model"].get("labels"),
                "url": self._model_url(request, item["entry"]["id"]),
                "metrics": item["model"].get("metrics", {}),
            }
            for item in found
        ]
        return JSONResponse(
            {key: klass[key] for key in ("code", "title", "closed", "created")} | {"submissions": listed},
            headers={"Cache-Control": "no-store"},
        )

    async def _record(self, request: Request) -> dict[str, Any]:
        model_id = request.path_params["model_id"]
        record = await run_in_threadpool(self.store.record, model_id)
        if record is None:
            raise not_found(f"there is no model {model_id} here; it was deleted, or the link is mistyped.")
        return record

    async def info(self, request: Request) -> Response:
        record = await self._record(request)
        return JSONResponse(
            {key: value for key, value in record.items() if key not in PRIVATE},
            headers={"Cache-Control": "no-cache"},
        )

    async def _blob(self, record: dict[str, Any], name: str) -> bytes:
        data = await run_in_threadpool(self.store.blob, record["files"][name]["sha256"])
        if data is None:
            raise RuntimeError(f"model {record['id']}: the blob of {name} is missing from the store")
        return data

    async def file(self, request: Request) -> Response:
        record = await self._record(request)
        name = request.path_params["name"]
        files = record["files"]
        if name in files:
            data = await self._blob(record, name)
            digest = files[name]["sha256"]
        elif name == "model.zip" and record["kind"] == "teachkit-model":
            blobs = {item: await self._blob(record, item) for item in files if item != PROJECT_NAME}
            data = await run_in_threadpool(assemble_package, record, blobs)
            digest = _sha256(data)
        else:
            offered = sorted(files) + (["model.zip"] if record["kind"] == "teachkit-model" else [])
            raise not_found(f'model {record["id"]} has no file "{name}"; it has {", ".join(offered)}.')
        etag = f'"{digest}"'
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        if name.endswith(".zip"):
            download = name if name != "model.zip" else f"{record['id']}.teachkit-model.zip"
            headers["Content-Disposition"] = f'attachment; filename="{download}"'
        return Response(data, media_type=_content_type(name), headers=headers)

    async def delete(self, request: Request) -> Response:
        token = _bearer(request)
        if token is None:
            raise ApiError(
                401,
                "no_token",
                "deleting a model needs its delete token, sent as the header Authorization: Bearer <token> "
                "(the publish answered it as delete_token).",
                {"WWW-Authenticate": "Bearer"},
            )
        record = await self._record(request)
        if not token_matches(token, record["token_sha256"]):
            raise ApiError(403, "wrong_token", "this is not the delete token of this model.")
        if "class" in record:  # a submission: its class no longer lists it
            key = name_key(record["name"])
            entry = await run_in_threadpool(self.classes.entry, record["class"], key)
            if entry is not None and entry["id"] == record["id"]:
                await run_in_threadpool(self.classes.delete_entry, record["class"], key)
        await run_in_threadpool(self.store.delete, record["id"], record)
        return JSONResponse({"deleted": record["id"]})

    async def models(self, request: Request) -> Response:
        if not self.settings.listing:
            raise ApiError(
                404,
                "not_listed",
                "this receiver does not list its models (its operator can allow it with teachkit receive "
                "--list); open a model by its link.",
            )
        records = [record for record in await run_in_threadpool(self.store.records) if "class" not in record]
        records.sort(key=lambda record: record["created"], reverse=True)
        base = self.base_url(request)
        listed = [
            {
                **{key: record.get(key) for key in ("id", "title", "note", "created")},
                **({"labels": record["labels"]} if "labels" in record else {}),
                "url": f"{base}models/{record['id']}/",
            }
            for record in records
        ]
        return JSONResponse({"models": listed}, headers={"Cache-Control": "no-cache"})


def name_taken(code: str, name: str) -> ApiError:
    return ApiError(
        409,
        "name_taken",
        f"someone in the class {code} has already handed in as {name}; choose another name, or hand in "
        "again from the browser that handed in under this name (it keeps the submission's delete token).",
    )


def _bearer(request: Request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _text_field(part: Part | None, name: str) -> str | None:
    if part is None:
        return None
    if part.filename is not None:
        raise bad_upload(f"the field {name} must be text, not a file.")
    try:
        return part.data.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_upload(f"the field {name} is not UTF-8 text.") from None


async def _api_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, ApiError)
    return error_response(error)


def _methods_of(request: Request) -> list[str]:
    """Every method some route takes at the request's path."""
    methods = {"OPTIONS"}
    for route in request.app.router.routes:
        if isinstance(route, Route) and route.matches(request.scope)[0] != Match.NONE:
            methods |= route.methods or set()
    return [method for method in ("GET", "HEAD", "POST", "DELETE", "OPTIONS") if method in methods]


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    if error.status_code == 404:
        return error_response(
            not_found(
                f"there is nothing at {request.url.path}; this receiver answers GET /, POST /models, "
                "GET /models/ID/ and its files, DELETE /models/ID, POST and GET /classes/CODE/submissions."
            )
        )
    if error.status_code == 405:
        allowed = ", ".join(_methods_of(request))
        return error_response(
            ApiError(
                405,
                "method_not_allowed",
                f"{request.method} is not allowed on {request.url.path}; it takes {allowed or 'no method'}.",
                {"Allow": allowed} if allowed else {},
            )
        )
    return error_response(ApiError(error.status_code, "bad_request", str(error.detail)))


def make_app(settings: ReceiverSettings, store: ModelStore) -> Starlette:
    api = Api(settings, store)
    routes = [
        Route("/", api.service, methods=["GET"]),
        Route("/models", api.models, methods=["GET"]),
        Route("/models", api.publish, methods=["POST"]),
        Route("/models/{model_id}", api.info, methods=["GET"]),
        Route("/models/{model_id}/", api.info, methods=["GET"]),
        Route("/models/{model_id}", api.delete, methods=["DELETE"]),
        Route("/models/{model_id}/", api.delete, methods=["DELETE"]),
        Route("/models/{model_id}/{name:path}", api.file, methods=["GET"]),
        Route("/classes/{code}/submissions", api.hand_in, methods=["POST"]),
        Route("/classes/{code}/submissions", api.submissions, methods=["GET"]),
    ]
    middleware = [
        Middleware(AccessLog),
        Middleware(Origins, origins=settings.origins),
        Middleware(JsonErrors),
        Middleware(RateLimit, limiter=RateLimiter(settings.rate)),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={ApiError: _api_error, HTTPException: _http_error},
    )
    app.router.redirect_slashes = False
    return app
