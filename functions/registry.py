"""EN 18222 RegisterProductDPP, the registration record, and the outbox timer that delivers it.

Adapters only: parse, call `shared.registry`, shape the response.
"""

from __future__ import annotations

import functools
import json
import logging
from typing import Any
from urllib.parse import quote, urlsplit

import azure.functions as func

from functions._http import (
    ROUTE_PREFIX,
    Handler,
    endpoint,
    json_body,
    json_response,
    passport_url,
    path_param,
    principal,
)
from shared import registry
from shared.errors import utc_timestamp

log = logging.getLogger("dpp.registry")

bp = func.Blueprint()
ANON = func.AuthLevel.ANONYMOUS

REGISTER = "v1/registerDPP"
REGISTRATION = "v1/registrations/{dppId}"
OUTBOX_SCHEDULE = "0 */1 * * * *"  # every minute, at second 0 (NCRONTAB)


def _registration_url(req: func.HttpRequest, dpp_id: str) -> str:
    parts = urlsplit(req.url)
    return f"{parts.scheme}://{parts.netloc}/{ROUTE_PREFIX}/v1/registrations/{quote(dpp_id, safe='')}"


def _correlated(handler: Handler) -> Handler:
    """Give the Info/Warning messages of a success body the correlation id `endpoint` echoes."""

    @functools.wraps(handler)
    def wrapper(req: func.HttpRequest) -> func.HttpResponse:
        response = handler(req)
        cid = response.headers.get("x-correlation-id")
        if response.status_code >= 300 or not cid:
            return response
        body = json.loads(response.get_body())
        for message in body.get("messages", []):
            message["correlationId"] = cid
        return json_response(body, response.status_code, dict(response.headers))

    return wrapper


def _messages(messages: list[dict[str, str]]) -> list[dict[str, Any]]:
    return [{**message, "correlationId": None, "timestamp": utc_timestamp()} for message in messages]


@bp.route(route=REGISTER, methods=["POST"], auth_level=ANON)
@_correlated
@endpoint
def register_dpp(req: func.HttpRequest) -> func.HttpResponse:
    caller = principal(req)
    registry.check_registrar(caller)  # 401/403 before the body is read
    result = registry.register(json_body(req), caller, lambda dpp_id: passport_url(req, dpp_id))
    body = {"registration": result.record, "messages": _messages(result.messages)}
    headers = {"Location": _registration_url(req, result.record["dppId"])}
    return json_response(body, result.status, headers)


@bp.route(route=REGISTRATION, methods=["GET"], auth_level=ANON)
@endpoint
def read_registration(req: func.HttpRequest) -> func.HttpResponse:
    record = registry.read_registration(path_param(req, REGISTRATION, "dppId"), principal(req))
    return json_response({"registration": record}, 200, {"Cache-Control": "no-store"})


@bp.timer_trigger(schedule=OUTBOX_SCHEDULE, arg_name="timer", run_on_startup=False)
def registry_outbox(timer: func.TimerRequest) -> None:
    counts = registry.deliver_due()
    level = logging.INFO if any(counts.values()) or timer.past_due else logging.DEBUG
    log.log(level, "Registry outbox%s: %s", " (past due)" if timer.past_due else "", counts)
