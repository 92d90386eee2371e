"""Integrity: the published keys that sign passports, and the issuer's DID document (did:web)."""

from __future__ import annotations

import azure.functions as func

from functions.routes import ROUTE_PREFIX, Links, Route
from functions.web import json_response, operation
from shared.composition import Root
from shared.integrity.did import did_document, did_for

# Keys change only with a rotation; a verifier may hold them for a few minutes.
PUBLIC_KEYS = {"Cache-Control": "public, max-age=300"}


def blueprint(root: Root) -> func.Blueprint:
    bp = func.Blueprint()

    @operation(bp, Route.KEYS, "GET")
    def read_signing_keys(req: func.HttpRequest) -> func.HttpResponse:
        return json_response(
            root.keyring.jwks(),
            headers=PUBLIC_KEYS,
            content_type="application/jwk-set+json",
        )

    @operation(bp, Route.DID_DOCUMENT, "GET")
    def read_did_document(req: func.HttpRequest) -> func.HttpResponse:
        did = did_for(Links(req.url).host, ROUTE_PREFIX)
        return json_response(
            did_document(did, root.keyring.jwks()),
            headers=PUBLIC_KEYS,
            content_type="application/did+json",
        )

    return bp
