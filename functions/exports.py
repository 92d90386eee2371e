"""JSON export of an operator's passports: jobs, progress and download links."""

from __future__ import annotations

import azure.functions as func

from functions._http import api_base, endpoint, json_body, json_response, path_param, principal
from shared.exports import (
    EXPORTS_CONTAINER,
    REQUESTS_PREFIX,
    public_export,
    read_export,
    request_export,
    run_export,
)

bp = func.Blueprint()

EXPORT = "v1/exports/{exportId}"


@bp.route(route="v1/exports", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@endpoint
def create_export(req: func.HttpRequest) -> func.HttpResponse:
    caller = principal(req)
    body = json_body(req) if (req.get_body() or b"").strip() else {}
    job = request_export(body, caller)
    status_url = f"{api_base(req)}/v1/exports/{job['jobId']}"
    return json_response(
        {**public_export(job), "statusUrl": status_url}, 202, headers={"Location": status_url}
    )


@bp.route(route=EXPORT, methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@endpoint
def read_export_job(req: func.HttpRequest) -> func.HttpResponse:
    job = read_export(path_param(req, EXPORT, "exportId"), principal(req))
    return json_response(public_export(job), headers={"Cache-Control": "private, no-store"})


@bp.blob_trigger(
    arg_name="request",
    path=f"{EXPORTS_CONTAINER}/{REQUESTS_PREFIX}{{name}}",
    connection="AzureWebJobsStorage",
    source=func.BlobSource.EVENT_GRID,
)
def export_request(request: func.InputStream) -> None:
    run_export((request.name or "").removeprefix(f"{EXPORTS_CONTAINER}/"))
