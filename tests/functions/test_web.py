"""Every error is an EN 18222 Result object with the right status, and a refused request writes nothing."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.support.documents import OWNER, enc, make_passport
from tests.support.results import assert_result


def _state(http, api: str, document: dict[str, Any]) -> tuple[Any, ...]:
    """Everything a client could observe about a passport."""
    dpp_id = document["digitalProductPassportId"]
    current = http.get(f"{api}/v1/dpps/{enc(dpp_id)}")
    history = http.get(f"{api}/v1/dppsByIdAndDate/{enc(dpp_id)}", params={"date": "2999-01-01T00:00:00Z"})
    return current.status_code, current.text, current.headers.get("ETag"), history.text


@pytest.fixture
def passport(create) -> dict[str, Any]:
    return create()


BAD_CREATE_BODIES: list[tuple[str, bytes, str]] = [
    ("not json", b"{not json", "InvalidJson"),
    ("array", b"[1, 2]", "InvalidBody"),
    ("string", b'"text"', "InvalidBody"),
    ("NaN", b'{"a": NaN}', "InvalidJson"),
    ("empty", b"", "MissingBody"),
]


@pytest.mark.parametrize(("name", "body", "code"), BAD_CREATE_BODIES, ids=[c[0] for c in BAD_CREATE_BODIES])
def test_create_rejects_bad_json_with_400(api, http, auth, name, body, code):
    response = http.post(f"{api}/v1/dpps", data=body, headers={**auth, "Content-Type": "application/json"})
    assert_result(response, 400, code)


INVALID_DOCUMENTS: list[tuple[str, dict[str, Any]]] = [
    ("missing header field", {"dppStatus": ...}),
    ("blank header field", {"dppSchemaVersion": "   "}),
    ("blank id", {"digitalProductPassportId": ""}),
    ("number as id", {"digitalProductPassportId": 42}),
    ("bad timestamp", {"lastUpdate": "yesterday"}),
    ("bad granularity", {"granularity": "Pallet"}),
    ("scalar content section", {"nameplate": "just a string"}),
    ("array content section", {"nameplate": [1, 2]}),
    ("expanded representation", {"elements": []}),
    ("control character in id", {"digitalProductPassportId": "a\u0000b"}),
    ("contentSpecificationIds not a list", {"contentSpecificationIds": "x"}),
]


@pytest.mark.parametrize(("name", "change"), INVALID_DOCUMENTS, ids=[c[0] for c in INVALID_DOCUMENTS])
def test_create_rejects_invalid_documents_and_stores_nothing(api, http, auth, name, change):
    document = make_passport()
    for key, value in change.items():
        if value is ...:
            del document[key]
        else:
            document[key] = value
    response = http.post(f"{api}/v1/dpps", json=document, headers=auth)
    assert_result(response, 400, "InvalidPassport")
    dpp_id = document["digitalProductPassportId"]
    if isinstance(dpp_id, str) and dpp_id.strip() and "\u0000" not in dpp_id:
        assert_result(http.get(f"{api}/v1/dpps/{enc(dpp_id)}"), 404, "PassportNotFound")
    product = http.get(f"{api}/v1/dppsByProductId/{enc(document['uniqueProductIdentifier'])}")
    assert_result(product, 404, "PassportNotFound")


BAD_PATCHES: list[tuple[str, dict[str, str], bytes, int, str]] = [
    ("bad json", {}, b"{oops", 400, "InvalidJson"),
    ("non-object patch", {}, b"[]", 400, "InvalidBody"),
    ("blank required field", {}, b'{"dppStatus": ""}', 400, "InvalidPassport"),
    ("removing a required field", {}, b'{"dppSchemaVersion": null}', 400, "InvalidPassport"),
    ("bad granularity", {}, b'{"granularity": "Crate"}', 400, "InvalidPassport"),
    ("bad timestamp", {}, b'{"lastUpdate": "2025-13-45"}', 400, "InvalidPassport"),
    ("scalar section", {}, b'{"nameplate": 5}', 400, "InvalidPassport"),
    ("changing the id", {}, b'{"digitalProductPassportId": "urn:other"}', 409, "ImmutableField"),
    ("changing the product", {}, b'{"uniqueProductIdentifier": "urn:other"}', 409, "ImmutableField"),
    ("changing the owner", {}, b'{"economicOperatorId": "did:example:thief"}', 409, "ImmutableField"),
    ("wrong media type", {"Content-Type": "text/plain"}, b'{"dppStatus": "x"}', 415, "UnsupportedMediaType"),
    ("stale If-Match", {"If-Match": '"stale"'}, b'{"dppStatus": "x"}', 412, "PreconditionFailed"),
    (
        "full representation write",
        {"X-Query": "representation=full"},
        b'{"dppStatus": "x"}',
        501,
        "NotImplemented",
    ),
    (
        "bad representation on write",
        {"X-Query": "representation=weird"},
        b'{"dppStatus": "x"}',
        400,
        "InvalidRepresentation",
    ),
]


@pytest.mark.parametrize(
    ("name", "headers", "body", "status", "code"), BAD_PATCHES, ids=[c[0] for c in BAD_PATCHES]
)
def test_bad_patch_is_refused_and_changes_nothing(
    api, http, auth, passport, name, headers, body, status, code
):
    url = f"{api}/v1/dpps/{enc(passport['digitalProductPassportId'])}"
    headers = dict(headers)
    query = headers.pop("X-Query", "")
    before = _state(http, api, passport)
    response = http.patch(
        f"{url}?{query}" if query else url,
        data=body,
        headers={"Content-Type": "application/merge-patch+json", **auth, **headers},
    )
    assert_result(response, status, code)
    assert _state(http, api, passport) == before


def test_bad_element_updates_change_nothing(api, http, auth, passport):
    base = f"{api}/v1/dpps/{enc(passport['digitalProductPassportId'])}/elements"
    before = _state(http, api, passport)
    cases = [
        (f"{base}/%24%5B", b'"x"', 400, "InvalidElementPath"),
        (f"{base}/nameplate/Nope", b'"x"', 404, "ElementNotFound"),
        (f"{base}/nameplate/ManufacturerName", b"{bad", 400, "InvalidJson"),
        (f"{base}/nameplate", b'"a scalar section"', 400, "InvalidPassport"),
        (f"{base}/digitalProductPassportId", b'"urn:other"', 409, "ImmutableField"),
        (f"{base}/granularity", b'"Crate"', 400, "InvalidPassport"),
    ]
    for url, body, status, code in cases:
        for method in ("PATCH", "PUT"):
            response = http.request(
                method, url, data=body, headers={**auth, "Content-Type": "application/json"}
            )
            assert_result(response, status, code)
    assert _state(http, api, passport) == before


def test_body_over_the_limit_is_413_and_writes_nothing(api, http, auth, root):
    limit = root.settings.max_body_bytes
    document = make_passport(nameplate={"Blob": "x" * (limit + 10)})
    response = http.post(
        f"{api}/v1/dpps", data=json.dumps(document), headers={**auth, "Content-Type": "application/json"}
    )
    assert_result(response, 413, "BodyTooLarge")
    assert_result(
        http.get(f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}"), 404, "PassportNotFound"
    )


def test_unsupported_media_type_is_415(api, http, auth):
    response = http.post(
        f"{api}/v1/dpps",
        data=json.dumps(make_passport()),
        headers={**auth, "Content-Type": "application/xml"},
    )
    assert_result(response, 415, "UnsupportedMediaType")


@pytest.mark.parametrize(
    ("path", "params", "code"),
    [
        ("dpps/{id}", {"representation": "expanded"}, "InvalidRepresentation"),
        ("dpps/{id}", {"representation": "FULL"}, "InvalidRepresentation"),
        ("dppsByIdAndDate/{id}", {}, "MissingDate"),
        ("dppsByIdAndDate/{id}", {"date": ""}, "MissingDate"),
        ("dppsByIdAndDate/{id}", {"date": "not-a-date"}, "InvalidTimestamp"),
        ("dppsByIdAndDate/{id}", {"date": "2025-02-30T00:00:00Z"}, "InvalidTimestamp"),
        ("dppsByProductIdAndDate/{product}", {"date": "13/01/2025"}, "InvalidTimestamp"),
        ("dppsByProductIdAndDate/{product}", {}, "MissingDate"),
    ],
)
def test_bad_query_parameters_are_400(api, http, passport, path, params, code):
    path = path.format(
        id=enc(passport["digitalProductPassportId"]), product=enc(passport["uniqueProductIdentifier"])
    )
    assert_result(http.get(f"{api}/v1/{path}", params=params), 400, code)


@pytest.mark.parametrize(
    ("params", "body", "code"),
    [
        ({"limit": "0"}, ["urn:a"], "InvalidLimit"),
        ({"limit": "1001"}, ["urn:a"], "InvalidLimit"),
        ({"limit": "ten"}, ["urn:a"], "InvalidLimit"),
        ({}, [f"urn:p:{i}" for i in range(101)], "InvalidProductIds"),
        ({}, [], "InvalidProductIds"),
        ({}, ["urn:a", "  "], "InvalidProductIds"),
        ({}, {"productIds": ["urn:a"], "extra": 1}, "InvalidProductIds"),
        ({}, {"productId": 42}, "InvalidProductIds"),
        ({}, {"ids": ["urn:a"]}, "InvalidProductIds"),
        ({}, [1, 2], "InvalidProductIds"),
        ({"cursor": "garbage!"}, ["urn:a"], "InvalidCursor"),
    ],
)
def test_ids_by_product_ids_rejects_bad_input(api, http, params, body, code):
    assert_result(http.post(f"{api}/v1/dppsByProductIds", json=body, params=params), 400, code)


def test_limit_bounds_are_inclusive(api, http, create):
    documents = [create(), create()]
    products = [d["uniqueProductIdentifier"] for d in documents]
    ids = [d["digitalProductPassportId"] for d in documents]
    url = f"{api}/v1/dppsByProductIds"
    one = http.post(url, json=products, params={"limit": "1"})
    assert one.status_code == 200, one.text
    assert one.json()["items"] == ids[:1] and one.json()["cursor"]
    assert http.post(url, json=products, params={"limit": "1000"}).json() == {"items": ids}


def test_unknown_passport_is_404(api, http):
    assert_result(http.get(f"{api}/v1/dpps/{enc('urn:does-not-exist:x/y')}"), 404, "PassportNotFound")
    assert_result(http.get(f"{api}/v1/dppsByProductId/nothing"), 404, "PassportNotFound")
    by_date = http.get(f"{api}/v1/dppsByIdAndDate/nothing", params={"date": "2030-01-01T00:00:00Z"})
    assert_result(by_date, 404, "PassportNotFound")


def test_malformed_ids_in_paths_are_400(api, http, auth):
    for raw in ("%00abc", "a%0Ab", "%FF%FE", "%20%20"):
        assert_result(http.get(f"{api}/v1/dpps/{raw}"), 400, "InvalidIdentifier")
        assert_result(http.get(f"{api}/v1/dppsByProductId/{raw}"), 400, "InvalidIdentifier")
        patched = http.patch(f"{api}/v1/dpps/{raw}", json={"dppStatus": "x"}, headers=auth)
        assert_result(patched, 400, "InvalidIdentifier")


def test_unknown_route_and_wrong_method_are_result_objects(api, http):
    assert_result(http.get(f"{api}/v1/nothing-here"), 404, "NotFound")
    response = http.put(f"{api}/v1/dpps/x", json={})
    assert_result(response, 405, "MethodNotAllowed")
    assert "PATCH" in response.headers["Allow"]


def test_correlation_id_comes_from_header_traceparent_or_is_generated(api, http):
    url = f"{api}/v1/dpps/nothing"
    given = http.get(url, headers={"x-correlation-id": "abc-123"})
    assert given.headers["x-correlation-id"] == "abc-123"
    assert given.json()["messages"][0]["correlationId"] == "abc-123"
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    traced = http.get(url, headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"})
    assert traced.json()["messages"][0]["correlationId"] == trace_id
    generated = http.get(url).json()["messages"][0]["correlationId"]
    assert re.match(r"^[0-9a-f-]{36}$", generated)
    # a header that could inject into logs is replaced, not echoed
    assert (
        http.get(url, headers={"x-correlation-id": "bad id\twith tab"}).headers["x-correlation-id"]
        != "bad id\twith tab"
    )


def test_unexpected_failure_is_500_without_internals():
    import azure.functions as func

    from functions.web import endpoint

    @endpoint
    def broken(req: func.HttpRequest) -> func.HttpResponse:
        raise RuntimeError("secret connection string AccountKey=abc")

    response = broken(func.HttpRequest("GET", "http://h/api/x", headers={"x-correlation-id": "c1"}, body=b""))
    assert response.status_code == 500
    body = json.loads(response.get_body())
    assert body["messages"][0]["code"] == "InternalServerError"
    assert body["messages"][0]["correlationId"] == "c1"
    assert "secret" not in response.get_body().decode()
    assert "Traceback" not in response.get_body().decode()


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ("not found", "no-store"),
        ("own", "public, max-age=60"),  # a refusal that sets its own caching keeps it
    ],
)
def test_refusals_are_never_stored_by_a_cache(error, expected):
    """A refusal names its request's correlation id, and Front Door keeps an answer without a
    Cache-Control for days: every refusal says no-store unless it says otherwise itself."""
    import azure.functions as func

    from functions.web import endpoint
    from shared.platform.errors import DppError, ErrorCode

    @endpoint
    def refusing(req: func.HttpRequest) -> func.HttpResponse:
        if error == "own":
            raise DppError("gone", code=ErrorCode.GONE, headers={"Cache-Control": "public, max-age=60"})
        raise DppError("not found", code=ErrorCode.NOT_FOUND, headers={"Retry-After": "1"})

    response = refusing(func.HttpRequest("GET", "http://h/api/x", headers={}, body=b""))
    assert response.headers["Cache-Control"] == expected
    if error != "own":
        assert response.headers["Retry-After"] == "1"  # its own headers stay


def test_a_refused_read_through_the_host_is_not_cacheable(api, http):
    response = http.get(f"{api}/v1/dpps/{enc('urn:uuid:00000000-0000-4000-8000-000000000000')}")
    assert response.status_code == 404
    assert response.headers["Cache-Control"] == "no-store"


def test_unreachable_store_is_503_with_retry_after(root):
    import dataclasses

    from shared.access.authentication import Principal
    from shared.access.roles import OPERATOR
    from shared.composition import Root
    from shared.platform.errors import ServiceUnavailable
    from tests.support.ports import free_port

    config = dataclasses.replace(root.settings, cosmos_endpoint=f"http://127.0.0.1:{free_port()}")
    service = Root(config).service
    with pytest.raises(ServiceUnavailable) as raised:
        service.create(make_passport(), Principal("t", frozenset({OPERATOR}), OWNER))
    assert (raised.value.status, raised.value.code) == (503, "StoreUnavailable")
    assert int(raised.value.headers["Retry-After"]) > 0


def test_json_response_writes_the_stdlib_s_compact_utf8_json() -> None:
    from functions.web import json_response

    data = {
        "name": "Pierre Cardin — polo",
        "sep": "a\u2028b",
        "n": [0, -1, 2**63 - 1, 0.25],
        "nested": {"x": None},
    }
    body = json_response(data).get_body()
    assert body == json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def test_json_response_escapes_what_utf8_cannot_carry() -> None:
    """A lone surrogate (stored before input refused it) or an integer past 64 bits is still sent,
    as valid JSON that reads back to the same value."""
    from functions.web import json_response

    data = {"endpointUrl": "http://x.com/\ud800", "big": 2**70}
    body = json_response(data).get_body()
    assert body.isascii()
    assert json.loads(body) == data
