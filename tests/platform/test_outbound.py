"""The outbound fetch rules, over real sockets: https only, no private, loopback or link-local
address after name resolution (a redirect included), credentials refused, short timeouts, a size
cap and a fetch budget. A refused URL is never asked: the servers count what reaches them."""

from __future__ import annotations

import re
import time

import pytest

from shared.platform.outbound import (
    Budget,
    BudgetSpent,
    OutboundClient,
    OutboundRules,
    Refused,
    TimedResolver,
    Unreachable,
)
from tests.doubles.web import Answer, WebServer, certificates

# Test servers listen on 127.0.0.2; the rules below allow exactly that address, so 127.0.0.1 (and
# every other loopback address) stays forbidden as in production.
ELSEWHERE = "127.0.0.2"


def client(*networks: str, **limits: float) -> OutboundClient:
    return OutboundClient(OutboundRules.of(True, networks, **limits))


@pytest.fixture
def elsewhere():
    with WebServer(ELSEWHERE) as server:
        yield server


@pytest.fixture
def loopback():
    with WebServer("127.0.0.1") as server:
        yield server


def test_an_allowed_network_is_fetched_and_the_answer_kept_whole(elsewhere):
    elsewhere.script["/doc"] = Answer(200, b'{"a": 1}', {"Content-Type": "application/json", "ETag": '"x"'})
    response = client(f"{ELSEWHERE}/32").get(elsewhere.url("/doc"), {"Accept": "application/json"}, Budget(5))
    assert (response.status, response.body, response.headers["etag"]) == (200, b'{"a": 1}', '"x"')
    (request,) = elsewhere.requests
    assert request.headers["accept"] == "application/json"
    assert request.headers["host"] == f"{ELSEWHERE}:{elsewhere.port}"


def test_loopback_is_refused_by_default_and_never_asked(loopback):
    loopback.script["/doc"] = Answer(200, b"{}")
    with pytest.raises(Refused, match="not a public address"):
        OutboundClient(OutboundRules(allow_http=True)).get(loopback.url("/doc"), {}, Budget(5))
    assert loopback.requests == []


def test_a_redirect_to_loopback_is_refused_when_the_rules_forbid_loopback(elsewhere, loopback):
    loopback.script["/secret"] = Answer(200, b'{"secret": true}')
    elsewhere.script["/doc"] = Answer(307, b"", {"Location": loopback.url("/secret")})
    with pytest.raises(Refused, match=re.escape("127.0.0.1")):
        client(f"{ELSEWHERE}/32").get(elsewhere.url("/doc"), {}, Budget(5))
    assert elsewhere.asked("/doc") == 1 and loopback.requests == []


def test_redirects_are_followed_checked_and_counted_against_the_budget(elsewhere):
    elsewhere.script["/a"] = Answer(302, b"", {"Location": "/b"})
    elsewhere.script["/b"] = Answer(301, b"", {"Location": elsewhere.url("/c")})
    elsewhere.script["/c"] = Answer(200, b"done")
    fetch = client(f"{ELSEWHERE}/32")
    budget = Budget(3)
    response = fetch.get(elsewhere.url("/a"), {}, budget)
    assert (response.url, response.body, budget.remaining) == (elsewhere.url("/c"), b"done", 0)
    with pytest.raises(BudgetSpent):
        fetch.get(elsewhere.url("/a"), {}, Budget(2))
    elsewhere.script["/loop"] = Answer(302, b"", {"Location": "/loop"})
    with pytest.raises(Unreachable, match="redirects"):
        fetch.get(elsewhere.url("/loop"), {}, Budget(20))


@pytest.mark.parametrize(
    "address",
    [
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104 (an address a name may resolve to, not a bind)
        "::1",
        "fe80::1",
        "fd00::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "224.0.0.1",
    ],
)
def test_names_resolving_to_non_public_addresses_are_refused_before_connecting(address):
    fetch = OutboundClient(OutboundRules(), resolve=lambda host, port: [address])
    with pytest.raises(Refused, match="not a public address"):
        fetch.get("https://provider.example/dpp", {}, Budget(5))


def test_one_non_public_address_among_public_ones_is_enough_to_refuse():
    fetch = OutboundClient(OutboundRules(), resolve=lambda host, port: ["93.184.215.14", "10.0.0.7"])
    with pytest.raises(Refused, match=re.escape("10.0.0.7")):
        fetch.check("https://provider.example/dpp")
    public = OutboundClient(OutboundRules(), resolve=lambda host, port: ["93.184.215.14"])
    assert public.check("https://provider.example:8443/dpp") == (
        "https",
        "provider.example",
        8443,
        "93.184.215.14",
    )


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://provider.example/dpp", "only https"),
        ("ftp://provider.example/dpp", "only https"),
        ("/relative", "only https"),
        ("https://user:pw@provider.example/dpp", "credentials"),
        ("https://provider.example:99999/dpp", "port"),
    ],
)
def test_urls_the_rules_forbid_are_refused(url, reason):
    fetch = OutboundClient(OutboundRules(), resolve=lambda host, port: ["93.184.215.14"])
    with pytest.raises(Refused, match=reason):
        fetch.check(url)


def test_a_body_over_the_cap_is_refused(elsewhere):
    elsewhere.script["/big"] = Answer(200, b"x" * 5000)
    with pytest.raises(Unreachable, match="larger than 4096"):
        client(f"{ELSEWHERE}/32", max_bytes=4096).get(elsewhere.url("/big"), {}, Budget(1))


def test_a_peer_that_does_not_answer_in_time_is_unreachable_quickly(elsewhere):
    elsewhere.script["/slow"] = Answer(200, b"{}", delay=3)
    with pytest.raises(Unreachable):
        client(f"{ELSEWHERE}/32", read_timeout=0.3).get(elsewhere.url("/slow"), {}, Budget(1))
    # Had it waited for the answer (3 s) it would have got it; and it did not ask again.
    assert elsewhere.asked("/slow") == 1


def test_a_closed_port_is_unreachable():
    with WebServer(ELSEWHERE) as server:
        url = server.url("/doc")
    with pytest.raises(Unreachable):
        client(f"{ELSEWHERE}/32").get(url, {}, Budget(1))


def test_a_name_that_does_not_resolve_in_time_counts_as_unreachable():
    def stuck(host: str, port: int) -> list[str]:
        time.sleep(2)
        return ["93.184.215.14"]

    resolve = TimedResolver(timeout=0.2, resolve=stuck)
    with pytest.raises(Unreachable, match="does not resolve within"):
        OutboundClient(OutboundRules(), resolve=resolve).check("https://slow-dns.example/")


def test_https_goes_to_the_checked_address_and_verifies_the_certificate_for_the_name(tmp_path):
    ca, tls = certificates(tmp_path, "provider.test")
    with WebServer(ELSEWHERE, tls=tls) as server:
        server.script["/doc"] = Answer(200, b"ok")
        resolved = lambda host, port: [ELSEWHERE]  # noqa: E731 (the name is only known to this test)
        rules = OutboundRules.of(False, [f"{ELSEWHERE}/32"], ca_file=str(ca))
        url = f"https://provider.test:{server.port}/doc"
        response = OutboundClient(rules, resolve=resolved).get(url, {}, Budget(1))
        assert response.body == b"ok" and server.requests[0].headers["host"] == f"provider.test:{server.port}"
        # The same server under another name: its certificate does not name it.
        with pytest.raises(Unreachable, match="SSL"):
            OutboundClient(rules, resolve=resolved).get(
                f"https://other.test:{server.port}/doc", {}, Budget(1)
            )
        # The system's authorities do not know the test CA.
        system = OutboundRules.of(False, [f"{ELSEWHERE}/32"])
        with pytest.raises(Unreachable, match="SSL"):
            OutboundClient(system, resolve=resolved).get(url, {}, Budget(1))
