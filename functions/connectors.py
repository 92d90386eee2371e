"""PIM connectors: a sync on demand, its progress, and the timer that runs what is due.
Each function calls `shared.connectors` directly."""

from __future__ import annotations

import logging

import azure.functions as func

from functions.routes import Route
from functions.web import PRIVATE, Adapter, blob_response, json_response, path_param
from shared.composition import Root
from shared.platform.openapi import Catalog

log = logging.getLogger(__name__)
# Every minute, at second 15 (NCRONTAB): a sync asked for on demand starts within a minute, and
# each connector's own interval decides when its scheduled syncs run.
SYNC_SCHEDULE = "15 * * * * *"


def blueprint(root: Root, catalog: Catalog) -> func.Blueprint:
    bp = func.Blueprint()
    web = Adapter(root, catalog)

    def report_url(req: func.HttpRequest, connector_id: str, sync_id: str) -> str:
        return web.links(req).url(Route.CONNECTOR_SYNC_REPORT, connectorId=connector_id, syncId=sync_id)

    @web.operation(bp, Route.CONNECTOR_SYNCS, "POST")
    def request_connector_sync(req: func.HttpRequest) -> func.HttpResponse:
        caller = web.principal(req)
        connector_id = path_param(req, Route.CONNECTOR_SYNCS, "connectorId")
        connectors = root.connectors
        job = connectors.request(connector_id, web.optional_json_body(req), caller)
        status_url = web.links(req).url(Route.CONNECTOR_SYNC, connectorId=connector_id, syncId=job["jobId"])
        body = {
            **connectors.status(job, report_url(req, connector_id, job["jobId"])),
            "statusUrl": status_url,
        }
        return json_response(body, 202, headers={"Location": status_url, **PRIVATE})

    @web.operation(bp, Route.CONNECTOR_SYNC, "GET")
    def read_connector_sync(req: func.HttpRequest) -> func.HttpResponse:
        connector_id = path_param(req, Route.CONNECTOR_SYNC, "connectorId")
        sync_id = path_param(req, Route.CONNECTOR_SYNC, "syncId")
        job = root.connectors.find(connector_id, sync_id, web.principal(req))
        return json_response(
            root.connectors.status(job, report_url(req, connector_id, sync_id)), headers=PRIVATE
        )

    @web.operation(bp, Route.CONNECTOR_SYNC_REPORT, "GET")
    def read_connector_sync_report(req: func.HttpRequest) -> func.HttpResponse:
        connector_id = path_param(req, Route.CONNECTOR_SYNC_REPORT, "connectorId")
        sync_id = path_param(req, Route.CONNECTOR_SYNC_REPORT, "syncId")
        return blob_response(root.connectors.report(connector_id, sync_id, web.principal(req)), PRIVATE)

    @bp.timer_trigger(schedule=SYNC_SCHEDULE, arg_name="timer", run_on_startup=False)
    def connector_syncs(timer: func.TimerRequest) -> None:
        if not root.settings.connectors.strip():
            return
        outcomes = root.connectors.tick()
        ran = {cid: outcome for cid, outcome in outcomes.items() if outcome != "not due"}
        level = logging.INFO if ran or timer.past_due else logging.DEBUG
        log.log(level, "Connector syncs%s: %s", " (past due)" if timer.past_due else "", ran)

    return bp
