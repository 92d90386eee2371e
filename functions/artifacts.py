"""Artifacts (ByRef data): detailed documents stored in Blob storage and referenced, signed, from
a new passport version."""

from __future__ import annotations

from urllib.parse import quote

import azure.functions as func

from functions._http import api_base, endpoint, json_response, path_param, principal, raw_body
from shared.config import settings
from shared.etags import entity_tag
from shared.lifecycle import label_of
from shared.service import get_service

bp = func.Blueprint()

UPLOAD = "v1/dpps/{dppId}/artifacts/{artifactType}"


@bp.route(route=UPLOAD, methods=["PUT"], auth_level=func.AuthLevel.ANONYMOUS)
@endpoint
def put_artifact(req: func.HttpRequest) -> func.HttpResponse:
    caller = principal(req)
    dpp_id = path_param(req, UPLOAD, "dppId")
    artifact_type = path_param(req, UPLOAD, "artifactType")
    data = raw_body(req, settings().max_artifact_bytes, "DPP_MAX_ARTIFACT_BYTES")
    head, reference = get_service().put_artifact(
        dpp_id, artifact_type, (data, req.headers.get("content-type")), caller, req.headers.get("if-match")
    )
    document = head["document"]
    product = quote(document["uniqueProductIdentifier"], safe="")
    location = (
        f"{api_base(req)}/v1/dpp/{product}/{quote(label_of(document), safe='')}/artifact/{artifact_type}"
    )
    headers = {"ETag": entity_tag(head["etag"]), "Location": location}
    return json_response(reference, 201, headers)
