"""Integrity: published keys, passport history, and verification of hashes, signatures and chains."""

from __future__ import annotations

from urllib.parse import urlsplit

import azure.functions as func

from functions._http import (
    ROUTE_PREFIX,
    cache_headers,
    endpoint,
    json_body,
    json_response,
    path_param,
    principal,
)
from shared.did import did_document, did_for
from shared.service import get_service

bp = func.Blueprint()
ANON = func.AuthLevel.ANONYMOUS
HISTORY = "v1/dpps/{dppId}/history"


@bp.route(route="v1/keys", methods=["GET"], auth_level=ANON)
@endpoint
def read_signing_keys(req: func.HttpRequest) -> func.HttpResponse:
    return json_response(
        get_service().jwks(),
        headers={"Cache-Control": "public, max-age=300"},
        content_type="application/jwk-set+json",
    )


@bp.route(route="did.json", methods=["GET"], auth_level=ANON)
@endpoint
def read_did_document(req: func.HttpRequest) -> func.HttpResponse:
    did = did_for(urlsplit(req.url).netloc, ROUTE_PREFIX)
    return json_response(
        did_document(did, get_service().jwks()),
        headers={"Cache-Control": "public, max-age=300"},
        content_type="application/did+json",
    )


@bp.route(route=HISTORY, methods=["GET"], auth_level=ANON)
@endpoint
def read_dpp_history(req: func.HttpRequest) -> func.HttpResponse:
    documents = (req.params.get("include") or "") == "documents"
    history = get_service().history(path_param(req, HISTORY, "dppId"), principal(req), documents)
    return json_response(history, headers=cache_headers(req))


@bp.route(route="v1/verify", methods=["POST"], auth_level=ANON)
@endpoint
def verify_dpp(req: func.HttpRequest) -> func.HttpResponse:
    return json_response(get_service().verify(json_body(req), principal(req)))
