"""What every adapter shares: error rendering, correlation ids, body parsing, path segments.

This is the only place that knows both HTTP and the core's errors.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import azure.functions as func

from shared.auth import Principal, authenticate
from shared.config import settings
from shared.document import validate_identifier
from shared.errors import (
    BadRequest,
    DppError,
    NotImplementedFeature,
    PayloadTooLarge,
    UnsupportedMediaType,
    result_object,
)
from shared.etags import COMPRESSED, FULL, entity_tag, not_modified
from shared.representation import to_full
from shared.service import PassportView

log = logging.getLogger("dpp")

JSON = "application/json"
JSON_LD = "application/ld+json"
MERGE_PATCH = "application/merge-patch+json"
_CORRELATION_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")
Handler = Callable[[func.HttpRequest], func.HttpResponse]


def _route_prefix() -> str:
    host = json.loads((Path(__file__).resolve().parent.parent / "host.json").read_text(encoding="utf-8"))
    return host.get("extensions", {}).get("http", {}).get("routePrefix", "api").strip("/")


ROUTE_PREFIX = _route_prefix()


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
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return func.HttpResponse(
        body=body, status_code=status, headers=headers or {}, mimetype=content_type, charset="utf-8"
    )


def error_response(error: DppError, cid: str) -> func.HttpResponse:
    return json_response(result_object(error.text, error.code, cid), error.status, dict(error.headers))


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


def principal(req: func.HttpRequest) -> Principal:
    return authenticate(req.headers.get("authorization"), settings())


def path_param(req: func.HttpRequest, template: str, name: str) -> str:
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
        index = template.split("/").index("{" + name + "}")
        if index < len(raw_segments):
            try:
                value = unquote(raw_segments[index], errors="strict")
            except UnicodeDecodeError:
                raise BadRequest(f"'{name}' is not percent-encoded UTF-8", code="InvalidIdentifier") from None
    return validate_identifier(value, f"'{name}'")


def raw_tail(req: func.HttpRequest, marker: str) -> str:
    """Everything after `marker` in the raw path, still percent-encoded (element paths need that)."""
    path = urlsplit(req.url).path
    index = path.find(marker)
    return path[index + len(marker) :] if index >= 0 else ""


def _media_type(req: func.HttpRequest) -> str:
    return (req.headers.get("content-type") or "").split(";")[0].strip().lower()


def raw_body(req: func.HttpRequest, limit: int, setting: str) -> bytes:
    """The request body, refused with 413 above `limit` (by its declared length before reading)."""
    declared = req.headers.get("content-length")
    raw = b"" if declared and declared.isdigit() and int(declared) > limit else (req.get_body() or b"")
    if len(raw) > limit or (declared and declared.isdigit() and int(declared) > limit):
        raise PayloadTooLarge(f"Request body exceeds {limit} bytes ({setting})", code="BodyTooLarge")
    return raw


def json_body(req: func.HttpRequest, accepted: tuple[str, ...] = (JSON,)) -> Any:
    """The request body as JSON, with size, media type and syntax checked."""
    raw = raw_body(req, settings().max_body_bytes, "DPP_MAX_BODY_BYTES")
    media_type = _media_type(req)
    if media_type and media_type not in accepted:
        raise UnsupportedMediaType(
            f"Content-Type must be one of {', '.join(accepted)}", code="UnsupportedMediaType"
        )
    if not raw.strip():
        raise BadRequest("A JSON request body is required", code="MissingBody")
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc}", code="InvalidJson") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def representation(req: func.HttpRequest) -> str:
    value = req.params.get("representation")
    if value is None or value == COMPRESSED:
        return COMPRESSED
    if value == FULL:
        return FULL
    raise BadRequest("'representation' must be 'compressed' or 'full'", code="InvalidRepresentation")


def require_compressed_write(req: func.HttpRequest) -> None:
    if representation(req) != COMPRESSED:
        raise NotImplementedFeature("Writes accept the compressed representation only", code="NotImplemented")


def passport_response(req: func.HttpRequest, view: PassportView, status: int = 200) -> func.HttpResponse:
    """A passport as the caller may see it, in the requested representation, with a strong ETag.

    A view with parts withheld by the access policy says so in `DPP-Disclosure: partial`; its
    `contentHash` and `signature` still cover the complete document.
    """
    form = representation(req)
    body = to_full(view.document) if form == FULL else view.document
    headers = {"DPP-Disclosure": "complete" if view.complete else "partial"}
    return conditional_response(req, body, entity_tag(view.etag, form), status, headers=headers)


def cache_headers(req: func.HttpRequest, max_age: int | None = None) -> dict[str, str]:
    """Anonymous answers are public and may be cached (for `max_age`, else revalidated with the
    ETag); answers to a token are for that caller alone and never stored."""
    if (req.headers.get("authorization") or "").strip():
        control = "private, no-store"
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


def api_base(req: func.HttpRequest) -> str:
    """`https://host/api`: absolute URLs in responses are built from the request's own origin."""
    parts = urlsplit(req.url)
    prefix = f"/{ROUTE_PREFIX}" if ROUTE_PREFIX else ""
    return f"{parts.scheme}://{parts.netloc}{prefix}"


def passport_url(req: func.HttpRequest, dpp_id: str) -> str:
    return f"{api_base(req)}/v1/dpps/{quote(dpp_id, safe='')}"
