"""Publication: the seed contract's JSON-LD views by product and version label (passport, status,
artifact, search, the context they name), and EN 18222 RegisterProductDPP with the outbox timer
that delivers registrations. Each function calls `shared.publication` directly."""

from __future__ import annotations

import functools
import json
import logging
from typing import Any

import azure.functions as func

from functions.routes import Route
from functions.web import (
    JSON_LD,
    PRIVATE,
    Adapter,
    Handler,
    blob_response,
    cache_headers,
    conditional_response,
    json_response,
    media_ranges,
    path_param,
)
from shared.composition import Root
from shared.documents.entity_tags import content_etag, entity_tag, not_modified
from shared.documents.relations import schema as relations_schema
from shared.platform.errors import BadRequest, ErrorCode, NotFound
from shared.platform.openapi import Catalog
from shared.platform.results import message
from shared.publication.context import context_document
from shared.publication.registry import check_registrar
from shared.publication.relations import parse_graph_query
from shared.publication.status_lists import MAX_AGE as STATUS_LIST_MAX_AGE
from shared.publication.untp import MEDIA_TYPE as VC_JWT
from shared.publication.untp import stored_credential
from shared.publication.views import Release, parse_lite

log = logging.getLogger("dpp.registry")

SEARCH_PARAMS = ("issuer", "status", "keyword", "limit", "cursor")
CONTEXT_MAX_AGE = 86400
OUTBOX_SCHEDULE = "0 */1 * * * *"  # every minute, at second 0 (NCRONTAB)


def _ld_response(
    req: func.HttpRequest, body: Any, *, max_age: int | None = None, headers: dict[str, str] | None = None
) -> func.HttpResponse:
    tag = entity_tag(content_etag(body))
    return conditional_response(req, body, tag, max_age=max_age, headers=headers, content_type=JSON_LD)


def _correlated(handler: Handler) -> Handler:
    """Give the Info/Warning messages of a success body the correlation id the operation echoes."""

    @functools.wraps(handler)
    def wrapper(req: func.HttpRequest) -> func.HttpResponse:
        response = handler(req)
        cid = response.headers.get("x-correlation-id")
        if response.status_code >= 300 or not cid:
            return response
        body = json.loads(response.get_body())
        for note in body.get("messages", []):
            note["correlationId"] = cid
        return json_response(body, response.status_code, dict(response.headers))

    return wrapper


def _messages(notes: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The registry's notes as Message objects; `_correlated` fills in the correlation id."""
    return [message(note["messageType"], note["text"], note["code"], None) for note in notes]


def wants_untp(req: func.HttpRequest) -> bool:
    """`?format=untp`, or (no format named) an Accept naming `application/vc+jwt`: the version's
    UNTP credential; `?format=jsonld` or neither: the JSON-LD view."""
    named = req.params.get("format")
    if named is None or named == "":
        return _accepts(req.headers.get("accept"), VC_JWT)
    if named not in ("untp", "jsonld"):
        raise BadRequest("'format' must be 'jsonld' or 'untp'", code=ErrorCode.INVALID_PARAMETER)
    return named == "untp"


def _accepts(header: str | None, media_type: str) -> bool:
    """Whether an Accept header names `media_type` itself, first with a quality above 0."""
    return next((quality > 0 for media, quality in media_ranges(header) if media == media_type), False)


def _token_response(req: func.HttpRequest, token: str, max_age: int) -> func.HttpResponse:
    """A stored compact vc+jwt, as it was signed on write; its bytes are its strong tag."""
    headers = {"ETag": entity_tag(content_etag(token)), **cache_headers(req, max_age)}
    if not_modified(req.headers.get("if-none-match"), headers["ETag"]):
        return func.HttpResponse(status_code=304, headers=headers)
    return func.HttpResponse(body=token.encode("ascii"), headers=headers, mimetype=VC_JWT)


def _release(root: Root, req: func.HttpRequest, route: Route) -> Release:
    product_id = path_param(req, route, "productId")
    return root.views.release(product_id, path_param(req, route, "version"))


def blueprint(root: Root, catalog: Catalog) -> func.Blueprint:
    bp = func.Blueprint()
    web = Adapter(root, catalog)

    def release(req: func.HttpRequest, route: Route) -> Release:
        return _release(root, req, route)

    # -- the JSON-LD contract ------------------------------------------------------------------

    @web.operation(bp, Route.CONTEXT, "GET")
    def read_jsonld_context(req: func.HttpRequest) -> func.HttpResponse:
        return _ld_response(req, context_document(), max_age=CONTEXT_MAX_AGE)

    @web.operation(bp, Route.RELATIONS, "GET")
    def read_dpp_relations(req: func.HttpRequest) -> func.HttpResponse:
        caller = web.principal(req)
        query = parse_graph_query(
            req.params.get("direction"), req.params.get("type"), req.params.get("depth")
        )
        head = root.service.read(path_param(req, Route.RELATIONS, "dppId"))
        body = root.relations.graph(head, query, caller, web.links(req))
        return json_response(body, headers=cache_headers(req))

    @web.operation(bp, Route.RELATIONS_SCHEMA, "GET")
    def read_relations_schema(req: func.HttpRequest) -> func.HttpResponse:
        body = relations_schema()
        tag = entity_tag(content_etag(body))
        return conditional_response(
            req, body, tag, max_age=CONTEXT_MAX_AGE, content_type="application/schema+json"
        )

    @web.operation(bp, Route.SEARCH, "GET")
    def search_passports(req: func.HttpRequest) -> func.HttpResponse:
        params = {name: req.params.get(name) for name in SEARCH_PARAMS}
        links = web.links(req)
        previews, cursor = root.views.search(params, links)
        headers = {}
        if cursor:
            following = {name: value for name, value in params.items() if value and name != "cursor"}
            following["cursor"] = cursor
            headers["Link"] = f'<{links.url(Route.SEARCH, following)}>; rel="next"'
        return _ld_response(req, previews, max_age=root.settings.public_max_age, headers=headers)

    @web.operation(bp, Route.VIEW, "GET")
    def read_passport_view(req: func.HttpRequest) -> func.HttpResponse:
        if wants_untp(req):
            # Public by construction (shared/publication/untp.py): the same token for every caller.
            credential = release(req, Route.VIEW)
            credential.refuse_if_gone()
            return _token_response(req, stored_credential(credential.version), root.settings.public_max_age)
        lite = parse_lite(req.params.get("lite"))
        caller = web.principal(req)
        found = release(req, Route.VIEW)
        body = root.views.passport(found, caller, lite, web.links(req))
        return _ld_response(req, body, max_age=root.settings.public_max_age if lite else None)

    @web.operation(bp, Route.STATUS_LIST, "GET")
    def read_status_list(req: func.HttpRequest) -> func.HttpResponse:
        """A BitstringStatusListCredential, as signed when a bit last flipped (never on read)."""
        list_id = path_param(req, Route.STATUS_LIST, "listId")
        lists = root.status_lists
        if lists is None:
            raise NotFound("This deployment issues no UNTP credentials", code=ErrorCode.STATUS_LIST_NOT_FOUND)
        return _token_response(req, lists.credential(list_id), STATUS_LIST_MAX_AGE)

    @web.operation(bp, Route.VIEW_STATUS, "GET")
    def read_passport_status(req: func.HttpRequest) -> func.HttpResponse:
        return _ld_response(req, root.views.status(release(req, Route.VIEW_STATUS), web.links(req)))

    _artifacts(bp, root, web)

    # -- the registry ------------------------------------------------------------------------------

    @web.operation(bp, Route.REGISTER, "POST", outer=_correlated)
    def register_dpp(req: func.HttpRequest) -> func.HttpResponse:
        caller = web.principal(req)
        check_registrar(caller)  # 401/403 before the body is read
        links = web.links(req)
        result = root.registry.register(web.json_body(req), caller, links.passport)
        body = {"registration": result.record, "messages": _messages(result.messages)}
        location = links.url(Route.REGISTRATION, dppId=result.record["dppId"])
        return json_response(body, result.status, {"Location": location})

    @web.operation(bp, Route.REGISTRATION, "GET")
    def read_registration(req: func.HttpRequest) -> func.HttpResponse:
        record = root.registry.read(path_param(req, Route.REGISTRATION, "dppId"), web.principal(req))
        return json_response({"registration": record}, 200, {"Cache-Control": "no-store"})

    @bp.timer_trigger(schedule=OUTBOX_SCHEDULE, arg_name="timer", run_on_startup=False)
    def registry_outbox(timer: func.TimerRequest) -> None:
        counts = root.registry.deliver_due()
        level = logging.INFO if any(counts.values()) or timer.past_due else logging.DEBUG
        log.log(level, "Registry outbox%s: %s", " (past due)" if timer.past_due else "", counts)

    return bp


def _artifacts(bp: func.Blueprint, root: Root, web: Adapter) -> None:
    """An artifact of a version: its reference with a download link, and its bytes through the app."""

    @web.operation(bp, Route.VIEW_ARTIFACT, "GET")
    def read_passport_artifact(req: func.HttpRequest) -> func.HttpResponse:
        caller = web.principal(req)
        artifact_type = path_param(req, Route.VIEW_ARTIFACT, "artifactType")
        found = _release(root, req, Route.VIEW_ARTIFACT)
        body = root.views.artifact(found, artifact_type, caller, web.links(req))
        # The download URL is a short-lived credential: never kept by a shared cache.
        headers = {"ETag": entity_tag(content_etag(body)), **PRIVATE, "Vary": "Authorization, Accept"}
        return json_response(body, headers=headers, content_type=JSON_LD)

    @web.operation(bp, Route.VIEW_ARTIFACT_CONTENT, "GET")
    def read_passport_artifact_content(req: func.HttpRequest) -> func.HttpResponse:
        """The artifact's bytes through the app (where download links point with storage private)."""
        caller = web.principal(req)
        artifact_type = path_param(req, Route.VIEW_ARTIFACT_CONTENT, "artifactType")
        found = _release(root, req, Route.VIEW_ARTIFACT_CONTENT)
        reference = root.views.artifact_reference(found, artifact_type, caller)
        # The bytes are the hash: a strong tag that no other content can have.
        headers = {
            "ETag": entity_tag(str(reference["hash"])),
            **cache_headers(req, root.settings.public_max_age),
        }
        if not_modified(req.headers.get("if-none-match"), headers["ETag"]):
            return func.HttpResponse(status_code=304, headers=headers)
        return blob_response(root.artifacts.content(reference), headers)
