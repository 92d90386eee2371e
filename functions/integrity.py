"""Integrity: the published keys that sign passports, and the issuer's DID document (did:web)."""

from __future__ import annotations

import azure.functions as func

from functions.routes import Route
from functions.web import Adapter, json_response, path_param
from shared.composition import Root
from shared.integrity.did import did_document, operator_did, service_did
from shared.platform.errors import ErrorCode, NotFound

# Keys change only with a rotation; a verifier may hold them for a few minutes.
PUBLIC_KEYS = {"Cache-Control": "public, max-age=300"}


def blueprint(root: Root) -> func.Blueprint:
    bp = func.Blueprint()
    web = Adapter(root)

    @web.operation(bp, Route.KEYS, "GET")
    def read_signing_keys(req: func.HttpRequest) -> func.HttpResponse:
        return json_response(
            root.keyring.jwks(),
            headers=PUBLIC_KEYS,
            content_type="application/jwk-set+json",
        )

    @web.operation(bp, Route.DID_DOCUMENT, "GET")
    def read_did_document(req: func.HttpRequest) -> func.HttpResponse:
        did = service_did(root.settings.public_url)
        return json_response(
            did_document(did, root.keyring.jwks()),
            headers=PUBLIC_KEYS,
            content_type="application/did+json",
        )

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
        return json_response(document, headers=PUBLIC_KEYS, content_type="application/did+json")

    return bp
