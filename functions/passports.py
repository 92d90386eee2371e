"""EN 18222 life cycle API (clause 4, Table 16): one function per operation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import azure.functions as func

from functions._http import (
    JSON,
    MERGE_PATCH,
    endpoint,
    json_body,
    json_response,
    passport_response,
    passport_url,
    path_param,
    principal,
    require_compressed_write,
)
from shared.auth import Principal
from shared.etags import entity_tag
from shared.service import PassportService, get_service

bp = func.Blueprint()
LifecycleWrite = Callable[[PassportService, str, Any, Principal, "str | None"], dict[str, Any]]
ANON = func.AuthLevel.ANONYMOUS

DPP = "v1/dpps/{dppId}"
BY_PRODUCT = "v1/dppsByProductId/{productId}"
BY_ID_AND_DATE = "v1/dppsByIdAndDate/{dppId}"
BY_PRODUCT_AND_DATE = "v1/dppsByProductIdAndDate/{productId}"


@bp.route(route="v1/dpps", methods=["POST"], auth_level=ANON)
@endpoint
def create_dpp(req: func.HttpRequest) -> func.HttpResponse:
    caller = principal(req)
    require_compressed_write(req)
    service = get_service()
    head = service.create(json_body(req), caller)
    dpp_id = head["dppId"]
    registration = service.register_created(head, passport_url(req, dpp_id), caller)
    headers = {
        "Location": passport_url(req, dpp_id),
        "ETag": entity_tag(head["etag"]),
        "DPP-Registration": registration,
    }
    return json_response({"digitalProductPassportId": dpp_id}, 201, headers)


@bp.route(route=DPP, methods=["GET"], auth_level=ANON)
@endpoint
def read_dpp_by_id(req: func.HttpRequest) -> func.HttpResponse:
    service = get_service()
    return passport_response(req, service.view(service.read(path_param(req, DPP, "dppId")), principal(req)))


@bp.route(route=BY_PRODUCT, methods=["GET"], auth_level=ANON)
@endpoint
def read_dpp_by_product_id(req: func.HttpRequest) -> func.HttpResponse:
    service = get_service()
    head = service.read_by_product(path_param(req, BY_PRODUCT, "productId"))
    return passport_response(req, service.view(head, principal(req)))


@bp.route(route=BY_ID_AND_DATE, methods=["GET"], auth_level=ANON)
@endpoint
def read_dpp_version_by_id_and_date(req: func.HttpRequest) -> func.HttpResponse:
    dpp_id = path_param(req, BY_ID_AND_DATE, "dppId")
    caller, service = principal(req), get_service()
    version = service.read_at(dpp_id, req.params.get("date"), caller)
    return passport_response(req, service.view(version, caller))


@bp.route(route=BY_PRODUCT_AND_DATE, methods=["GET"], auth_level=ANON)
@endpoint
def read_dpp_version_by_product_id_and_date(req: func.HttpRequest) -> func.HttpResponse:
    product_id = path_param(req, BY_PRODUCT_AND_DATE, "productId")
    caller, service = principal(req), get_service()
    version = service.read_by_product_at(product_id, req.params.get("date"), caller)
    return passport_response(req, service.view(version, caller))


@bp.route(route="v1/dppsByProductIds", methods=["POST"], auth_level=ANON)
@endpoint
def read_dpp_ids_by_product_ids(req: func.HttpRequest) -> func.HttpResponse:
    result = get_service().ids_by_product_ids(
        json_body(req), req.params.get("limit"), req.params.get("cursor")
    )
    return json_response(result)


@bp.route(route=DPP, methods=["PATCH"], auth_level=ANON)
@endpoint
def update_dpp_by_id(req: func.HttpRequest) -> func.HttpResponse:
    caller = principal(req)
    require_compressed_write(req)
    dpp_id = path_param(req, DPP, "dppId")
    patch = json_body(req, accepted=(MERGE_PATCH, JSON))
    service = get_service()
    head = service.update(dpp_id, patch, caller, req.headers.get("if-match"))
    return passport_response(req, service.view(head, caller))


@bp.route(route=DPP, methods=["DELETE"], auth_level=ANON)
@endpoint
def delete_dpp_by_id(req: func.HttpRequest) -> func.HttpResponse:
    get_service().delete(path_param(req, DPP, "dppId"), principal(req), req.headers.get("if-match"))
    return func.HttpResponse(status_code=204)


REVOKE = "v1/dpps/{dppId}/revoke"
PUBLISH = "v1/dpps/{dppId}/publish"


def _lifecycle_write(req: func.HttpRequest, template: str, write: LifecycleWrite) -> func.HttpResponse:
    caller, service = principal(req), get_service()
    dpp_id = path_param(req, template, "dppId")
    head = write(service, dpp_id, json_body(req), caller, req.headers.get("if-match"))
    return passport_response(req, service.view(head, caller))


@bp.route(route=REVOKE, methods=["POST"], auth_level=ANON)
@endpoint
def revoke_dpp(req: func.HttpRequest) -> func.HttpResponse:
    return _lifecycle_write(req, REVOKE, PassportService.revoke)


@bp.route(route=PUBLISH, methods=["POST"], auth_level=ANON)
@endpoint
def publish_dpp_version(req: func.HttpRequest) -> func.HttpResponse:
    return _lifecycle_write(req, PUBLISH, PassportService.publish)
