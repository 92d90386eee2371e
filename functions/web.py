"""What every adapter shares: the operation decorator, error rendering, correlation ids, body and
path parsing, representations and caching headers.

This is the only place that knows both HTTP and the core's errors.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

import azure.functions as func
import orjson

from functions.cors import CorsPolicy
from functions.routes import ROUTE_PREFIX, Links, Route, segment_index
from shared.access.authentication import Principal
from shared.composition import Root
from shared.documents.entity_tags import COMPRESSED, FULL, entity_tag, not_modified
from shared.documents.model import validate_identifier
from shared.documents.representation import to_full
from shared.passports.service import PassportView
from shared.platform.errors import (
    BadRequest,
    DppError,
    ErrorCode,
    NotImplementedFeature,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from shared.platform.json_input import JsonRejected, read_json
from shared.platform.openapi import Catalog
from shared.platform.parameters import is_ascii_integer
from shared.platform.results import result_object
from shared.storage.links import BlobContent

log = logging.getLogger("dpp")

JSON = "application/json"
JSON_LD = "application/ld+json"
MERGE_PATCH = "application/merge-patch+json"
# Answers for one caller alone (jobs, registrations, the registry, download links): never cached.
PRIVATE = {"Cache-Control": "private, no-store"}
# A stored file sent as it is: never sniffed into another type, never run as a page of this origin.
FILE_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox"}
_CORRELATION_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")
Handler = Callable[[func.HttpRequest], func.HttpResponse]


def correlation_id(req: func.HttpRequest) -> str:
    given = (req.headers.get("x-correlation-id") or "").strip()
    if _CORRELATION_ID.match(given):
        return given
    trace = _TRACEPARENT.match((req.headers.get("traceparent") or "").strip().lower())
    if trace:
        return trace.group(1)
    return str(uuid.uuid4())


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None, content_type: str = JSON
) -> func.HttpResponse:
    try:
        # orjson writes the same compact UTF-8 JSON as json.dumps(ensure_ascii=False) in a third
        # of the time: on a passport read that is a tenth of the app's own work.
        body = orjson.dumps(data)
    except orjson.JSONEncodeError:
        # A lone surrogate stored before input was refused for it: escaped, it is still valid JSON.
        body = json.dumps(data, separators=(",", ":")).encode("ascii")
    return func.HttpResponse(
        body=body, status_code=status, headers=headers or {}, mimetype=content_type, charset="utf-8"
    )


def error_response(error: DppError, cid: str) -> func.HttpResponse:
    # A refusal names its request's correlation id: no cache (Front Door keeps answers without a
    # Cache-Control for days) may hand it to another reader.
    headers = {"Cache-Control": "no-store", **error.headers}
    return json_response(result_object(error.text, error.code, cid), error.status, headers)


def endpoint(handler: Handler) -> Handler:
    """Wrap an adapter: Result objects for every failure, never a stack trace, correlation id echoed."""

    @functools.wraps(handler)
    def wrapper(req: func.HttpRequest) -> func.HttpResponse:
        cid = correlation_id(req)
        try:
            response = handler(req)
        except DppError as exc:
            response = error_response(exc, cid)
        except Exception:
            log.exception("Unhandled error [correlationId=%s]", cid)
            response = error_response(DppError("Internal server error"), cid)
        response.headers["x-correlation-id"] = cid
        return response

    return wrapper


class Adapter:
    """Request parsing that needs the service's settings or parts, bound to one composition root."""

    def __init__(self, root: Root, catalog: Catalog):
        self.root = root
        self.catalog = catalog
        self.cors = CorsPolicy(root.settings.cors_origins)

    def operation(
        self,
        bp: func.Blueprint,
        route: Route,
        *methods: str,
        outer: Callable[[Handler], Handler] | None = None,
    ) -> Callable[[Handler], Any]:
        """Register `handler` as the function serving `methods` on `route`.

        Every operation is anonymous at the Functions level (the API authorizes bearer tokens
        itself, in `shared.access`), answers failures as Result objects, and carries the CORS
        headers its caller's origin is granted (functions/cors.py); `outer` wraps that once more.
        The catalog records it for the OpenAPI document.
        """

        def register(handler: Handler) -> Any:
            self.catalog.record(handler.__name__, route.value, methods)
            wrapped = self._with_cors(endpoint(handler))
            if outer is not None:
                wrapped = outer(wrapped)
            return bp.route(route=route.value, methods=list(methods), auth_level=func.AuthLevel.ANONYMOUS)(
                wrapped
            )

        return register

    def _with_cors(self, handler: Handler) -> Handler:
        @functools.wraps(handler)
        def wrapper(req: func.HttpRequest) -> func.HttpResponse:
            response = handler(req)
            for name, value in self.cors.response_headers(req.headers).items():
                existing = response.headers.get(name) if name == "Vary" else None
                response.headers[name] = f"{existing}, {value}" if existing else value
            return response

        return wrapper

    def preflight(self, req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse(status_code=204, headers=self.cors.preflight_headers(req.headers))

    def principal(self, req: func.HttpRequest) -> Principal:
        return self.root.authenticator.authenticate(req.headers.get("authorization"))

    def json_body(self, req: func.HttpRequest, accepted: tuple[str, ...] = (JSON,)) -> Any:
        """The request body as JSON, with size, media type and syntax checked."""
        raw = raw_body(req, self.root.settings.max_body_bytes, "DPP_MAX_BODY_BYTES")
        media_type = _media_type(req)
        if media_type and media_type not in accepted:
            raise UnsupportedMediaType(
                f"Content-Type must be one of {', '.join(accepted)}", code=ErrorCode.UNSUPPORTED_MEDIA_TYPE
            )
        if not raw.strip():
            raise BadRequest("A JSON request body is required", code=ErrorCode.MISSING_BODY)
        try:
            return read_json(raw)
        except JsonRejected as exc:
            raise BadRequest(
                f"The request body is not valid JSON: {exc.reason}", code=ErrorCode.INVALID_JSON
            ) from None

    def optional_json_body(self, req: func.HttpRequest) -> Any:
        """The JSON body, or None when there is none."""
        return self.json_body(req) if (req.get_body() or b"").strip() else None

    def links(self, req: func.HttpRequest) -> Links:
        """Absolute URLs of this service: from DPP_PUBLIC_URL, never from the request's Host (a
        client may send any; the answers are cached publicly and name the issuer's DID)."""
        return Links(self.root.settings.public_url)


def path_param(req: func.HttpRequest, route: Route, name: str) -> str:
    """An id from one path segment, decoded exactly once from the raw URL, and validated.

    Hosts differ in how far they decode route values before the worker sees them; the raw URL
    is the one form that is the same everywhere, so `%2F` inside an id stays in it. Falls back to
    the host's value.
    """
    path = urlsplit(req.url).path
    prefix = f"/{ROUTE_PREFIX}/" if ROUTE_PREFIX else "/"
    value = req.route_params.get(name, "")
    if path.startswith(prefix):
        raw_segments = path[len(prefix) :].split("/")
        index = segment_index(route, name)
        if index < len(raw_segments):
            try:
                value = unquote(raw_segments[index], errors="strict")
            except UnicodeDecodeError:
                raise BadRequest(
                    f"'{name}' is not percent-encoded UTF-8", code=ErrorCode.INVALID_IDENTIFIER
                ) from None
    return validate_identifier(value, f"'{name}'")


def raw_tail(req: func.HttpRequest, marker: str) -> str:
    """Everything after `marker` in the raw path, still percent-encoded (element paths need that)."""
    path = urlsplit(req.url).path
    index = path.find(marker)
    return path[index + len(marker) :] if index >= 0 else ""


def _media_type(req: func.HttpRequest) -> str:
    return (req.headers.get("content-type") or "").split(";")[0].strip().lower()


def media_ranges(header: str | None) -> list[tuple[str, float]]:
    """An Accept header's media ranges in order, lower-cased, each with its quality (RFC 9110
    12.5.1): 1 without `q`, 0 when `q` is no number."""
    ranges = []
    for part in (header or "").split(","):
        media, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranges.append((media.strip().lower(), quality))
    return ranges


def raw_body(req: func.HttpRequest, limit: int, setting: str) -> bytes:
    """The request body, refused with 413 above `limit` (by its declared length before reading)."""
    declared = req.headers.get("content-length")
    too_long = is_ascii_integer(declared) and int(declared or 0) > limit
    raw = b"" if too_long else (req.get_body() or b"")
    if len(raw) > limit or too_long:
        raise PayloadTooLarge(
            f"Request body exceeds {limit} bytes ({setting})", code=ErrorCode.BODY_TOO_LARGE
        )
    return raw


def representation(req: func.HttpRequest) -> str:
    value = req.params.get("representation")
    if value is None or value == COMPRESSED:
        return COMPRESSED
    if value == FULL:
        return FULL
    raise BadRequest("'representation' must be 'compressed' or 'full'", code=ErrorCode.INVALID_REPRESENTATION)


def require_compressed_write(req: func.HttpRequest) -> None:
    if representation(req) != COMPRESSED:
        raise NotImplementedFeature(
            "Writes accept the compressed representation only", code=ErrorCode.NOT_IMPLEMENTED
        )


def passport_response(req: func.HttpRequest, view: PassportView, status: int = 200) -> func.HttpResponse:
    """A passport as the caller may see it, in the requested representation, with a strong ETag.

    A view with parts withheld by the access policy says so in `DPP-Disclosure: partial`. Its
    `contentHash` is the digest of the compressed document shown, and `signature` the SD-JWT
    presentation of exactly that (docs/integrity.md).
    """
    form = representation(req)
    shown = to_full(view.document) if form == FULL else view.document
    body = {**shown, "contentHash": view.content_hash, "signature": view.signature}
    headers = {"DPP-Disclosure": "complete" if view.complete else "partial"}
    return conditional_response(req, body, entity_tag(view.etag, form), status, headers=headers)


def cache_headers(req: func.HttpRequest, max_age: int | None = None) -> dict[str, str]:
    """Anonymous answers are public and may be cached (for `max_age`, else revalidated with the
    ETag); answers to a token are for that caller alone and never stored."""
    if (req.headers.get("authorization") or "").strip():
        control = PRIVATE["Cache-Control"]
    elif max_age:
        control = f"public, max-age={max_age}"
    else:
        control = "public, no-cache"
    return {"Cache-Control": control, "Vary": "Authorization, Accept"}


def conditional_response(
    req: func.HttpRequest,
    body: Any,
    tag: str,
    status: int = 200,
    *,
    headers: dict[str, str] | None = None,
    max_age: int | None = None,
    content_type: str = JSON,
) -> func.HttpResponse:
    """A JSON body with its ETag, or 304 when the client already holds that representation."""
    headers = {"ETag": tag, **cache_headers(req, max_age), **(headers or {})}
    if req.method in {"GET", "HEAD"} and not_modified(req.headers.get("if-none-match"), tag):
        return func.HttpResponse(status_code=304, headers=headers)
    return json_response(body, status, headers, content_type)


def blob_response(content: BlobContent, headers: dict[str, str]) -> func.HttpResponse:
    """A stored file (an artifact, a report, an export) as the app serves it: its type as the
    core decided, an attachment where the core said so."""
    sent = {**FILE_HEADERS, **headers, "Content-Type": content.content_type}
    if content.disposition:
        sent["Content-Disposition"] = content.disposition
    return func.HttpResponse(body=content.data, status_code=200, headers=sent, mimetype=content.content_type)
