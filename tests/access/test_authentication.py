"""Who may write: bearer JWTs validated against issuer, audience and JWKS; roles and ownership."""

from __future__ import annotations

import pytest

from tests.support.documents import OWNER, enc, make_passport
from tests.support.results import assert_result


def _bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def test_writes_without_a_token_are_401_with_challenge(api, http, create):
    document = create()
    url = f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}"
    for response in (
        http.post(f"{api}/v1/dpps", json=make_passport()),
        http.patch(url, json={"dppStatus": "x"}),
        http.delete(url),
        http.put(f"{url}/elements/nameplate/ManufacturerName", json="x"),
    ):
        assert_result(response, 401, "AuthenticationRequired")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert http.get(url).json()["dppStatus"] == "Active"


def test_unauthenticated_write_to_unknown_passport_is_401_not_404(api, http):
    assert_result(http.patch(f"{api}/v1/dpps/nope", json={"dppStatus": "x"}), 401, "AuthenticationRequired")


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("expired", {"ttl_seconds": -3600}),
        ("wrong audience", {"audience": "api://someone-else"}),
        ("wrong issuer", {"issuer": "https://evil.example"}),
    ],
)
def test_invalid_tokens_are_401(api, http, token, name, kwargs):
    response = http.post(f"{api}/v1/dpps", json=make_passport(), headers=_bearer(token(**kwargs)))
    assert_result(response, 401, "InvalidToken")


def test_token_signed_by_another_key_is_401(api, http, tmp_path):
    from local.tokens import ensure_issuer, mint

    ensure_issuer(tmp_path)
    forged = mint(tmp_path, roles=["operator"], operator=OWNER)
    assert_result(
        http.post(f"{api}/v1/dpps", json=make_passport(), headers=_bearer(forged)), 401, "InvalidToken"
    )


def test_malformed_authorization_headers_are_401(api, http):
    for header in ("Basic dXNlcjpwYXNz", "Bearer", "Bearer not.a.jwt", "Bearer a.b"):
        response = http.post(f"{api}/v1/dpps", json=make_passport(), headers={"Authorization": header})
        assert_result(response, 401, "InvalidToken")


def test_missing_operator_role_is_403(api, http, token, create):
    document = create()
    url = f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}"
    for role in ("authority", "recycler", "repairer"):
        headers = _bearer(token(role))
        assert_result(http.post(f"{api}/v1/dpps", json=make_passport(), headers=headers), 403, "RoleRequired")
        assert_result(http.patch(url, json={"dppStatus": "x"}, headers=headers), 403, "RoleRequired")
        assert_result(http.delete(url, headers=headers), 403, "RoleRequired")


def test_operator_token_without_operator_claim_is_403(api, http, token):
    response = http.post(f"{api}/v1/dpps", json=make_passport(), headers=_bearer(token(operator=None)))
    assert_result(response, 403, "NotPassportOwner")


def test_reads_are_anonymous_and_ignore_no_token(api, http, create):
    document = create()
    response = http.get(f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["digitalProductPassportId"] == document["digitalProductPassportId"]
    assert body["nameplate"] == document["nameplate"]  # a public section, shown without a token
    assert response.headers["Cache-Control"].startswith("public, ")


def test_writer_subject_is_recorded_on_the_version(api, http, token, root):
    document = make_passport()
    headers = _bearer(token(subject="user-42"))
    assert http.post(f"{api}/v1/dpps", json=document, headers=headers).status_code == 201
    head = root.service.read(document["digitalProductPassportId"])
    assert head["writer"] == "user-42"
    assert head["operation"] == "create"
