"""Passports: the EN 18222 life cycle (clause 4, Table 16) and fine granular API (clause 6,
Table 18), artifact uploads, and the signed history. One function per operation, each calling
`shared.passports` (the service, or the history) directly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import azure.functions as func

from functions.routes import ELEMENT_MARKER, Route
from functions.web import (
    JSON,
    MERGE_PATCH,
    PRIVATE,
    Adapter,
    blob_response,
    cache_headers,
    conditional_response,
    json_response,
    passport_response,
    path_param,
    raw_body,
    raw_tail,
    representation,
    require_compressed_write,
)
from shared.access.authentication import Principal
from shared.access.policy import ARTIFACTS_CLAIM, ENVELOPE_CLAIM
from shared.composition import Root
from shared.documents.entity_tags import FULL, content_etag, entity_tag, not_modified
from shared.documents.representation import to_full_element
from shared.passports.records import PassportItem
from shared.passports.service import PassportService
from shared.platform.errors import BadRequest, ErrorCode
from shared.platform.openapi import Catalog
from shared.publication import aas

# Where an element read, whose body is a bare value, carries its SD-JWT presentation.
SIGNATURE_HEADER = "DPP-Signature"
LifecycleWrite = Callable[[PassportService, str, Any, Principal, "str | None"], PassportItem]
DatedRead = Callable[[PassportService, str, "str | None", Principal], PassportItem]


def blueprint(root: Root, catalog: Catalog) -> func.Blueprint:
    bp = func.Blueprint()
    web = Adapter(root, catalog)
    _life_cycle(bp, root, web)
    _elements(bp, root, web)
    _artifacts(bp, root, web)
    _envelope(bp, root, web)
    _history(bp, root, web)
    _aas(bp, root, web)
    return bp


def _life_cycle(bp: func.Blueprint, root: Root, web: Adapter) -> None:
    @web.operation(bp, Route.DPPS, "POST")
    def create_dpp(req: func.HttpRequest) -> func.HttpResponse:
        caller = web.principal(req)
        require_compressed_write(req)
        head = root.service.create(web.json_body(req), caller)
        location = web.links(req).passport(head["dppId"])
        registration = root.registry.register_created(head, location, caller)
        headers = {"Location": location, "ETag": entity_tag(head["etag"]), "DPP-Registration": registration}
        return json_response({"digitalProductPassportId": head["dppId"]}, 201, headers)

    @web.operation(bp, Route.DPP, "GET")
    def read_dpp_by_id(req: func.HttpRequest) -> func.HttpResponse:
        head = root.service.read(path_param(req, Route.DPP, "dppId"))
        return passport_response(req, root.service.view(head, web.principal(req)))

    @web.operation(bp, Route.BY_PRODUCT, "GET")
    def read_dpp_by_product_id(req: func.HttpRequest) -> func.HttpResponse:
        head = root.service.read_by_product(path_param(req, Route.BY_PRODUCT, "productId"))
        return passport_response(req, root.service.view(head, web.principal(req)))

    def version_at(req: func.HttpRequest, route: Route, name: str, read: DatedRead) -> func.HttpResponse:
        key = path_param(req, route, name)
        caller = web.principal(req)
        version = read(root.service, key, req.params.get("date"), caller)
        return passport_response(req, root.service.view(version, caller))

    @web.operation(bp, Route.BY_ID_AND_DATE, "GET")
    def read_dpp_version_by_id_and_date(req: func.HttpRequest) -> func.HttpResponse:
        return version_at(req, Route.BY_ID_AND_DATE, "dppId", PassportService.read_at)

    @web.operation(bp, Route.BY_PRODUCT_AND_DATE, "GET")
    def read_dpp_version_by_product_id_and_date(req: func.HttpRequest) -> func.HttpResponse:
        return version_at(req, Route.BY_PRODUCT_AND_DATE, "productId", PassportService.read_by_product_at)

    @web.operation(bp, Route.IDS_BY_PRODUCT_IDS, "POST")
    def read_dpp_ids_by_product_ids(req: func.HttpRequest) -> func.HttpResponse:
        body = web.json_body(req)
        return json_response(
            root.service.ids_by_product_ids(body, req.params.get("limit"), req.params.get("cursor"))
        )

    @web.operation(bp, Route.DPP, "PATCH")
    def update_dpp_by_id(req: func.HttpRequest) -> func.HttpResponse:
        caller = web.principal(req)
        require_compressed_write(req)
        dpp_id = path_param(req, Route.DPP, "dppId")
        patch = web.json_body(req, accepted=(MERGE_PATCH, JSON))
        head = root.service.update(dpp_id, patch, caller, req.headers.get("if-match"))
        return passport_response(req, root.service.view(head, caller))

    @web.operation(bp, Route.DPP, "DELETE")
    def delete_dpp_by_id(req: func.HttpRequest) -> func.HttpResponse:
        dpp_id = path_param(req, Route.DPP, "dppId")
        root.service.delete(dpp_id, web.principal(req), req.headers.get("if-match"))
        return func.HttpResponse(status_code=204)

    def lifecycle_write(req: func.HttpRequest, route: Route, write: LifecycleWrite) -> func.HttpResponse:
        caller = web.principal(req)
        dpp_id = path_param(req, route, "dppId")
        head = write(root.service, dpp_id, web.json_body(req), caller, req.headers.get("if-match"))
        return passport_response(req, root.service.view(head, caller))

    @web.operation(bp, Route.REVOKE, "POST")
    def revoke_dpp(req: func.HttpRequest) -> func.HttpResponse:
        return lifecycle_write(req, Route.REVOKE, PassportService.revoke)

    @web.operation(bp, Route.PUBLISH, "POST")
    def publish_dpp_version(req: func.HttpRequest) -> func.HttpResponse:
        return lifecycle_write(req, Route.PUBLISH, PassportService.publish)


def _elements(bp: func.Blueprint, root: Root, web: Adapter) -> None:
    def element_path(req: func.HttpRequest) -> str:
        # The raw form matters: `%2F` inside a JSONPath name must not become a path separator.
        return raw_tail(req, ELEMENT_MARKER)

    @web.operation(bp, Route.ELEMENT, "GET")
    def read_data_element(req: func.HttpRequest) -> func.HttpResponse:
        form = representation(req)
        dpp_id = path_param(req, Route.ELEMENT, "dppId")
        element_id, value, presentation = root.service.read_element(
            dpp_id, element_path(req), web.principal(req)
        )
        body = to_full_element(element_id, value) if form == FULL else value
        # The body is a bare value, so the SD-JWT presentation of it travels as a header.
        headers = {SIGNATURE_HEADER: presentation}
        # The tag covers what was shown: a filtered element differs from the owner's.
        tag = entity_tag(content_etag(body), f"element-{form}")
        return conditional_response(req, body, tag, headers=headers)

    @web.operation(bp, Route.ELEMENT, "PATCH", "PUT")
    def update_data_element(req: func.HttpRequest) -> func.HttpResponse:
        caller = web.principal(req)
        require_compressed_write(req)
        dpp_id = path_param(req, Route.ELEMENT, "dppId")
        value = web.json_body(req, accepted=(JSON, MERGE_PATCH))
        head, stored = root.service.update_element(
            dpp_id, element_path(req), value, caller, req.headers.get("if-match")
        )
        return json_response(stored, headers={"ETag": entity_tag(head["etag"])})


def _artifacts(bp: func.Blueprint, root: Root, web: Adapter) -> None:
    @web.operation(bp, Route.ARTIFACT_UPLOAD, "PUT")
    def put_artifact(req: func.HttpRequest) -> func.HttpResponse:
        caller = web.principal(req)
        dpp_id = path_param(req, Route.ARTIFACT_UPLOAD, "dppId")
        artifact_type = path_param(req, Route.ARTIFACT_UPLOAD, "artifactType")
        data = raw_body(req, root.settings.max_artifact_bytes, "DPP_MAX_ARTIFACT_BYTES")
        upload = (data, req.headers.get("content-type"))
        head, reference = root.service.put_artifact(
            dpp_id, artifact_type, upload, caller, req.headers.get("if-match")
        )
        location = web.links(req).url(
            Route.VIEW_ARTIFACT,
            productId=head["productId"],
            version=head["label"],
            artifactType=artifact_type,
        )
        return json_response(reference, 201, {"ETag": entity_tag(head["etag"]), "Location": location})


def _envelope(bp: func.Blueprint, root: Root, web: Adapter) -> None:
    """The service's data kept beside the document in each signed version, each with its own
    presentation: lifecycle and labels, artifact references, the passport's own access policy."""

    @web.operation(bp, Route.LIFECYCLE, "GET")
    def read_dpp_lifecycle(req: func.HttpRequest) -> func.HttpResponse:
        head, shown = root.service.envelope_view(
            path_param(req, Route.LIFECYCLE, "dppId"), web.principal(req)
        )
        body = {
            "digitalProductPassportId": head["dppId"],
            "version": head["version"],
            "lifecycle": head["lifecycle"],
            "labels": head["labels"],
            "signature": shown.presentation((ENVELOPE_CLAIM, "lifecycle")),
        }
        return conditional_response(req, body, entity_tag(head["etag"], "lifecycle"))

    @web.operation(bp, Route.ARTIFACTS, "GET")
    def read_dpp_artifacts(req: func.HttpRequest) -> func.HttpResponse:
        head, shown = root.service.envelope_view(
            path_param(req, Route.ARTIFACTS, "dppId"), web.principal(req)
        )
        body = {
            "digitalProductPassportId": head["dppId"],
            "artifacts": shown.artifacts,
            "signature": shown.presentation((ENVELOPE_CLAIM, ARTIFACTS_CLAIM)),
        }
        return conditional_response(req, body, entity_tag(content_etag(body), "artifacts"))

    @web.operation(bp, Route.ACCESS_POLICY, "GET")
    def read_dpp_access_policy(req: func.HttpRequest) -> func.HttpResponse:
        caller = web.principal(req)
        dpp_id = path_param(req, Route.ACCESS_POLICY, "dppId")
        head, policy, presentation = root.service.access_policy(dpp_id, caller)
        body = {"digitalProductPassportId": head["dppId"], "accessPolicy": policy, "signature": presentation}
        return conditional_response(req, body, entity_tag(head["etag"], "policy"))

    @web.operation(bp, Route.ACCESS_POLICY, "PUT")
    def set_dpp_access_policy(req: func.HttpRequest) -> func.HttpResponse:
        caller = web.principal(req)
        dpp_id = path_param(req, Route.ACCESS_POLICY, "dppId")
        head = root.service.set_access_policy(dpp_id, web.json_body(req), caller, req.headers.get("if-match"))
        policy, presentation = root.service.policy_view(head, caller)
        body = {"digitalProductPassportId": head["dppId"], "accessPolicy": policy, "signature": presentation}
        return json_response(body, headers={"ETag": entity_tag(head["etag"]), **PRIVATE})


def _history(bp: func.Blueprint, root: Root, web: Adapter) -> None:
    @web.operation(bp, Route.HISTORY, "GET")
    def read_dpp_history(req: func.HttpRequest) -> func.HttpResponse:
        include = req.params.get("include") or ""
        if include not in ("", "documents"):
            raise BadRequest("'include' may only be 'documents'", code=ErrorCode.INVALID_PARAMETER)
        dpp_id = path_param(req, Route.HISTORY, "dppId")
        page = root.history.history(
            dpp_id,
            web.principal(req),
            include == "documents",
            req.params.get("limit"),
            req.params.get("cursor"),
        )
        headers = {}
        if "cursor" in page:
            query = {name: req.params[name] for name in ("include", "limit") if req.params.get(name)}
            following = web.links(req).url(Route.HISTORY, {**query, "cursor": page["cursor"]}, dppId=dpp_id)
            headers["Link"] = f'<{following}>; rel="next"'
        return conditional_response(req, page, entity_tag(content_etag(page)), headers=headers)

    @web.operation(bp, Route.VERIFY, "POST")
    def verify_dpp(req: func.HttpRequest) -> func.HttpResponse:
        body = web.json_body(req)
        return json_response(root.history.verify(body, web.principal(req)))


def _aas(bp: func.Blueprint, root: Root, web: Adapter) -> None:
    @web.operation(bp, Route.AAS, "GET")
    def read_dpp_as_aas(req: func.HttpRequest) -> func.HttpResponse:
        """The passport (its version at `date`, if given) as an AAS environment, of what the
        caller may read (shared/publication/aas.py)."""
        fmt = aas.parse_format(req.params.get("format"))
        dpp_id = path_param(req, Route.AAS, "dppId")
        caller = web.principal(req)
        date = req.params.get("date")
        item = root.service.read(dpp_id) if date is None else root.service.read_at(dpp_id, date, caller)
        view = root.service.view(item, caller)
        # Weak: the same view serialises to equal environments, not equal bytes (zip times, set order).
        # Artifact references and their URLs (by label) are in it too, beside the document.
        shown = [view.etag, view.shown.artifacts, item["label"]]
        tag = entity_tag(content_etag(shown), f"aas-{fmt}")
        disclosure = "complete" if view.complete else "partial"
        headers = {"ETag": f"W/{tag}", **cache_headers(req), "DPP-Disclosure": disclosure}
        if not_modified(req.headers.get("if-none-match"), tag):
            return func.HttpResponse(status_code=304, headers=headers)
        return blob_response(aas.export(view, web.links(req), root.settings.public_url, fmt), headers)
