"""The route table, and every absolute URL the service writes, built from it in one place.

Templates are relative to host.json's route prefix (`api`), as Azure Functions routes are.
Path parameters are percent-encoded as ONE segment each, so ids holding `/ : # ?` stay whole.
"""

from __future__ import annotations

import json
import re
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

HOST_JSON = Path(__file__).resolve().parent.parent / "host.json"


def read_route_prefix(host_json: Path = HOST_JSON) -> str:
    """`extensions.http.routePrefix` of host.json; "api", Functions' default, without one."""
    host = json.loads(host_json.read_text(encoding="utf-8"))
    return str(host.get("extensions", {}).get("http", {}).get("routePrefix", "api")).strip("/")


ROUTE_PREFIX = read_route_prefix()


class Route(StrEnum):
    # passports: EN 18222 life cycle, fine granular elements, artifacts, history
    DPPS = "v1/dpps"
    DPP = "v1/dpps/{dppId}"
    BY_PRODUCT = "v1/dppsByProductId/{productId}"
    BY_ID_AND_DATE = "v1/dppsByIdAndDate/{dppId}"
    BY_PRODUCT_AND_DATE = "v1/dppsByProductIdAndDate/{productId}"
    IDS_BY_PRODUCT_IDS = "v1/dppsByProductIds"
    REVOKE = "v1/dpps/{dppId}/revoke"
    PUBLISH = "v1/dpps/{dppId}/publish"
    ELEMENT = "v1/dpps/{dppId}/elements/{*elementPath}"
    LIFECYCLE = "v1/dpps/{dppId}/lifecycle"
    ACCESS_POLICY = "v1/dpps/{dppId}/accessPolicy"
    ARTIFACTS = "v1/dpps/{dppId}/artifacts"
    ARTIFACT_UPLOAD = "v1/dpps/{dppId}/artifacts/{artifactType}"
    HISTORY = "v1/dpps/{dppId}/history"
    VERIFY = "v1/verify"
    # access: the operator registry
    OPERATOR = "v1/operators/{operatorId}"
    # integrity: the keys that sign, and the issuer's DID document
    KEYS = "v1/keys"
    DID_DOCUMENT = "did.json"
    OPERATOR_DID = "v1/operators/{operatorId}/did.json"
    # publication: the seed contract's JSON-LD views, search, the registry
    CONTEXT = "v1/contexts/dpp.jsonld"
    SEARCH = "v1/dpp/search"
    VIEW = "v1/dpp/{productId}/{version}"
    VIEW_STATUS = "v1/dpp/{productId}/{version}/status"
    VIEW_ARTIFACT = "v1/dpp/{productId}/{version}/artifact/{artifactType}"
    REGISTER = "v1/registerDPP"
    REGISTRATION = "v1/registrations/{dppId}"
    # onboarding
    IMPORTS = "v1/imports"
    IMPORT = "v1/imports/{importId}"
    EXPORTS = "v1/exports"
    EXPORT = "v1/exports/{exportId}"
    # platform
    HEALTH = "health"
    PREFLIGHT = "{*path}"  # OPTIONS only: the CORS preflight of every route


_PARAMETER = re.compile(r"\{\*?([A-Za-z]+)\}")
# A route's fixed text up to its first parameter: where, in a raw path, that parameter starts.
ELEMENT_MARKER = "/elements/"


def route_path(route: Route, **params: str) -> str:
    """`/api/<route>` with every parameter percent-encoded as one segment."""

    def segment(found: re.Match[str]) -> str:
        return quote(params[found.group(1)], safe="")

    path = _PARAMETER.sub(segment, route.value)
    return f"/{ROUTE_PREFIX}/{path}" if ROUTE_PREFIX else f"/{path}"


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

    def passport_at(self, dpp_id: str, date: str) -> str:
        return self.url(Route.BY_ID_AND_DATE, {"date": date}, dppId=dpp_id)
