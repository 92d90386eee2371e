"""What the host reads of an app (local/host/functions_index.py): the route prefix of the host.json
next to the module holding the app."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from local.host.routing import LocalFunctionsHost


def test_route_prefix_comes_from_host_json_next_to_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "host.json").write_text(json.dumps({"extensions": {"http": {"routePrefix": "/custom/"}}}))
    (tmp_path / "prefixed_toy_app.py").write_text(
        textwrap.dedent(
            """
            import azure.functions as func

            app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

            @app.route(route="ping", methods=["GET"])
            def ping(req: func.HttpRequest) -> func.HttpResponse:
                return func.HttpResponse("pong")
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "prefixed_toy_app", raising=False)
    from prefixed_toy_app import app  # type: ignore[import-not-found]

    host = LocalFunctionsHost(app)
    assert host.route_prefix == "custom"
    assert host.handle("GET", "/custom/ping", {}, b"", "http://h").get_body() == b"pong"
    unprefixed = host.handle("GET", "/api/ping", {}, b"", "http://h")
    assert (unprefixed.status_code, json.loads(unprefixed.get_body())["messages"][0]["code"]) == (
        404,
        "NotFound",
    )
    monkeypatch.delitem(sys.modules, "prefixed_toy_app")
