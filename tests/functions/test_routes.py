"""The route table is the one source of the app's routes and of every URL it writes."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from functions import routes
from functions.routes import Links, Route, route_path
from tests.support.documents import REPO

ROUTE_TEXT = ("v1/", "/api/", "did.json", "dpp.jsonld")
# Strings that look like routes but are not this service's: the did:web method resolves any DID
# to `<path>/did.json` (W3C did:web), whoever serves it (tests/integrity/test_did.py ties ours to
# the route table).
# Akeneo's REST API paths are the PIM's (shared/connectors/akeneo.py), as Akeneo documents them.
NOT_ROUTES = {
    ("shared/integrity/did.py", "/did.json"),
    ("shared/connectors/akeneo.py", "/api/oauth/v1/token"),
    ("shared/connectors/akeneo.py", "/api/rest/v1"),
}


def test_every_http_function_serves_a_route_of_the_table_and_every_route_is_served() -> None:
    from functions import create_app
    from local.host.functions_index import registered_functions, trigger_of
    from shared.composition import Root
    from shared.platform.settings import Settings

    served = set()
    for function in registered_functions(create_app(Root(Settings()))):
        trigger = trigger_of(function, "httpTrigger")
        if trigger is not None:
            assert trigger.route in {route.value for route in Route}, function.get_function_name()
            served.add(trigger.route)
    assert served == {route.value for route in Route}


@pytest.mark.parametrize(
    ("prefix", "expected"), [("", "/api/v1/dpps/a%2Fb%23c"), ("dpp", "/dpp/api/v1/dpps/a%2Fb%23c")]
)
def test_paths_take_the_host_json_prefix_and_one_segment_per_id(
    monkeypatch: pytest.MonkeyPatch, prefix: str, expected: str
) -> None:
    monkeypatch.setattr(routes, "ROUTE_PREFIX", prefix)
    assert route_path(Route.DPP, dppId="a/b#c") == expected


def test_links_are_absolute_on_the_origin_the_request_addressed(monkeypatch: pytest.MonkeyPatch) -> None:
    links = Links("https://dpp.example.com:8443/api/v1/dpps/x?representation=full")
    assert links.passport("urn:a:b") == "https://dpp.example.com:8443/api/v1/dpps/urn%3Aa%3Ab"
    assert links.context() == "https://dpp.example.com:8443/api/v1/contexts/dpp.jsonld"
    assert (
        links.passport_at("d/1", "2026-01-02T03:04:05.006Z")
        == "https://dpp.example.com:8443/api/v1/dppsByIdAndDate/d%2F1?date=2026-01-02T03%3A04%3A05.006Z"
    )
    registration = links.url(Route.REGISTRATION, dppId="d 1")
    assert registration == "https://dpp.example.com:8443/api/v1/registrations/d%201"
    monkeypatch.setattr(routes, "ROUTE_PREFIX", "dpp")
    # A prefix goes before the API's own first segment.
    assert (
        links.url(Route.REGISTRATION, dppId="d") == "https://dpp.example.com:8443/dpp/api/v1/registrations/d"
    )


def test_the_prefix_is_read_from_host_json(tmp_path: Path) -> None:
    # Empty, so the GS1 resolver answers at the host root; the API routes carry `api/` themselves.
    assert routes.ROUTE_PREFIX == ""
    root_level = {Route.PREFLIGHT, Route.RESOLVER, Route.RESOLVER_DESCRIPTION, Route.SHORT}
    assert all(route.value.startswith(routes.API + "/") for route in Route if route not in root_level)
    from shared.integrity.did import API_PREFIX

    assert API_PREFIX == routes.API  # the service's DID names the API's path
    custom = tmp_path / "host.json"
    custom.write_text('{"version": "2.0", "extensions": {"http": {"routePrefix": "/dpp/"}}}')
    assert routes.read_route_prefix(custom) == "dpp"
    custom.write_text('{"version": "2.0"}')
    assert routes.read_route_prefix(custom) == "api"


def _string_constants(path: Path) -> list[tuple[int, str]]:
    """The string literals of a module's code; docstrings are prose, not URLs being built."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    documented = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, documented)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def _route_strings(paths: list[Path]) -> list[Any]:
    return [
        (str(path.relative_to(REPO)), line, text)
        for path in paths
        for line, text in _string_constants(path)
        if any(fragment in text for fragment in ROUTE_TEXT)
        and (str(path.relative_to(REPO)), text) not in NOT_ROUTES
    ]


def test_no_route_strings_outside_the_route_table() -> None:
    core = sorted((REPO / "shared").rglob("*.py"))
    adapters = [path for path in sorted((REPO / "functions").rglob("*.py")) if path.name != "routes.py"]
    assert core and adapters
    assert _route_strings(core + adapters) == []


def test_the_route_check_finds_a_route_string(tmp_path: Path) -> None:
    planted = REPO / "shared" / "_planted_route_for_test.py"
    planted.write_text('URL = "/api/v1/dpps/{dppId}"\n')
    try:
        assert [text for _, _, text in _route_strings([planted])] == ["/api/v1/dpps/{dppId}"]
    finally:
        planted.unlink()


def test_the_service_recognises_its_own_passport_urls_from_the_route_table() -> None:
    from shared.publication.targets import locate

    public = "https://dpp.example.com"
    own = routes.own_routes(public)
    links = routes.Links(public + "/anything")
    dpp_id, product = "urn:acme:dpp/1#x", "https://id.example.org/acme/item/7"
    by_id = [links.url(Route.DPP, dppId=dpp_id), links.url(Route.SHORT, dppId=dpp_id), links.page(dpp_id)]
    for url in by_id:
        assert (locate(url, own).dpp_id, locate(url, own).remote) == (dpp_id, None), url
    found = locate(links.url(Route.BY_PRODUCT, productId=product), own)
    assert (found.product, found.label) == (product, None)
    older = locate(links.url(Route.VIEW, productId=product, version="v1.0.0"), own)
    assert (older.product, older.label) == (product, "v1.0.0")
    assert locate(links.lite_view(product), own).label is None  # `latest`
    nothing = locate(links.url(Route.KEYS), own)
    assert (nothing.product, nothing.dpp_id, nothing.remote) == (None, None, None)
    elsewhere = "https://other.example" + routes.route_path(Route.DPP, dppId=dpp_id)
    assert locate(elsewhere, own).remote == elsewhere
