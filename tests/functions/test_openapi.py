"""The OpenAPI 3.1 document at /api/openapi.json: valid by an outside validator, and exactly the
route table the host serves (every route, every method, nothing else)."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from openapi_spec_validator import validate

from shared.platform.openapi import Catalog, DescriptionError, Operation, build_document, openapi_path

DESCRIPTION = {
    "info": {"title": "t", "version": "1"},
    "components": {"parameters": {"dppId": {"name": "dppId", "in": "path", "required": True}}},
    "operations": {
        "read": {"access": "optional", "responses": {"200": {"description": "ok"}}, "errors": [404]},
        "edit": {"access": "bearer", "responses": {"200": {"description": "ok"}}},
    },
}


@pytest.fixture(scope="module")
def served(api: str) -> requests.Response:
    return requests.get(f"{api}/openapi.json", timeout=30)


def test_the_document_is_valid_openapi_3_1(served: requests.Response) -> None:
    assert served.status_code == 200
    assert served.headers["Content-Type"].startswith("application/json")
    document = served.json()
    assert document["openapi"] == "3.1.0"
    validate(document)  # openapi-spec-validator, against the OpenAPI 3.1 meta-schema


def test_the_document_describes_exactly_the_routes_and_methods_the_host_serves(
    served: requests.Response, app: Any
) -> None:
    from functions.routes import ROUTE_PREFIX
    from local.host.routing import LocalFunctionsHost

    table = {
        (openapi_path(route.template, ROUTE_PREFIX), method.lower(), route.name)
        for route in LocalFunctionsHost(app).routes
        for method in route.methods
    }
    documented = {
        (path, method, operation["operationId"].removesuffix(f"_{method}"))
        for path, methods in served.json()["paths"].items()
        for method, operation in methods.items()
    }
    assert documented == table
    assert len(table) >= 45


def test_the_document_names_the_public_url_and_is_cached_by_its_etag(
    served: requests.Response, api: str, root: Any
) -> None:
    assert served.json()["servers"] == [{"url": root.settings.public_url}]
    again = requests.get(f"{api}/openapi.json", headers={"If-None-Match": served.headers["ETag"]}, timeout=30)
    assert again.status_code == 304
    assert served.headers["Cache-Control"] == "public, max-age=300"


def test_job_states_documented_are_the_states_jobs_take(served: requests.Response) -> None:
    from shared.onboarding import exports, imports

    schemas = served.json()["components"]["schemas"]
    assert set(schemas["ImportJob"]["properties"]["state"]["enum"]) == {
        imports.AWAITING,
        imports.RUNNING,
        imports.DONE,
        imports.FAILED,
    }
    assert set(schemas["ExportJob"]["properties"]["state"]["enum"]) == {
        exports.QUEUED,
        exports.RUNNING,
        exports.DONE,
        exports.FAILED,
    }


def test_paths_and_methods_come_from_the_operations_and_descriptions_add_errors_and_security() -> None:
    catalog = Catalog()
    catalog.record("read", "api/v1/dpps/{dppId}", ("GET",))
    catalog.record("edit", "api/v1/dpps/{dppId}/elements/{*elementPath}", ("PATCH", "PUT"))
    document = build_document(
        catalog.operations(), DESCRIPTION, route_prefix="", server_url="https://x.example/"
    )
    assert document["servers"] == [{"url": "https://x.example"}]
    read = document["paths"]["/api/v1/dpps/{dppId}"]["get"]
    assert read["operationId"] == "read"
    assert read["security"] == [{}, {"bearerAuth": []}]
    assert read["parameters"] == [{"$ref": "#/components/parameters/dppId"}]
    assert read["responses"]["404"] == {"$ref": "#/components/responses/404"}
    element = document["paths"]["/api/v1/dpps/{dppId}/elements/{elementPath}"]
    assert {element["patch"]["operationId"], element["put"]["operationId"]} == {"edit_patch", "edit_put"}
    assert element["put"]["parameters"][1] == {
        "name": "elementPath",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    }
    assert element["put"]["security"] == [{"bearerAuth": []}]


def test_an_operation_without_a_description_or_a_description_without_an_operation_is_refused() -> None:
    with pytest.raises(DescriptionError, match=r"without a description: \['new'\]"):
        build_document(
            [
                Operation("read", "r", ("GET",)),
                Operation("edit", "e", ("PUT",)),
                Operation("new", "n", ("GET",)),
            ],
            DESCRIPTION,
            route_prefix="",
            server_url="https://x",
        )
    with pytest.raises(DescriptionError, match=r"descriptions of no operation: \['edit'\]"):
        build_document(
            [Operation("read", "r", ("GET",))], DESCRIPTION, route_prefix="", server_url="https://x"
        )
    with pytest.raises(DescriptionError, match="registered twice"):
        build_document(
            [Operation("read", "r", ("GET",)), Operation("edit", "r", ("GET",))],
            DESCRIPTION,
            route_prefix="",
            server_url="https://x",
        )


def test_a_method_the_document_does_not_list_is_a_405_result_naming_the_ones_it_does(
    served: requests.Response, root: Any
) -> None:
    from tests.support.results import assert_result

    paths = served.json()["paths"]
    checked = 0
    for path, methods in paths.items():
        if path == "/{path}":  # the preflight's catch-all: every path answers OPTIONS
            continue
        listed = {method.upper() for method in methods}
        concrete = path.replace("{", "x").replace("}", "x")
        for method in sorted({"GET", "POST", "PUT", "PATCH", "DELETE"} - listed):
            response = requests.request(method, root.settings.public_url + concrete, timeout=30)
            assert_result(response, 405, "MethodNotAllowed")
            allowed = {name.strip() for name in response.headers["Allow"].split(",")}
            assert allowed - {"HEAD"} == listed, (method, path)
            checked += 1
    assert checked > 100
