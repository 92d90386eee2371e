"""Readiness over HTTP: 200 with the report when every part answers, else a 503 Result naming what
does not answer, with Retry-After (like every error; a probe reads only the status)."""

from __future__ import annotations

from typing import Any

import requests

from tests.support.ports import free_port
from tests.support.results import assert_result


def test_ready_is_200_with_the_report(api: str) -> None:
    response = requests.get(f"{api}/health", timeout=30)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"cosmos": "ok"}}
    assert response.headers["Cache-Control"] == "no-store"


def test_not_ready_is_a_503_result_naming_the_part_with_retry_after() -> None:
    from functions import create_app
    from functions.routes import API, ROUTE_PREFIX
    from local.host.server import start_in_thread
    from local.stack import COSMOS_EMULATOR_KEY
    from shared.composition import Root
    from shared.platform.settings import Settings

    # Nothing listens on a free port: the store cannot be reached.
    unreachable = f"http://127.0.0.1:{free_port()}"
    config = Settings(environment="local", cosmos_endpoint=unreachable, cosmos_key=COSMOS_EMULATOR_KEY)
    server: Any
    server, base = start_in_thread(create_app(Root(config)), route_prefix=ROUTE_PREFIX)
    try:
        response = requests.get(f"{base}/{API}/health", timeout=60)
    finally:
        server.shutdown()
    message = assert_result(response, 503, "NotReady")
    assert message["text"] == "Not ready (cosmos: StoreUnavailable)"
    assert response.headers["Retry-After"] == "10"
