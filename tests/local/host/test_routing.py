"""Routing (local/host/routing.py): templates, precedence, methods, keys and dispatch, over real HTTP
against the toy app (conftest.py)."""

from __future__ import annotations

import json
import logging
from typing import Any

import azure.functions as func
import pytest
import requests

from local.host.routing import LocalFunctionsHost, parse_template
from tests.local.host.toy_app import (
    HTTP_FUNCTIONS,
    KEY,
    RAW_ID,
    SECRET_DETAIL,
    Served,
    build_app,
    result_message,
)
from tests.support.results import assert_result


def test_routes_come_from_one_get_functions_call(served: Served, session: requests.Session) -> None:
    assert session.get(f"{served.base}/v1/items/a").status_code == 200
    assert session.get(f"{served.base}/v1/items/search").status_code == 200
    host = served.server.functions_host
    assert served.app.get_functions_calls == 1
    assert len(host.routes) == HTTP_FUNCTIONS
    assert [f.get_function_name() for f in host.non_http_functions] == ["hourly"]
    assert host.route_prefix == "api"  # no host.json next to a module holding this app


def test_route_params_are_decoded_once_and_url_stays_raw(served: Served, session: requests.Session) -> None:
    url = f"{served.base}/v1/items/{RAW_ID}?x=1&x=2&y=a%20b&empty="
    response = session.get(url)
    assert response.status_code == 200
    body = response.json()
    assert body["handler"] == "read_item"
    assert body["route"] == {"id": "urn:x/y#z?w"}
    assert body["url"] == url
    assert body["params"] == {"x": "2", "y": "a b", "empty": ""}
    assert body["method"] == "GET"


def test_catch_all_takes_the_rest_of_the_path(served: Served, session: requests.Session) -> None:
    response = session.get(f"{served.base}/v1/items/{RAW_ID}/parts/a/b%2Fc/d%20e")
    assert response.json()["handler"] == "read_part"
    assert response.json()["route"] == {"id": "urn:x/y#z?w", "path": "a/b/c/d e"}
    empty = session.get(f"{served.base}/v1/items/abc/parts")
    assert empty.json()["handler"] == "read_part"
    assert empty.json()["route"] == {"id": "abc"}


def test_literal_segment_beats_parameter(served: Served, session: requests.Session) -> None:
    assert session.get(f"{served.base}/v1/items/search").json()["handler"] == "search_items"
    assert session.get(f"{served.base}/v1/items/SEARCH").json()["handler"] == "search_items"
    other = session.get(f"{served.base}/v1/items/search2").json()
    assert (other["handler"], other["route"]) == ("read_item", {"id": "search2"})


def test_int_constraint_is_enforced(served: Served, session: requests.Session) -> None:
    assert session.get(f"{served.base}/v1/numbers/-12").json()["route"] == {"n": "-12"}
    assert_result(session.get(f"{served.base}/v1/numbers/twelve"), 404, "NotFound")


def test_wrong_method_is_405_with_allow_and_result_body(served: Served, session: requests.Session) -> None:
    response = session.put(f"{served.base}/v1/items/abc", data=b"{}")
    assert response.status_code == 405
    assert response.headers["Allow"] == "DELETE, GET, HEAD"
    assert result_message(response)["code"] == "MethodNotAllowed"
    post_only = session.get(f"{served.base}/v1/items")
    assert (post_only.status_code, post_only.headers["Allow"]) == (405, "POST")


def test_unknown_path_is_404_result(served: Served, session: requests.Session) -> None:
    for url in (f"{served.base}/v1/nothing/here", f"{served.base[: -len('/api')]}/v1/items/abc"):
        assert_result(session.get(url), 404, "NotFound")  # a Result with its correlation id header
    assert_result(session.get(f"{served.base}/hourly"), 404, "NotFound")  # timer functions are not routed


def test_function_level_route_needs_the_key(served: Served, session: requests.Session) -> None:
    url = f"{served.base}/v1/secret"
    missing = session.get(url)
    assert missing.status_code == 401
    assert result_message(missing)["code"] == "Unauthorized"
    assert_result(session.get(url, headers={"x-functions-key": "wrong"}), 401, "Unauthorized")
    with_header = session.get(url, headers={"x-functions-key": KEY})
    assert (with_header.status_code, with_header.text) == (200, "secret plans")
    assert session.get(url, params={"code": KEY}).status_code == 200


def test_failure_is_500_without_details_and_logged(
    served: Served, session: requests.Session, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="local.host"):
        response = session.get(f"{served.base}/v1/boom")
    assert response.status_code == 500
    message = result_message(response)
    assert message["code"] == "InternalServerError"
    for leak in (SECRET_DETAIL, "Traceback", "RuntimeError", "test_local_host.py"):
        assert leak not in response.text
    logged = [r for r in caplog.records if r.exc_info and SECRET_DETAIL in str(r.exc_info[1])]
    assert len(logged) == 1
    assert message["correlationId"] in logged[0].getMessage()


def test_response_status_headers_and_body_pass_through(served: Served, session: requests.Session) -> None:
    response = session.post(f"{served.base}/v1/items", json={"id": "p-1", "n": 3})
    assert response.status_code == 201
    assert response.headers["Location"] == "/api/v1/items/p-1"
    assert response.headers["ETag"] == '"v1"'
    assert response.headers["Content-Type"] == "application/json"
    assert int(response.headers["Content-Length"]) == len(response.content)
    assert response.json() == {"received": {"id": "p-1", "n": 3}, "contentType": "application/json"}
    text = session.get(f"{served.base}/v1/secret", params={"code": KEY})
    assert text.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_async_function_is_awaited(served: Served, session: requests.Session) -> None:
    response = session.get(f"{served.base}/v1/async/x1")
    assert response.status_code == 200
    assert response.json()["handler"] == "read_async"
    assert response.json()["route"] == {"id": "x1"}


def test_explicit_empty_prefix_and_default_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOCAL_FUNCTIONS_KEY", raising=False)
    host = LocalFunctionsHost(build_app(), route_prefix="")
    assert host.functions_key == "local-dev-key"
    assert host.handle("GET", "/v1/secret?code=local-dev-key", {}, b"", "http://h").status_code == 200
    response = host.handle("GET", "/v1/items/a%2Fb", {}, b"", "http://h:1")
    assert json.loads(response.get_body())["url"] == "http://h:1/v1/items/a%2Fb"


def test_template_syntax_errors_are_reported() -> None:
    with pytest.raises(ValueError, match="catch-all"):
        parse_template("v1/{*rest}/tail")
    with pytest.raises(ValueError, match="optional"):
        parse_template("v1/{id?}/tail")
    with pytest.raises(ValueError, match="not supported"):
        parse_template("v1/file.{ext}")


def test_head_answers_like_get_without_body(served: Served, session: requests.Session) -> None:
    url = f"{served.base}/v1/items/abc"
    get = session.get(url)
    head = session.head(url)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["Content-Length"] == str(len(get.content))
    assert head.headers["X-Echo"] == "1"


def _index_app() -> func.FunctionApp:
    """Templates of every kind the index files differently: literals only, parameters, optional
    segments, a catch-all at the root and one deeper, in mixed case."""
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
    templates = [
        "v1/Items",
        "v1/items/{id}",
        "v1/items/search",
        "v1/items/{id}/parts/{*path}",
        "v1/{kind}/latest",
        "v1/reports/{year?}",
        "v1/reports/{year}/{month?}",
        "{*anything}",
        "V2/{id:int}",
    ]
    for position, template in enumerate(templates):
        app.route(route=template, methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)(
            _named(f"f{position}")
        )
    return app


def _named(name: str) -> Any:
    def function(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse(name)

    function.__name__ = name
    return function


@pytest.mark.parametrize(
    "path",
    [
        "",
        "v1",
        "v1/items",
        "V1/ITEMS",
        "v1/items/x",
        "v1/Items/Search",
        "v1/items/search/x",
        "v1/items/x/parts",
        "v1/items/x/parts/a/b",
        "v1/things/latest",
        "v1/items/latest",
        "v1/reports",
        "v1/reports/2026",
        "v1/reports/2026/12",
        "v1/reports/2026/12/1",
        "v2/12",
        "v2/x",
        "other",
        "a/b/c/d/e/f",
        "v1/items/%2F/parts/c",
    ],
)
def test_the_route_index_offers_every_route_a_full_scan_would_match(path: str) -> None:
    """`candidates` narrows the table by leading literals and length: the routes that match
    among them, in order, must be exactly those a scan of the whole table finds."""
    from urllib.parse import unquote

    host = LocalFunctionsHost(_index_app(), route_prefix="")
    raw = path.split("/") if path else []
    decoded = [unquote(segment) for segment in raw]
    everywhere = [route.name for route in host.routes if route.match(raw, decoded) is not None]
    narrowed = [route.name for route in host.candidates(decoded) if route.match(raw, decoded) is not None]
    assert everywhere, "every path matches the root catch-all at least"
    assert narrowed == everywhere
