"""Platform: readiness for probes and for people starting the stack, the OpenAPI document, CORS."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import azure.functions as func

from functions.routes import ROUTE_PREFIX, Route
from functions.web import Adapter, conditional_response, json_response
from shared.composition import Root
from shared.documents.entity_tags import content_etag, entity_tag
from shared.platform.errors import ErrorCode, ServiceUnavailable
from shared.platform.openapi import Catalog, build_document

DESCRIPTION = Path(__file__).resolve().parent / "openapi.yaml"
OPENAPI_MAX_AGE = 300
# Seconds: each probe waits at most the store client's timeouts (shared/storage/cosmos.py).
READY_RETRY_AFTER = "10"


def read_description(path: Path = DESCRIPTION) -> dict[str, Any]:
    import yaml  # only the first OpenAPI request pays for it

    loaded: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


def blueprint(root: Root, catalog: Catalog) -> func.Blueprint:
    bp = func.Blueprint()
    web = Adapter(root, catalog)

    @web.operation(bp, Route.HEALTH, "GET")
    def health(req: func.HttpRequest) -> func.HttpResponse:
        report = root.readiness.check()
        if report["status"] != "ok":
            # A Result like every error, naming what is not answering; probes read the status.
            failing = ", ".join(
                f"{name}: {state}" for name, state in report["checks"].items() if state != "ok"
            )
            raise ServiceUnavailable(
                f"Not ready ({failing})", code=ErrorCode.NOT_READY, headers={"Retry-After": READY_RETRY_AFTER}
            )
        return json_response(report, headers={"Cache-Control": "no-store"})

    @functools.cache
    def document() -> tuple[dict[str, Any], str]:
        # Built on first use, when every area has registered: the catalog is then complete.
        built = build_document(
            catalog.operations(),
            read_description(),
            route_prefix=ROUTE_PREFIX,
            server_url=root.settings.public_url,
        )
        return built, entity_tag(content_etag(built))

    @web.operation(bp, Route.OPENAPI, "GET")
    def read_openapi_document(req: func.HttpRequest) -> func.HttpResponse:
        body, tag = document()
        return conditional_response(req, body, tag, max_age=OPENAPI_MAX_AGE)

    catalog.record("cors_preflight", Route.PREFLIGHT.value, ("OPTIONS",))

    @bp.route(route=Route.PREFLIGHT.value, methods=["OPTIONS"], auth_level=func.AuthLevel.ANONYMOUS)
    def cors_preflight(req: func.HttpRequest) -> func.HttpResponse:
        # Every route's preflight: 204 with what the caller's origin is granted (functions/cors.py).
        return web.preflight(req)

    return bp
