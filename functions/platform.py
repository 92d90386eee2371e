"""Platform: readiness for probes and for people starting the stack."""

from __future__ import annotations

import azure.functions as func

from functions.routes import Route
from functions.web import json_response, operation
from shared.composition import Root


def blueprint(root: Root) -> func.Blueprint:
    bp = func.Blueprint()

    @operation(bp, Route.HEALTH, "GET")
    def health(req: func.HttpRequest) -> func.HttpResponse:
        report = root.readiness.check()
        return json_response(report, 200 if report["status"] == "ok" else 503)

    return bp
