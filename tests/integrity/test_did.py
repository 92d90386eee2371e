"""did:web both ways: the DIDs the service issues under resolve to the URLs it serves them at."""

from __future__ import annotations

import pytest

from functions.routes import Route, route_path
from shared.integrity.did import did_web_url, operator_did, operator_of, service_did


@pytest.mark.parametrize(
    ("public_url", "scheme", "host"),
    [
        ("https://dpp.example.com", "https", "dpp.example.com"),
        ("http://127.0.0.1:7071", "http", "127.0.0.1:7071"),
    ],
)
def test_an_operator_did_resolves_to_the_route_that_serves_its_document(public_url, scheme, host):
    operator = "did:example:operator/acme"
    did = operator_did(service_did(public_url), operator)
    assert operator_of(did, service_did(public_url)) == operator
    found_host, url = did_web_url(did, scheme)
    assert found_host == host
    assert url == f"{scheme}://{host}{route_path(Route.OPERATOR_DID, operatorId=operator)}"


def test_a_did_without_a_path_resolves_to_the_well_known_document():
    assert did_web_url("did:web:example.com") == ("example.com", "https://example.com/.well-known/did.json")


@pytest.mark.parametrize(
    "did", ["did:key:z6Mk", "did:web:", "did:web:a%2Fb", "did:web:user%40host", "did:web:host::x", 42]
)
def test_what_is_not_a_did_web_did_is_refused(did):
    with pytest.raises(ValueError):
        did_web_url(did)
