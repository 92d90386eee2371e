"""The seed API contract: JSON-LD passport views by product and version label, status, artifacts
and search (all `application/ld+json`), and the JSON-LD context they name."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import azure.functions as func

from functions._http import (
    JSON_LD,
    api_base,
    conditional_response,
    endpoint,
    json_response,
    path_param,
    principal,
)
from shared.config import settings
from shared.contract import CONTEXT_PATH, ContractService, Release, Urls, context_document, parse_lite
from shared.etags import entity_tag
from shared.service import get_service
from shared.versions import content_etag

bp = func.Blueprint()
ANON = func.AuthLevel.ANONYMOUS

PASSPORT = "v1/dpp/{productId}/{version}"
STATUS = "v1/dpp/{productId}/{version}/status"
ARTIFACT = "v1/dpp/{productId}/{version}/artifact/{artifactType}"
SEARCH_PARAMS = ("issuer", "status", "keyword", "limit", "cursor")


def _contract() -> ContractService:
    return ContractService(get_service())


def _release(req: func.HttpRequest, template: str) -> Release:
    product_id = path_param(req, template, "productId")
    return _contract().release(product_id, path_param(req, template, "version"))


def _ld_response(
    req: func.HttpRequest, body: Any, *, max_age: int | None = None, headers: dict[str, str] | None = None
) -> func.HttpResponse:
    tag = entity_tag(content_etag(body))
    return conditional_response(req, body, tag, max_age=max_age, headers=headers, content_type=JSON_LD)


@bp.route(route=CONTEXT_PATH, methods=["GET"], auth_level=ANON)
@endpoint
def read_jsonld_context(req: func.HttpRequest) -> func.HttpResponse:
    return _ld_response(req, context_document(), max_age=86400)


@bp.route(route="v1/dpp/search", methods=["GET"], auth_level=ANON)
@endpoint
def search_passports(req: func.HttpRequest) -> func.HttpResponse:
    params = {name: req.params.get(name) for name in SEARCH_PARAMS}
    previews, cursor = _contract().search(params, Urls(api_base(req)))
    headers = {}
    if cursor:
        following = {name: value for name, value in params.items() if value and name != "cursor"}
        following["cursor"] = cursor
        headers["Link"] = f'<{api_base(req)}/v1/dpp/search?{urlencode(following)}>; rel="next"'
    return _ld_response(req, previews, max_age=settings().public_max_age, headers=headers)


@bp.route(route=PASSPORT, methods=["GET"], auth_level=ANON)
@endpoint
def read_passport_view(req: func.HttpRequest) -> func.HttpResponse:
    lite = parse_lite(req.params.get("lite"))
    caller = principal(req)
    release = _release(req, PASSPORT)
    body = _contract().passport(release, caller, lite, Urls(api_base(req)))
    return _ld_response(req, body, max_age=settings().public_max_age if lite else None)


@bp.route(route=STATUS, methods=["GET"], auth_level=ANON)
@endpoint
def read_passport_status(req: func.HttpRequest) -> func.HttpResponse:
    return _ld_response(req, _contract().status(_release(req, STATUS), Urls(api_base(req))))


@bp.route(route=ARTIFACT, methods=["GET"], auth_level=ANON)
@endpoint
def read_passport_artifact(req: func.HttpRequest) -> func.HttpResponse:
    caller = principal(req)
    artifact_type = path_param(req, ARTIFACT, "artifactType")
    body = _contract().artifact(_release(req, ARTIFACT), artifact_type, caller, Urls(api_base(req)))
    # The download URL is a short-lived credential: never kept by a shared cache.
    headers = {"ETag": entity_tag(content_etag(body)), "Cache-Control": "private, no-store"}
    return json_response(body, headers={**headers, "Vary": "Authorization, Accept"}, content_type=JSON_LD)
