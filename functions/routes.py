"""The route table, and every absolute URL the service writes, built from it in one place.

Templates are relative to host.json's route prefix, as Azure Functions routes are. The prefix is
empty, so the GS1 resolver can answer at the host root (`/01/{gtin}`, `/.well-known/gs1resolver`),
and every API route starts with `api/` itself (API), so its URLs are what they always were.
Path parameters are percent-encoded as ONE segment each, so ids holding `/ : # ?` stay whole.
"""

from __future__ import annotations

import functools
import json
import re
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from shared.publication.targets import OwnRoutes

HOST_JSON = Path(__file__).resolve().parent.parent / "host.json"


def read_route_prefix(host_json: Path = HOST_JSON) -> str:
    """`extensions.http.routePrefix` of host.json; "api", Functions' default, without one."""
    host = json.loads(host_json.read_text(encoding="utf-8"))
    return str(host.get("extensions", {}).get("http", {}).get("routePrefix", "api")).strip("/")


ROUTE_PREFIX = read_route_prefix()
# The first path segment of every API route; the service's DID names it (shared.integrity.did).
API = "api"


class Route(StrEnum):
    # passports: EN 18222 life cycle, fine granular elements, artifacts, history
    DPPS = "api/v1/dpps"
    DPP = "api/v1/dpps/{dppId}"
    BY_PRODUCT = "api/v1/dppsByProductId/{productId}"
    BY_ID_AND_DATE = "api/v1/dppsByIdAndDate/{dppId}"
    BY_PRODUCT_AND_DATE = "api/v1/dppsByProductIdAndDate/{productId}"
    IDS_BY_PRODUCT_IDS = "api/v1/dppsByProductIds"
    REVOKE = "api/v1/dpps/{dppId}/revoke"
    PUBLISH = "api/v1/dpps/{dppId}/publish"
    ELEMENT = "api/v1/dpps/{dppId}/elements/{*elementPath}"
    LIFECYCLE = "api/v1/dpps/{dppId}/lifecycle"
    ACCESS_POLICY = "api/v1/dpps/{dppId}/accessPolicy"
    ARTIFACTS = "api/v1/dpps/{dppId}/artifacts"
    ARTIFACT_UPLOAD = "api/v1/dpps/{dppId}/artifacts/{artifactType}"
    HISTORY = "api/v1/dpps/{dppId}/history"
    RELATIONS = "api/v1/dpps/{dppId}/relations"
    AAS = "api/v1/dpps/{dppId}/aas"
    VERIFY = "api/v1/verify"
    # access: the operator registry
    OPERATOR = "api/v1/operators/{operatorId}"
    # integrity: the keys that sign, and the issuer's DID document
    KEYS = "api/v1/keys"
    DID_DOCUMENT = "api/did.json"
    OPERATOR_DID = "api/v1/operators/{operatorId}/did.json"
    # publication: the seed contract's JSON-LD views, search, the registry
    CONTEXT = "api/v1/contexts/dpp.jsonld"
    RELATIONS_SCHEMA = "api/v1/schemas/relations.json"
    SEARCH = "api/v1/dpp/search"
    VIEW = "api/v1/dpp/{productId}/{version}"
    VIEW_STATUS = "api/v1/dpp/{productId}/{version}/status"
    VIEW_ARTIFACT = "api/v1/dpp/{productId}/{version}/artifact/{artifactType}"
    VIEW_ARTIFACT_CONTENT = "api/v1/dpp/{productId}/{version}/artifact/{artifactType}/content"
    # the UNTP credential's Bitstring Status Lists (shared/publication/status_lists.py)
    STATUS_LIST = "api/v1/status-lists/{listId}"
    REGISTER = "api/v1/registerDPP"
    REGISTRATION = "api/v1/registrations/{dppId}"
    # onboarding
    IMPORTS = "api/v1/imports"
    IMPORT = "api/v1/imports/{importId}"
    IMPORT_FILE = "api/v1/imports/{importId}/file"
    IMPORT_MAPPING = "api/v1/imports/{importId}/mapping"
    IMPORT_REPORT = "api/v1/imports/{importId}/reports/{kind}"
    EXPORTS = "api/v1/exports"
    EXPORT = "api/v1/exports/{exportId}"
    EXPORT_FILE = "api/v1/exports/{exportId}/files/{kind}"
    # PIM connectors: a sync on demand, and its progress
    CONNECTOR_SYNCS = "api/v1/connectors/{connectorId}/sync"
    CONNECTOR_SYNC = "api/v1/connectors/{connectorId}/syncs/{syncId}"
    CONNECTOR_SYNC_REPORT = "api/v1/connectors/{connectorId}/syncs/{syncId}/report"
    # the resolver, at the host root (GS1 Digital Link), and the consumer page
    RESOLVER = "01/{*keys}"
    RESOLVER_DESCRIPTION = ".well-known/gs1resolver"
    SHORT = "p/{dppId}"
    PAGE = "api/v1/dpps/{dppId}/page"
    CARRIER = "api/v1/dpps/{dppId}/carrier"
    LINKSET_CONTEXT = "api/v1/contexts/linkset.jsonld"
    # the read-only AAS repository and discovery (IDTA-01002 Part 2; shared/publication/aas_repository.py)
    AAS_DESCRIPTION = "api/aas/description"
    AAS_SHELLS = "api/aas/shells"
    AAS_SHELL_REFERENCES = "api/aas/shells/$reference"
    AAS_SHELL = "api/aas/shells/{aasIdentifier}"
    AAS_SHELL_REFERENCE = "api/aas/shells/{aasIdentifier}/$reference"
    AAS_ASSET_INFORMATION = "api/aas/shells/{aasIdentifier}/asset-information"
    AAS_THUMBNAIL = "api/aas/shells/{aasIdentifier}/asset-information/thumbnail"
    AAS_SUBMODEL_REFS = "api/aas/shells/{aasIdentifier}/submodel-refs"
    AAS_SHELL_SUBMODEL = "api/aas/shells/{aasIdentifier}/submodels/{submodelIdentifier}/{*submodelPath}"
    AAS_SUBMODELS = "api/aas/submodels"
    AAS_SUBMODELS_METADATA = "api/aas/submodels/$metadata"
    AAS_SUBMODELS_VALUE = "api/aas/submodels/$value"
    AAS_SUBMODELS_REFERENCE = "api/aas/submodels/$reference"
    AAS_SUBMODELS_PATH = "api/aas/submodels/$path"
    AAS_SUBMODEL = "api/aas/submodels/{submodelIdentifier}/{*submodelPath}"
    AAS_SERIALIZATION = "api/aas/serialization"
    AAS_LOOKUP = "api/aas/lookup/shells"
    AAS_ASSET_LINKS = "api/aas/lookup/shells/{aasIdentifier}"
    # platform
    HEALTH = "api/health"
    OPENAPI = "api/openapi.json"
    PREFLIGHT = "{*path}"  # OPTIONS only: the CORS preflight of every route


# Reads whose anonymous answers are public (Cache-Control: public): the resolver, the consumer page
# and the passport views under them (an artifact's bytes too), the keys and DID documents, the
# contexts and schemas. Front Door
# caches their paths (edge_pattern; infra/modules/frontdoor-routes.bicep, checked by tests/infra).
PUBLIC_READS: tuple[Route, ...] = (
    Route.RESOLVER,
    Route.RESOLVER_DESCRIPTION,
    Route.SHORT,
    Route.DPP,
    Route.BY_PRODUCT,
    Route.BY_ID_AND_DATE,
    Route.BY_PRODUCT_AND_DATE,
    Route.AAS,
    Route.VIEW,
    Route.VIEW_ARTIFACT_CONTENT,
    Route.STATUS_LIST,
    Route.KEYS,
    Route.DID_DOCUMENT,
    Route.OPERATOR_DID,
    Route.CONTEXT,
    Route.LINKSET_CONTEXT,
    Route.RELATIONS_SCHEMA,
    Route.OPENAPI,
)


def edge_pattern(route: Route) -> str:
    """The Front Door path pattern of a route: its fixed text, then `*` from its first parameter."""
    fixed, brace, _ = route.value.partition("{")
    path = prefixed(fixed)
    return path + "*" if brace else path


_PARAMETER = re.compile(r"\{\*?([A-Za-z]+)\}")
# A route's fixed text up to its first parameter: where, in a raw path, that parameter starts.
ELEMENT_MARKER = "/elements/"


def route_path(route: Route, **params: str) -> str:
    """`/api/<route>` with every parameter percent-encoded as one segment."""

    def segment(found: re.Match[str]) -> str:
        return quote(params[found.group(1)], safe="")

    return prefixed(_PARAMETER.sub(segment, route.value))


def prefixed(path: str) -> str:
    """A path relative to the route prefix (as route templates are) as the host serves it."""
    return f"/{ROUTE_PREFIX}/{path}" if ROUTE_PREFIX else f"/{path}"


@functools.cache  # asked on every request that reads an id from its path
def segment_index(route: Route, name: str) -> int:
    """Where parameter `name` sits among the path segments after the route prefix."""
    return route.value.split("/").index("{" + name + "}")


class Links:
    """Absolute URLs of this deployment, from the origin a request addressed (`https://host`)."""

    def __init__(self, request_url: str):
        parts = urlsplit(request_url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.host = parts.netloc

    def url(self, route: Route, query: dict[str, Any] | None = None, **params: str) -> str:
        url = self.origin + route_path(route, **params)
        return f"{url}?{urlencode(query)}" if query else url

    # What the core asks for (shared.publication.views.Links)

    def context(self) -> str:
        return self.url(Route.CONTEXT)

    def passport(self, dpp_id: str) -> str:
        return self.url(Route.DPP, dppId=dpp_id)

    def page(self, dpp_id: str) -> str:
        return self.url(Route.PAGE, dppId=dpp_id)

    def lite_view(self, product_id: str) -> str:
        return self.url(Route.VIEW, {"lite": "true"}, productId=product_id, version="latest")

    def passport_at(self, dpp_id: str, date: str) -> str:
        return self.url(Route.BY_ID_AND_DATE, {"date": date}, dppId=dpp_id)

    def artifact_content(self, product_id: str, version: str, artifact_type: str) -> str:
        route = Route.VIEW_ARTIFACT_CONTENT
        return self.url(route, productId=product_id, version=version, artifactType=artifact_type)

    # What the core asks for (shared.publication.untp.CredentialUrls, at the public URL)

    def status_list(self, list_id: str) -> str:
        return self.url(Route.STATUS_LIST, listId=list_id)

    # What the core asks for (shared.onboarding.jobs.JobLinks)

    def import_file(self, import_id: str) -> str:
        return self.url(Route.IMPORT_FILE, importId=import_id)

    def import_mapping(self, import_id: str) -> str:
        return self.url(Route.IMPORT_MAPPING, importId=import_id)

    def import_report(self, import_id: str, kind: str) -> str:
        return self.url(Route.IMPORT_REPORT, importId=import_id, kind=kind)

    def export_file(self, export_id: str, kind: str) -> str:
        return self.url(Route.EXPORT_FILE, exportId=export_id, kind=kind)


def own_routes(public_url: str) -> OwnRoutes:
    """The URLs of this service that name a passport or a product, for relations written as
    absolute URLs (read locally, never fetched)."""

    return OwnRoutes(
        public_url,
        by_id=(prefixed(Route.DPP.value), prefixed(Route.SHORT.value)),
        by_product=(prefixed(Route.BY_PRODUCT.value), prefixed(Route.VIEW.value)),
    )
