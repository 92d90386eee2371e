"""What another provider's broken answers become: a node that says so, never an error (a test
double web server plays the provider)."""

from __future__ import annotations

import pytest

from shared.platform.outbound import Budget
from tests.doubles.web import Answer, WebServer
from tests.support.remote import Clock, remote_passports

JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("answer", "verification", "status", "reason"),
    [
        (Answer(404, b"{}", JSON), "unverified", "NotFound", "answered 404"),
        (Answer(410, b"{}", JSON), "unverified", "Gone", "answered 410"),
        (Answer(500, b"oops"), "unreachable", "unknown", "answered 500"),
        (Answer(200, b"<html>", {"Content-Type": "text/html"}), "unreachable", "unknown", "not JSON"),
        (Answer(200, b"[1, 2]", JSON), "unverified", "unknown", "no signature"),
        (Answer(200, b'{"signature": "not an sd-jwt"}', JSON), "unverified", "unknown", "SD-JWT"),
        (Answer(200, b'{"linkset": [{"anchor": "x"}]}', JSON), "unreachable", "unknown", "no gs1:dpp"),
        (Answer(307, b"", {"Location": "http://[::1"}), "unreachable", "unknown", "malformed"),
        (Answer(200, b"x" * 2_000_000), "unreachable", "unknown", "larger than"),
    ],
)
def test_a_broken_answer_becomes_a_node_that_says_why(answer, verification, status, reason):
    with WebServer("127.0.0.2") as provider:
        provider.script["/dpp"] = answer
        found = remote_passports(Clock()).node(provider.url("/dpp"), Budget(5))
    assert (found.verification, found.status) == (verification, status)
    assert reason in str(found.reason)


def test_a_failure_is_remembered_briefly_so_a_dead_provider_costs_one_try():
    clock = Clock()
    remote = remote_passports(clock)
    with WebServer("127.0.0.2") as provider:
        provider.script["/dpp"] = Answer(500, b"")
        url = provider.url("/dpp")
        remote.node(url, Budget(5))
        clock.advance(10)
        remote.node(url, Budget(5))
        assert provider.asked("/dpp") == 1
        clock.advance(21)
        remote.node(url, Budget(5))
        assert provider.asked("/dpp") == 2


def test_nothing_is_fetched_once_the_budget_is_spent():
    with WebServer("127.0.0.2") as provider:
        found = remote_passports(Clock()).node(provider.url("/dpp"), Budget(0))
        assert provider.requests == []
    assert (found.verification, found.reason) == ("unverified", "the fetch budget of this request is spent")
