"""The read-only AAS repository and discovery (IDTA-01002 Part 2 v3.0, SSP-002 read profiles):
shells, submodels and their elements, of the passports as the caller may read them. One function
per operation, each calling `shared.publication.aas_repository`; the submodel interface (a
submodel, its elements and their modifiers) is one function under each of its two paths."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

import azure.functions as func

from functions.routes import ROUTE_PREFIX, Route
from functions.web import (
    JSON,
    Adapter,
    blob_response,
    cache_headers,
    conditional_response,
    path_param,
)
from shared.composition import Root
from shared.documents.entity_tags import content_etag, entity_tag
from shared.platform.errors import BadRequest, ErrorCode
from shared.platform.openapi import Catalog
from shared.platform.parameters import parse_bool
from shared.publication import aas_repository as repo
from shared.publication.aas import write_json
from shared.storage.links import BlobContent

READ_PARAMS = ("level", "extent", "limit", "cursor")


def _tail(req: func.HttpRequest, route: Route) -> list[str]:
    """The segments of the route's catch-all, each percent-decoded once from the raw URL."""
    path = urlsplit(req.url).path
    prefix = f"/{ROUTE_PREFIX}/" if ROUTE_PREFIX else "/"
    start = route.value.split("/").index("{*submodelPath}")
    raw = path[len(prefix) :].split("/")[start:] if path.startswith(prefix) else []
    try:
        return [unquote(segment, errors="strict") for segment in raw if segment]
    except UnicodeDecodeError:
        raise BadRequest(
            "The path is not percent-encoded UTF-8", code=ErrorCode.INVALID_ELEMENT_PATH
        ) from None


class _Reads:
    """What the operations share: the caller, paging, the shell or submodel a path names."""

    def __init__(self, root: Root, web: Adapter):
        self.web = web
        self.repository = root.aas_repository

    def reply(self, req: func.HttpRequest, body: Any) -> func.HttpResponse:
        # Built per request from the caller's view, so the tag is the answer's content: a client
        # (or the edge) revalidating what it holds gets a 304 instead of the body again.
        return conditional_response(req, body, entity_tag(content_etag(body)))

    def page(self, req: func.HttpRequest, items: list[Any], cursor: str | None) -> func.HttpResponse:
        return self.reply(req, repo.Page(items, cursor).body())

    def limit(self, req: func.HttpRequest) -> int:
        return repo.parse_limit(req.params.get("limit"))

    def shell(self, req: func.HttpRequest, route: Route) -> repo.Passport:
        raw = path_param(req, route, "aasIdentifier")
        return self.repository.shell(raw, self.web.principal(req), self.web.links(req))

    def shells(self, req: func.HttpRequest) -> tuple[list[repo.Passport], str | None]:
        return self.repository.shells(
            self.web.principal(req),
            self.web.links(req),
            limit=self.limit(req),
            cursor=req.params.get("cursor"),
            id_short=req.params.get("idShort"),
            asset_ids=repo.parse_asset_ids(req.params.get("assetIds")),
        )

    def submodels(self, req: func.HttpRequest, shape: Callable[[Any], Any]) -> func.HttpResponse:
        found, cursor = self.repository.submodels(
            self.web.principal(req),
            self.web.links(req),
            limit=self.limit(req),
            cursor=req.params.get("cursor"),
        )
        return self.page(req, [shape(submodel) for submodel in found], cursor)

    def submodel_interface(
        self, req: func.HttpRequest, route: Route, found: repo.Passport | None
    ) -> func.HttpResponse:
        caller = self.web.principal(req)
        raw = path_param(req, route, "submodelIdentifier")
        passport, submodel = self.repository.submodel(raw, caller, self.web.links(req), found)
        tail = _tail(req, route)
        params = {name: req.params.get(name) for name in READ_PARAMS}
        if len(tail) >= 2 and tail[0] == "submodel-elements" and tail[1] not in repo.MODIFIERS:
            if len(tail) > 3:
                raise repo.not_found("such operation on a submodel element")
            element, path = self.repository.element(passport, submodel, tail[1], caller)
            answer = repo.element_read(element, path, tail[2] if len(tail) == 3 else "", params)
        else:
            answer = repo.submodel_read(submodel, tail, params)
        if answer.location:
            headers = {"Location": answer.location, **cache_headers(req)}
            return func.HttpResponse(status_code=307, headers=headers)
        return self.reply(req, answer.body)


def blueprint(root: Root, catalog: Catalog) -> func.Blueprint:
    bp = func.Blueprint()
    web = Adapter(root, catalog)
    reads = _Reads(root, web)

    @web.operation(bp, Route.AAS_DESCRIPTION, "GET")
    def read_aas_description(req: func.HttpRequest) -> func.HttpResponse:
        return reads.reply(req, {"profiles": list(repo.PROFILES)})

    _shells(bp, web, reads)
    _submodels(bp, web, reads)
    _discovery(bp, web, reads)
    return bp


def _shells(bp: func.Blueprint, web: Adapter, reads: _Reads) -> None:
    @web.operation(bp, Route.AAS_SHELLS, "GET")
    def list_aas_shells(req: func.HttpRequest) -> func.HttpResponse:
        found, cursor = reads.shells(req)
        return reads.page(req, [repo.serialised(passport.shell) for passport in found], cursor)

    @web.operation(bp, Route.AAS_SHELL_REFERENCES, "GET")
    def list_aas_shell_references(req: func.HttpRequest) -> func.HttpResponse:
        found, cursor = reads.shells(req)
        return reads.page(req, [repo.reference_of(passport.shell) for passport in found], cursor)

    @web.operation(bp, Route.AAS_SHELL, "GET")
    def read_aas_shell(req: func.HttpRequest) -> func.HttpResponse:
        return reads.reply(req, repo.serialised(reads.shell(req, Route.AAS_SHELL).shell))

    @web.operation(bp, Route.AAS_SHELL_REFERENCE, "GET")
    def read_aas_shell_reference(req: func.HttpRequest) -> func.HttpResponse:
        return reads.reply(req, repo.reference_of(reads.shell(req, Route.AAS_SHELL_REFERENCE).shell))

    @web.operation(bp, Route.AAS_ASSET_INFORMATION, "GET")
    def read_aas_asset_information(req: func.HttpRequest) -> func.HttpResponse:
        found = reads.shell(req, Route.AAS_ASSET_INFORMATION)
        return reads.reply(req, repo.serialised(found.shell.asset_information))

    @web.operation(bp, Route.AAS_THUMBNAIL, "GET")
    def read_aas_thumbnail(req: func.HttpRequest) -> func.HttpResponse:
        reads.shell(req, Route.AAS_THUMBNAIL)  # 400/404 for an id that names no shell, as every read
        raise repo.not_found("thumbnail (passports have none)")

    @web.operation(bp, Route.AAS_SUBMODEL_REFS, "GET")
    def list_aas_submodel_references(req: func.HttpRequest) -> func.HttpResponse:
        found = reads.shell(req, Route.AAS_SUBMODEL_REFS)
        references = sorted((repo.reference_of(sub) for sub in found.submodels), key=repo.first_key)
        cursor = req.params.get("cursor")
        items, following = repo.offset_page(references, found.shell.id, reads.limit(req), cursor)
        return reads.page(req, items, following)

    @web.operation(bp, Route.AAS_SHELL_SUBMODEL, "GET")
    def read_aas_shell_submodel(req: func.HttpRequest) -> func.HttpResponse:
        """The submodel interface of a shell's submodel (the AAS repository's superpath)."""
        found = reads.shell(req, Route.AAS_SHELL_SUBMODEL)
        return reads.submodel_interface(req, Route.AAS_SHELL_SUBMODEL, found)


def _submodels(bp: func.Blueprint, web: Adapter, reads: _Reads) -> None:
    @web.operation(bp, Route.AAS_SUBMODELS, "GET")
    def list_aas_submodels(req: func.HttpRequest) -> func.HttpResponse:
        return reads.submodels(req, repo.serialised)

    @web.operation(bp, Route.AAS_SUBMODELS_METADATA, "GET")
    def list_aas_submodels_metadata(req: func.HttpRequest) -> func.HttpResponse:
        return reads.submodels(req, lambda submodel: repo.metadata(repo.serialised(submodel)))

    @web.operation(bp, Route.AAS_SUBMODELS_VALUE, "GET")
    def list_aas_submodels_value(req: func.HttpRequest) -> func.HttpResponse:
        return reads.submodels(req, lambda submodel: repo.submodel_read(submodel, ["$value"], {}).body)

    @web.operation(bp, Route.AAS_SUBMODELS_REFERENCE, "GET")
    def list_aas_submodels_reference(req: func.HttpRequest) -> func.HttpResponse:
        return reads.submodels(req, repo.reference_of)

    @web.operation(bp, Route.AAS_SUBMODELS_PATH, "GET")
    def list_aas_submodels_path(req: func.HttpRequest) -> func.HttpResponse:
        return reads.submodels(req, lambda submodel: str(submodel.id_short))

    @web.operation(bp, Route.AAS_SUBMODEL, "GET")
    def read_aas_submodel(req: func.HttpRequest) -> func.HttpResponse:
        """The submodel interface: a submodel, its elements, and their modifiers."""
        return reads.submodel_interface(req, Route.AAS_SUBMODEL, None)


def _discovery(bp: func.Blueprint, web: Adapter, reads: _Reads) -> None:
    @web.operation(bp, Route.AAS_SERIALIZATION, "GET")
    def read_aas_serialization(req: func.HttpRequest) -> func.HttpResponse:
        parse_bool(req.params.get("includeConceptDescriptions"), "includeConceptDescriptions")
        store = reads.repository.serialization(
            req.params.get("aasIds"), req.params.get("submodelIds"), web.principal(req), web.links(req)
        )
        return blob_response(BlobContent(write_json(store), JSON), cache_headers(req))

    @web.operation(bp, Route.AAS_LOOKUP, "GET")
    def lookup_aas_shells(req: func.HttpRequest) -> func.HttpResponse:
        reads.limit(req)  # at most one shell has a product's globalAssetId: one page
        ids = reads.repository.lookup_shells(
            req.params.get("assetIds"), web.principal(req), web.links(req), cursor=req.params.get("cursor")
        )
        return reads.page(req, ids, None)

    @web.operation(bp, Route.AAS_ASSET_LINKS, "GET")
    def read_aas_asset_links(req: func.HttpRequest) -> func.HttpResponse:
        raw = path_param(req, Route.AAS_ASSET_LINKS, "aasIdentifier")
        return reads.reply(req, reads.repository.asset_links(raw, web.principal(req), web.links(req)))
