"""EN 18222 fine granular API (clause 6, Table 18): single data elements of a passport."""

from __future__ import annotations

import azure.functions as func

from functions._http import (
    JSON,
    MERGE_PATCH,
    conditional_response,
    endpoint,
    json_body,
    json_response,
    path_param,
    principal,
    raw_tail,
    representation,
    require_compressed_write,
)
from shared.etags import FULL, entity_tag
from shared.representation import to_full_element
from shared.service import get_service
from shared.versions import content_etag

bp = func.Blueprint()

ELEMENT = "v1/dpps/{dppId}/elements/{*elementPath}"


def _element_path(req: func.HttpRequest) -> str:
    # The raw form matters: `%2F` inside a JSONPath name must not become a path separator.
    return raw_tail(req, "/elements/")


@bp.route(route=ELEMENT, methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@endpoint
def read_data_element(req: func.HttpRequest) -> func.HttpResponse:
    form = representation(req)
    dpp_id = path_param(req, ELEMENT, "dppId")
    element_id, value = get_service().read_element(dpp_id, _element_path(req), principal(req))
    body = to_full_element(element_id, value) if form == FULL else value
    # The tag covers what was shown: a filtered element differs from the owner's.
    return conditional_response(req, body, entity_tag(content_etag(body), f"element-{form}"))


@bp.route(route=ELEMENT, methods=["PATCH", "PUT"], auth_level=func.AuthLevel.ANONYMOUS)
@endpoint
def update_data_element(req: func.HttpRequest) -> func.HttpResponse:
    caller = principal(req)
    require_compressed_write(req)
    dpp_id = path_param(req, ELEMENT, "dppId")
    value = json_body(req, accepted=(JSON, MERGE_PATCH))
    head, stored = get_service().update_element(
        dpp_id, _element_path(req), value, caller, req.headers.get("if-match")
    )
    return json_response(stored, headers={"ETag": entity_tag(head["etag"])})
