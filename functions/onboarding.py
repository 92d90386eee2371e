"""Onboarding: bulk import grants with upload links, export jobs, their progress, the routes that
move their files through the app (DPP_STORAGE_LINKS=app), and the blob triggers that run them.
Each function calls `shared.onboarding` directly."""

from __future__ import annotations

import logging
from typing import Any, Protocol

import azure.functions as func

from functions.routes import Route
from functions.web import PRIVATE, Adapter, blob_response, json_response, path_param
from shared.access.authentication import Principal
from shared.composition import Root
from shared.onboarding.exports import EXPORTS_CONTAINER, REQUESTS_PREFIX
from shared.onboarding.imports import FILE, IMPORTS_CONTAINER, MAPPING
from shared.onboarding.jobs import JobLinks
from shared.platform.openapi import Catalog

log = logging.getLogger(__name__)
# Every five minutes, at second 30 (NCRONTAB): a job is never running longer than its lease plus this.
SWEEP_SCHEDULE = "30 */5 * * * *"
# A job's files are one operator's data: never kept by any cache.
NO_STORE = {"Cache-Control": "no-store"}


class Jobs(Protocol):
    """What imports and exports both answer: a job by id for its owner, and its status view."""

    def find(self, job_id: str, principal: Principal, /) -> Any: ...

    def status(self, job: Any, links: JobLinks, /) -> dict[str, Any]: ...


def blob_trigger(bp: func.Blueprint, arg_name: str, prefix: str) -> Any:
    """A function run for every blob created under `<container>/<prefix>`, as its `arg_name`."""
    return bp.blob_trigger(
        arg_name=arg_name,
        path=prefix + "{name}",
        connection="AzureWebJobsStorage",
        # Flex Consumption supports only the Event Grid source; locally the host lists new blobs.
        source=func.BlobSource.EVENT_GRID,
    )


def blueprint(root: Root, catalog: Catalog) -> func.Blueprint:
    bp = func.Blueprint()
    web = Adapter(root, catalog)

    def job_status(req: func.HttpRequest, route: Route, name: str, jobs: Jobs) -> func.HttpResponse:
        """A job as its owner (or an authority) sees it; never stored by a cache."""
        job = jobs.find(path_param(req, route, name), web.principal(req))
        return json_response(jobs.status(job, web.links(req)), headers=PRIVATE)

    def receive(req: func.HttpRequest, route: Route, part: str) -> func.HttpResponse:
        """An upload to the app: stored as the blob the SAS link would have written (the blob
        trigger then runs it); `x-ms-blob-type` is taken as a SAS upload sends it, and ignored."""
        import_id = path_param(req, route, "importId")
        mapping = req.headers.get("x-ms-meta-mapping")
        job = root.imports.receive(import_id, part, req.get_body() or b"", web.principal(req), mapping)
        return json_response(root.imports.status(job, web.links(req)), 201, headers=PRIVATE)

    # -- imports ---------------------------------------------------------------------------------

    @web.operation(bp, Route.IMPORTS, "POST")
    def create_import(req: func.HttpRequest) -> func.HttpResponse:
        caller = web.principal(req)
        imports = root.imports
        job = imports.grant(web.json_body(req), caller)
        links = web.links(req)
        status_url = links.url(Route.IMPORT, importId=job["jobId"])
        body = {**imports.status(job, links), **imports.upload_links(job, links), "statusUrl": status_url}
        return json_response(body, 201, headers={"Location": status_url})

    @web.operation(bp, Route.IMPORT, "GET")
    def read_import(req: func.HttpRequest) -> func.HttpResponse:
        return job_status(req, Route.IMPORT, "importId", root.imports)

    @web.operation(bp, Route.IMPORT_FILE, "PUT")
    def upload_import_file(req: func.HttpRequest) -> func.HttpResponse:
        return receive(req, Route.IMPORT_FILE, FILE)

    @web.operation(bp, Route.IMPORT_MAPPING, "PUT")
    def upload_import_mapping(req: func.HttpRequest) -> func.HttpResponse:
        return receive(req, Route.IMPORT_MAPPING, MAPPING)

    @web.operation(bp, Route.IMPORT_REPORT, "GET")
    def read_import_report(req: func.HttpRequest) -> func.HttpResponse:
        import_id = path_param(req, Route.IMPORT_REPORT, "importId")
        kind = path_param(req, Route.IMPORT_REPORT, "kind")
        return blob_response(root.imports.report(import_id, kind, web.principal(req)), NO_STORE)

    @blob_trigger(bp, "upload", f"{IMPORTS_CONTAINER}/")
    def import_upload(upload: func.InputStream) -> None:
        blob_name = (upload.name or "").removeprefix(f"{IMPORTS_CONTAINER}/")
        root.imports.run(blob_name, upload, dict(getattr(upload, "metadata", None) or {}))

    # -- exports ---------------------------------------------------------------------------------

    @web.operation(bp, Route.EXPORTS, "POST")
    def create_export(req: func.HttpRequest) -> func.HttpResponse:
        caller = web.principal(req)
        job = root.exports.request(web.optional_json_body(req), caller)
        links = web.links(req)
        status_url = links.url(Route.EXPORT, exportId=job["jobId"])
        body = {**root.exports.status(job, links), "statusUrl": status_url}
        return json_response(body, 202, headers={"Location": status_url})

    @web.operation(bp, Route.EXPORT, "GET")
    def read_export_job(req: func.HttpRequest) -> func.HttpResponse:
        return job_status(req, Route.EXPORT, "exportId", root.exports)

    @web.operation(bp, Route.EXPORT_FILE, "GET")
    def read_export_file(req: func.HttpRequest) -> func.HttpResponse:
        export_id = path_param(req, Route.EXPORT_FILE, "exportId")
        kind = path_param(req, Route.EXPORT_FILE, "kind")
        return blob_response(root.exports.download(export_id, kind, web.principal(req)), NO_STORE)

    @blob_trigger(bp, "request", f"{EXPORTS_CONTAINER}/{REQUESTS_PREFIX}")
    def export_request(request: func.InputStream) -> None:
        root.exports.run((request.name or "").removeprefix(f"{EXPORTS_CONTAINER}/"))

    # -- no job left hanging -----------------------------------------------------------------------

    @bp.timer_trigger(schedule=SWEEP_SCHEDULE, arg_name="timer", run_on_startup=False)
    def job_sweeper(timer: func.TimerRequest) -> None:
        counts = root.sweeper.sweep()
        level = logging.WARNING if counts else logging.DEBUG
        log.log(level, "Job sweeper%s: %s", " (past due)" if timer.past_due else "", counts)

    return bp
