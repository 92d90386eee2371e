"""The operator registry: authorities assign namespaces, no two operators' overlap, and passports
are created only for product ids inside their operator's namespaces, before and after deletion."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from shared.access.operators import covers, parse_namespaces
from shared.platform.errors import BadRequest
from tests.support.documents import enc, gtin14, make_passport, namespace
from tests.support.results import assert_result


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def fresh_operator() -> str:
    return f"did:example:operator:{uuid.uuid4().hex[:10]}"


# -- the rules, without the stack ------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"productIdPrefixes": "urn:x:"},
        {"productIdPrefixes": [""]},
        {"productIdPrefixes": ["urn:"]},  # every URN
        {"productIdPrefixes": ["https://"]},  # every URL
        {"productIdPrefixes": ["acme-"]},
        {"productIdPrefixes": ["urn:acme: product"]},
        {"gs1CompanyPrefixes": ["401"]},
        {"gs1CompanyPrefixes": ["40123a5"]},
        {"gs1CompanyPrefixes": [4012345]},
        {"owner": "me"},
    ],
)
def test_malformed_or_too_broad_namespaces_are_refused(body: Any) -> None:
    with pytest.raises(BadRequest) as refused:
        parse_namespaces(body)
    assert refused.value.code == "InvalidNamespaces"


def test_product_ids_inside_and_outside_namespaces() -> None:
    assignment: Any = {
        "productIdPrefixes": ["urn:acme:", "https://id.acme.example/products/"],
        "gs1CompanyPrefixes": ["4012345"],
    }
    assert covers(assignment, "urn:acme:product:1")
    assert covers(assignment, "https://id.acme.example/products/x")
    assert covers(assignment, "https://id.gs1.org/01/04012345000016/21/7")
    assert covers(assignment, "urn:epc:id:sgtin:4012345.000001.7")
    assert not covers(assignment, "urn:acmecorp:product:1")
    assert not covers(assignment, "https://id.acme.example/other/x")
    # A GTIN-based id is judged by its company prefix, never by its URL text.
    assert not covers(
        {**assignment, "productIdPrefixes": ["https://id.gs1.org/"]}, "https://id.gs1.org/01/05901234123464"
    )
    assert not covers(None, "urn:acme:product:1")


# -- the registry over HTTP --------------------------------------------------------------------------


@pytest.fixture
def put(api: str, http: Any, token: Callable[..., str]) -> Callable[..., Any]:
    def send(operator_id: str, body: Any, role: str = "authority") -> Any:
        headers = bearer(token(role, operator=None))
        return http.put(f"{api}/v1/operators/{enc(operator_id)}", json=body, headers=headers)

    return send


def test_only_authorities_read_and_change_the_registry(api, http, token, put):
    operator = fresh_operator()
    url = f"{api}/v1/operators/{enc(operator)}"
    body = {"productIdPrefixes": [namespace(operator)]}
    assert_result(http.put(url, json=body), 401, "AuthenticationRequired")
    assert_result(http.get(url), 401, "AuthenticationRequired")
    for role in ("operator", "recycler", "repairer"):
        assert_result(put(operator, body, role), 403, "RoleRequired")
        assert_result(http.get(url, headers=bearer(token(role, operator=operator))), 403, "RoleRequired")
    authority = bearer(token("authority", operator=None))
    assert_result(http.get(url, headers=authority), 404, "OperatorNotFound")
    company = f"9508{uuid.uuid4().int % 10**4:04d}"
    stored = put(operator, {**body, "gs1CompanyPrefixes": [company]})
    assert stored.status_code == 200, stored.text
    record = stored.json()
    assert (record["operatorId"], record["productIdPrefixes"], record["gs1CompanyPrefixes"]) == (
        operator,
        [namespace(operator)],
        [company],
    )
    assert http.get(url, headers=authority).json() == record
    assert stored.headers["Cache-Control"] == "private, no-store"


def test_overlapping_assignments_are_refused_and_change_nothing(api, http, token, put):
    first, second = fresh_operator(), fresh_operator()
    area = f"https://overlap-{uuid.uuid4().hex[:8]}.example/"
    company = f"9509{uuid.uuid4().int % 10**4:04d}"
    assert (
        put(first, {"productIdPrefixes": [area + "shirts/"], "gs1CompanyPrefixes": [company]}).status_code
        == 200
    )
    for body in (
        {"productIdPrefixes": [area]},  # contains the first operator's
        {"productIdPrefixes": [area + "shirts/green/"]},  # inside it
        {"gs1CompanyPrefixes": [company[:-1]]},
        {"gs1CompanyPrefixes": [company + "5"]},
    ):
        message = assert_result(put(second, body), 409, "NamespaceOverlap")
        assert first in message["text"]
    assert_result(
        http.get(f"{api}/v1/operators/{enc(second)}", headers=bearer(token("authority", operator=None))),
        404,
        "OperatorNotFound",
    )
    # Beside it is fine, and the first operator may change its own assignment freely.
    assert put(second, {"productIdPrefixes": [area + "shoes/"]}).status_code == 200
    assert put(first, {"productIdPrefixes": [area + "shirts/", area + "hats/"]}).status_code == 200


def test_creates_outside_the_callers_namespaces_are_403_and_write_nothing(api, http, token, put):
    owner, squatter = fresh_operator(), fresh_operator()
    assert put(owner, {"productIdPrefixes": [namespace(owner)]}).status_code == 200
    document = make_passport(economicOperatorId=owner)
    squatted = {**document, "economicOperatorId": squatter}
    as_squatter = bearer(token("operator", operator=squatter))
    # Before the owner's first passport, with no namespace of its own ...
    message = assert_result(
        http.post(f"{api}/v1/dpps", json=squatted, headers=as_squatter), 403, "ProductIdNotAssigned"
    )
    assert "no namespaces are assigned" in message["text"]
    # ... and with a namespace of its own that does not hold this product.
    assert put(squatter, {"productIdPrefixes": [namespace(squatter)]}).status_code == 200
    message = assert_result(
        http.post(f"{api}/v1/dpps", json=squatted, headers=as_squatter), 403, "ProductIdNotAssigned"
    )
    assert namespace(squatter) in message["text"]
    product = enc(document["uniqueProductIdentifier"])
    assert_result(http.get(f"{api}/v1/dppsByProductId/{product}"), 404, "PassportNotFound")
    assert_result(
        http.get(f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}"), 404, "PassportNotFound"
    )
    # The owner creates it; once it is deleted the product id stays the owner's.
    as_owner = bearer(token("operator", operator=owner))
    assert http.post(f"{api}/v1/dpps", json=document, headers=as_owner).status_code == 201
    assert (
        http.delete(
            f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}", headers=as_owner
        ).status_code
        == 204
    )
    again = {**squatted, "digitalProductPassportId": f"urn:test:dpp/{uuid.uuid4().hex}#squat"}
    assert_result(http.post(f"{api}/v1/dpps", json=again, headers=as_squatter), 403, "ProductIdNotAssigned")
    # Even if an authority later hands the namespace over, the archived product keeps its operator.
    assert put(owner, {"productIdPrefixes": [f"urn:retired-{uuid.uuid4().hex[:8]}:"]}).status_code == 200
    assert put(squatter, {"productIdPrefixes": [namespace(squatter), namespace(owner)]}).status_code == 200
    assert_result(http.post(f"{api}/v1/dpps", json=again, headers=as_squatter), 409, "ProductIdOwned")
    # The owner itself may give the product a new passport.
    assert put(squatter, {"productIdPrefixes": [namespace(squatter)]}).status_code == 200
    assert put(owner, {"productIdPrefixes": [namespace(owner)]}).status_code == 200
    successor = {**document, "digitalProductPassportId": f"urn:test:dpp/{uuid.uuid4().hex}#next"}
    assert http.post(f"{api}/v1/dpps", json=successor, headers=as_owner).status_code == 201


def test_gtin_based_product_ids_follow_the_gs1_company_prefix(api, http, token, put):
    operator = fresh_operator()
    company = f"9507{uuid.uuid4().int % 10**4:04d}"
    assert (
        put(
            operator, {"productIdPrefixes": [namespace(operator)], "gs1CompanyPrefixes": [company]}
        ).status_code
        == 200
    )
    headers = bearer(token("operator", operator=operator))
    ours = make_passport(economicOperatorId=operator)
    ours["uniqueProductIdentifier"] = f"https://id.gs1.org/01/{gtin14('0' + company + '1234')}/21/SN-1"
    assert http.post(f"{api}/v1/dpps", json=ours, headers=headers).status_code == 201
    theirs = make_passport(economicOperatorId=operator)
    theirs["uniqueProductIdentifier"] = f"https://id.gs1.org/01/{gtin14('0590123412346')}"  # another prefix
    assert_result(http.post(f"{api}/v1/dpps", json=theirs, headers=headers), 403, "ProductIdNotAssigned")
