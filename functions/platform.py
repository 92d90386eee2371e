"""Platform: readiness for probes and for people starting the stack."""

from __future__ import annotations

import azure.functions as func

from functions.routes import Route
from functions.web import Adapter, json_response
from shared.composition import Root


def blueprint(root: Root) -> func.Blueprint:
    bp = func.Blueprint()
    web = Adapter(root)

    @web.operation(bp, Route.HEALTH, "GET")
    def health(req: func.HttpRequest) -> func.HttpResponse:
        report = root.readiness.check()
        return json_response(report, 200 if report["status"] == "ok" else 503)

    @bp.route(route=Route.PREFLIGHT.value, methods=["OPTIONS"], auth_level=func.AuthLevel.ANONYMOUS)
    def cors_preflight(req: func.HttpRequest) -> func.HttpResponse:
        # Every route's preflight: 204 with what the caller's origin is granted (functions/cors.py).
        return web.preflight(req)

    return bp
