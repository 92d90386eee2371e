"""Bulk import: grants with upload links, progress, and the blob trigger that runs an upload."""

from __future__ import annotations

import azure.functions as func

from functions._http import api_base, endpoint, json_body, json_response, path_param, principal
from shared.imports import IMPORTS_CONTAINER, find_import, grant, public_job, run_upload, upload_links

bp = func.Blueprint()

IMPORT = "v1/imports/{importId}"


@bp.route(route="v1/imports", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@endpoint
def create_import(req: func.HttpRequest) -> func.HttpResponse:
    caller = principal(req)
    job = grant(json_body(req), caller)
    status_url = f"{api_base(req)}/v1/imports/{job['jobId']}"
    body = {**public_job(job), **upload_links(job), "statusUrl": status_url}
    return json_response(body, 201, headers={"Location": status_url})


@bp.route(route=IMPORT, methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@endpoint
def read_import(req: func.HttpRequest) -> func.HttpResponse:
    job = find_import(path_param(req, IMPORT, "importId"), principal(req))
    return json_response(public_job(job), headers={"Cache-Control": "private, no-store"})


@bp.blob_trigger(
    arg_name="upload",
    path=f"{IMPORTS_CONTAINER}/{{name}}",
    connection="AzureWebJobsStorage",
    # Flex Consumption supports only the Event Grid source; locally the host lists new blobs.
    source=func.BlobSource.EVENT_GRID,
)
def import_upload(upload: func.InputStream) -> None:
    blob_name = (upload.name or "").removeprefix(f"{IMPORTS_CONTAINER}/")
    run_upload(blob_name, upload, dict(upload.metadata or {}))
