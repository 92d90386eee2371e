"""Liveness and readiness for probes and for people starting the stack."""

from __future__ import annotations

import azure.functions as func

from functions._http import endpoint, json_response
from shared.health import check_readiness

bp = func.Blueprint()


@bp.route(route="health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@endpoint
def health(req: func.HttpRequest) -> func.HttpResponse:
    report = check_readiness()
    return json_response(report, 200 if report["status"] == "ok" else 503)
