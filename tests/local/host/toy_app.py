"""A toy FunctionApp for the local host's own tests, and what they share to read its answers."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import azure.functions as func
import requests

from local.host.server import LocalHTTPServer

KEY = "test-functions-key-5d1c"
ANONYMOUS = func.AuthLevel.ANONYMOUS
RAW_ID = "urn%3Ax%2Fy%23z%3Fw"
SECRET_DETAIL = "boom-detail-7f3a"


class CountingApp(func.FunctionApp):
    """Counts get_functions calls: a second call raises in azure-functions 1.26."""

    def __init__(self) -> None:
        super().__init__(http_auth_level=ANONYMOUS)
        self.get_functions_calls = 0

    def get_functions(self) -> list[Any]:
        self.get_functions_calls += 1
        return super().get_functions()


def echo(req: func.HttpRequest, **extra: Any) -> func.HttpResponse:
    body = {
        "method": req.method,
        "url": req.url,
        "route": dict(req.route_params),
        "params": dict(req.params),
        "tag": req.headers.get("x-tag"),
        **extra,
    }
    return func.HttpResponse(json.dumps(body), mimetype="application/json", headers={"X-Echo": "1"})


def build_app() -> CountingApp:
    bp = func.Blueprint()

    # Registered before the literal `search` route, so only precedence can make `search` win.
    @bp.route(route="v1/items/{id}", methods=["GET"], auth_level=ANONYMOUS)
    def read_item(req: func.HttpRequest) -> func.HttpResponse:
        return echo(req, handler="read_item")

    @bp.route(route="v1/items/{id}", methods=["DELETE"], auth_level=ANONYMOUS)
    def delete_item(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("a 204 must not carry this", status_code=204)

    @bp.route(route="v1/items/search", methods=["GET"], auth_level=ANONYMOUS)
    def search_items(req: func.HttpRequest) -> func.HttpResponse:
        return echo(req, handler="search_items")

    @bp.route(route="v1/items/{id}/parts/{*path}", methods=["GET"], auth_level=ANONYMOUS)
    def read_part(req: func.HttpRequest) -> func.HttpResponse:
        return echo(req, handler="read_part")

    @bp.route(route="v1/items", methods=["POST"], auth_level=ANONYMOUS)
    def create_item(req: func.HttpRequest) -> func.HttpResponse:
        document = req.get_json()
        headers = {"Location": f"/api/v1/items/{document['id']}", "ETag": '"v1"'}
        return func.HttpResponse(
            json.dumps({"received": document, "contentType": req.headers.get("content-type")}),
            status_code=201,
            mimetype="application/json",
            headers=headers,
        )

    @bp.route(route="v1/numbers/{n:int}", methods=["GET"], auth_level=ANONYMOUS)
    def read_number(req: func.HttpRequest) -> func.HttpResponse:
        return echo(req, handler="read_number")

    @bp.route(route="v1/async/{id}", methods=["GET"], auth_level=ANONYMOUS)
    async def read_async(req: func.HttpRequest) -> func.HttpResponse:
        await asyncio.sleep(0)
        return echo(req, handler="read_async")

    @bp.route(route="v1/secret", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
    def read_secret(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("secret plans")

    @bp.route(route="v1/boom", methods=["GET"], auth_level=ANONYMOUS)
    def explode(req: func.HttpRequest) -> func.HttpResponse:
        raise RuntimeError(SECRET_DETAIL)

    @bp.route(route="v1/cached", methods=["GET"], auth_level=ANONYMOUS)
    def cached(req: func.HttpRequest) -> func.HttpResponse:
        if req.headers.get("if-none-match") == '"v7"':
            return func.HttpResponse("not for a 304", status_code=304, headers={"ETag": '"v7"'})
        return func.HttpResponse("fresh", headers={"ETag": '"v7"', "Content-Length": "999"})

    @bp.timer_trigger(schedule="0 0 * * * *", arg_name="timer", run_on_startup=False)
    def hourly(timer: func.TimerRequest) -> None:
        return None

    app = CountingApp()
    app.register_functions(bp)
    return app


HTTP_FUNCTIONS = 10


@dataclass
class Served:
    app: CountingApp
    server: LocalHTTPServer
    base: str  # with the /api prefix
    port: int


def result_message(response: requests.Response) -> dict[str, Any]:
    assert response.headers["Content-Type"] == "application/json"
    messages = response.json()["messages"]
    assert len(messages) == 1
    assert messages[0]["messageType"] == "Error"
    assert messages[0]["correlationId"]
    return messages[0]
