"""Issue 14's JSON findings, over HTTP: each was a 500 (or worse, stored); each is now a 400
InvalidJson Result that changes nothing."""

from __future__ import annotations

import json

from tests.support.documents import enc, make_passport
from tests.support.results import assert_result

JSON = {"Content-Type": "application/json"}


def _nested(depth: int) -> dict:
    value: dict = {"leaf": 1}
    for _ in range(depth):
        value = {"n": value}
    return value


def test_deep_json_to_verify_is_a_400_not_a_500(api, http):
    body = "[" * 5000 + "]" * 5000
    assert_result(http.post(f"{api}/v1/verify", data=body, headers=JSON), 400, "InvalidJson")


def test_a_document_nested_330_deep_is_refused_and_not_stored(api, http, auth):
    document = make_passport(nameplate={"ManufacturerName": "ACME", "deep": _nested(330)})
    response = http.post(f"{api}/v1/dpps", data=json.dumps(document), headers={**auth, **JSON})
    assert_result(response, 400, "InvalidJson")
    assert_result(
        http.get(f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}"), 404, "PassportNotFound"
    )


def test_duplicate_keys_and_integers_beyond_2_53_are_refused_not_rounded(api, http, auth, create):
    document = create()
    url = f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}"
    before = http.get(url, headers=auth).json()
    merge = {**auth, "Content-Type": "application/merge-patch+json"}
    for body in (
        '{"nameplate": {"ManufacturerName": "A", "ManufacturerName": "B"}}',
        '{"nameplate": {"Serial": 12345678901234567891}}',
        '{"nameplate": {"Big": ' + str(2**70) + "}}",
    ):
        assert_result(http.patch(url, data=body, headers=merge), 400, "InvalidJson")
    assert http.get(url, headers=auth).json() == before


def test_a_lone_surrogate_in_register_dpp_is_refused_and_nothing_is_recorded(api, http, auth, create):
    document = create()
    body = (
        '{"productId": "'
        + document["uniqueProductIdentifier"]
        + '", "dppId": "'
        + document["digitalProductPassportId"]
        + '", "endpointUrl": "http://x.com/\\ud800"}'
    )
    assert_result(http.post(f"{api}/v1/registerDPP", data=body, headers={**auth, **JSON}), 400, "InvalidJson")
    registration = http.get(
        f"{api}/v1/registrations/{enc(document['digitalProductPassportId'])}", headers=auth
    )
    assert_result(registration, 404, "RegistrationNotFound")  # refused on input: nothing was stored
    assert "\ud800" not in registration.text and "\\ud800" not in registration.text
