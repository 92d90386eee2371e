"""Integrity: the published keys that sign passports, and the issuer's DID document (did:web)."""

from __future__ import annotations

from typing import Any

import azure.functions as func

from functions.routes import Route
from functions.web import Adapter, conditional_response, path_param
from shared.composition import Root
from shared.documents.entity_tags import content_etag, entity_tag
from shared.integrity.did import did_document, operator_did, service_did
from shared.platform.errors import ErrorCode, NotFound
from shared.platform.openapi import Catalog

KEYS_MAX_AGE = 300
DID_JSON = "application/did+json"


def blueprint(root: Root, catalog: Catalog) -> func.Blueprint:
    bp = func.Blueprint()
    web = Adapter(root, catalog)

    @web.operation(bp, Route.KEYS, "GET")
    def read_signing_keys(req: func.HttpRequest) -> func.HttpResponse:
        return _published(req, root.keyring.jwks(), "application/jwk-set+json")

    @web.operation(bp, Route.DID_DOCUMENT, "GET")
    def read_did_document(req: func.HttpRequest) -> func.HttpResponse:
        did = service_did(root.settings.public_url)
        return _published(req, did_document(did, root.keyring.jwks()), DID_JSON)

    @web.operation(bp, Route.OPERATOR_DID, "GET")
    def read_operator_did_document(req: func.HttpRequest) -> func.HttpResponse:
        operator_id = path_param(req, Route.OPERATOR_DID, "operatorId")
        if not root.operators.known(operator_id):
            raise NotFound(
                f"The service issues no passports for '{operator_id}'", code=ErrorCode.OPERATOR_NOT_FOUND
            )
        service = service_did(root.settings.public_url)
        document = did_document(
            operator_did(service, operator_id),
            root.keyring.jwks(),
            controller=service,
            also_known_as=[operator_id],
        )
        return _published(req, document, DID_JSON)

    return bp


def _published(req: func.HttpRequest, body: dict[str, Any], content_type: str) -> func.HttpResponse:
    """Keys change only with a rotation: a verifier may hold them a few minutes, then revalidate
    with the ETag (a 304 sends nothing again)."""
    tag = entity_tag(content_etag(body))
    return conditional_response(req, body, tag, max_age=KEYS_MAX_AGE, content_type=content_type)
