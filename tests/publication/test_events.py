"""Passport events (docs/interoperability.md): one CloudEvent per version, from the change feed.

End to end, a second instance of the suite's app (same database) with DPP_EVENTS_WEBHOOK_URL set
has only its events trigger run by the local host's change-feed emulation, posting to a real HTTP
receiver here; each request is parsed by the `cloudevents` SDK. The Event Grid sink is run with
the real `azure-eventgrid` client against a test double of a topic's publish endpoint.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
import requests
from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.bindings.http import HTTPMessage, from_http
from cloudevents.core.formats.json import JSONFormat

from shared.passports.repository import version_id
from shared.publication.events import (
    CREATED,
    DELETED,
    PUBLISHED,
    REVOKED,
    UPDATED,
    EventGridSink,
    PassportEvents,
    event_id,
    events_of,
)
from shared.storage.cosmos import PASSPORTS
from tests.doubles.eventgrid import SCOPE, EventGridTopicDouble
from tests.doubles.keyvault import StaticTokenCredential
from tests.doubles.web import Answer, Request, WebServer
from tests.support.documents import enc

SOURCE = "https://dpp.example.com"
HOOK = "/events"
# The first poll of a fresh emulation delivers every item of the session's database so far.
BACKLOG_SECONDS = 120.0


def passport_url(dpp_id: str) -> str:
    return f"{SOURCE}/api/v1/dpps/{enc(dpp_id)}"


def parsed(request: Request) -> BaseCloudEvent:
    """A webhook request as the CloudEvents SDK reads it (structured or binary mode)."""
    return from_http(HTTPMessage(request.headers, request.body), JSONFormat())


def version_item(
    dpp_id: str, version: int, operation: str, status: str = "Valid", **extra: Any
) -> dict[str, Any]:
    """A version item as the passports container holds it (the fields events read)."""
    return {
        "id": f"v{version:010d}",
        "type": "version",
        "dppId": dpp_id,
        "version": version,
        "ts": f"2026-12-01T10:00:0{version}.000Z",
        "operation": operation,
        "productId": "urn:acme:product:p-1",
        "deleted": operation == "delete",
        "lifecycle": {"versionLabel": "v1", "status": status},
        "_ts": 1764583200,
        **extra,
    }


# -- end to end over the local host ----------------------------------------------------------------


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebServer]:
    with WebServer() as server:
        server.script[HOOK] = Answer(200)
        yield server


@pytest.fixture(scope="module")
def events_app(app_env: dict[str, str], receiver: WebServer) -> Iterator[Callable[[], Any]]:
    """The events trigger of a second app instance, polled by the local host's emulation;
    calling it makes a fresh emulation (a host restarted without leases)."""
    from functions import app_root, create_app
    from local.host.cosmos_triggers import CosmosTriggers, cosmos_trigger_functions
    from shared.platform.settings import load_settings

    own = app_root(load_settings({**app_env, "DPP_EVENTS_WEBHOOK_URL": receiver.url(HOOK)}))
    app = create_app(own)
    [trigger] = [f for f in cosmos_trigger_functions(app) if f.name == "passport_events"]
    started: list[CosmosTriggers] = []

    def start() -> CosmosTriggers:
        triggers = CosmosTriggers([trigger], poll_seconds=0.2)
        assert not triggers.errors
        triggers.start()
        started.append(triggers)
        return triggers

    yield start
    for triggers in started:
        triggers.stop()


def received(server: WebServer, dpp_ids: set[str]) -> list[tuple[Request, BaseCloudEvent]]:
    found = []
    for request in list(server.requests):
        event = parsed(request)
        if event.get_subject() in dpp_ids:
            found.append((request, event))
    return found


def test_a_webhook_sees_one_cloud_event_per_version_in_order_per_passport(
    api: str,
    http: requests.Session,
    auth: dict[str, str],
    create: Callable[..., dict[str, Any]],
    receiver: WebServer,
    events_app: Callable[[], Any],
    root: Any,
):
    first, second = create(), create()
    ids = [first["digitalProductPassportId"], second["digitalProductPassportId"]]
    urls = {dpp_id: f"{api}/v1/dpps/{enc(dpp_id)}" for dpp_id in ids}
    for dpp_id in ids:  # interleaved: each passport's order is what counts
        assert http.patch(urls[dpp_id], json={"dppStatus": "Inactive"}, headers=auth).status_code == 200
    for dpp_id in ids:
        published = http.post(f"{urls[dpp_id]}/publish", json={"versionLabel": "v2"}, headers=auth)
        assert published.status_code == 200, published.text
        revoked = http.post(f"{urls[dpp_id]}/revoke", json={"reason": "Recall 7"}, headers=auth)
        assert revoked.status_code == 200, revoked.text
    assert http.delete(urls[ids[0]], headers=auth).status_code == 204

    triggers = events_app()
    assert triggers.caught_up(BACKLOG_SECONDS), "the events trigger did not catch up"
    got = received(receiver, set(ids))
    for request, _ in got:
        assert request.method == "POST"
        assert request.headers["content-type"] == "application/cloudevents+json; charset=utf-8"
    expected_types = {
        ids[0]: [CREATED, UPDATED, PUBLISHED, REVOKED, DELETED],
        ids[1]: [CREATED, UPDATED, PUBLISHED, REVOKED],
    }
    for (dpp_id, types), document in zip(expected_types.items(), (first, second), strict=True):
        mine = [event for _, event in got if event.get_subject() == dpp_id]
        numbers = range(1, len(types) + 1)
        assert [event.get_type() for event in mine] == types
        assert [event.get_id() for event in mine] == [event_id(dpp_id, n) for n in numbers]
        assert [event.get_extension("sequence") for event in mine] == [f"{n:010d}" for n in numbers]
        data = [event.get_data() for event in mine]
        assert [d["version"] for d in data] == list(numbers)
        assert [d["status"] for d in data] == ["Valid", "Valid", "Valid", "Revoked", "Revoked"][: len(types)]
        assert [d["deleted"] for d in data] == [False, False, False, False, True][: len(types)]
        labels = [d["versionLabel"] for d in data]
        assert labels[0] == labels[1] != "v2" and set(labels[2:]) == {"v2"}
        assert {d["url"] for d in data} == {urls[dpp_id]}
        assert {d["productId"] for d in data} == {document["uniqueProductIdentifier"]}
        assert {d["dppId"] for d in data} == {dpp_id}
        for number, event in zip(numbers, mine, strict=True):
            assert event.get_specversion() == "1.0"
            assert event.get_source() == root.settings.public_url
            assert event.get_datacontenttype() == "application/json"
            # the event's time is its version's
            stored = root.store.read(PASSPORTS, version_id(number), dpp_id)
            assert event.get_time() == datetime.fromisoformat(stored["ts"])
    all_ids = [event.get_id() for _, event in got]
    assert len(all_ids) == len(set(all_ids)) == 9

    # A host restarted without its leases delivers the feed again: the same events, the same ids.
    before = len(receiver.requests)
    again = events_app()
    assert again.caught_up(BACKLOG_SECONDS)
    redelivered = received(WebServerView(receiver.requests[before:]), set(ids))
    assert [json.loads(r.body) for r, _ in redelivered] == [json.loads(r.body) for r, _ in got]


class WebServerView:
    """Some of a WebServer's requests, where `received` reads them."""

    def __init__(self, requests: list[Request]):
        self.requests = requests


# -- the Event Grid sink, with the real SDK, against a topic double ---------------------------------


def topic_sink(topic: EventGridTopicDouble, credential: StaticTokenCredential) -> EventGridSink:
    return EventGridSink(topic.endpoint, credential, connection_verify=topic.ca_file, retry_total=0)


def test_the_event_grid_sink_publishes_cloud_events_a_topic_accepts():
    items = [version_item("urn:x:1", 2, "update"), version_item("urn:x:1", 1, "create")]
    items.append(version_item("urn:x:1", 3, "revoke", status="Revoked"))
    items.append({**items[2], "id": "head", "type": "head"})  # heads are no events
    events = events_of(items, SOURCE, passport_url)
    with EventGridTopicDouble() as topic:
        credential = StaticTokenCredential(topic.token)
        PassportEvents(topic_sink(topic, credential), SOURCE).apply(items, passport_url)
        assert credential.requests and all(scopes == (SCOPE,) for scopes, _ in credential.requests)
        assert [request.status for request in topic.requests] == [200]
        assert [event["id"] for event in topic.received] == ["urn:x:1/v1", "urn:x:1/v2", "urn:x:1/v3"]
        for sent, arrived in zip(events, topic.received, strict=True):
            # what the SDK put on the wire is our event, attribute for attribute
            event = from_http(HTTPMessage({}, json.dumps(arrived).encode()), JSONFormat())
            assert event.get_id() == sent["id"]
            assert event.get_type() == sent["type"]
            assert event.get_subject() == sent["subject"] == "urn:x:1"
            assert event.get_source() == SOURCE
            assert event.get_extension("sequence") == sent["sequence"]
            assert event.get_data() == sent["data"]
            assert event.get_time().isoformat().startswith(sent["time"][:19])
        assert topic.received[2]["type"] == REVOKED
        assert topic.received[2]["data"] == {
            "dppId": "urn:x:1",
            "productId": "urn:acme:product:p-1",
            "version": 3,
            "versionLabel": "v1",
            "status": "Revoked",
            "operation": "revoke",
            "deleted": False,
            "url": passport_url("urn:x:1"),
        }


def test_a_large_batch_goes_to_event_grid_in_requests_within_its_limit():
    from shared.publication.events import MAX_BATCH_BYTES

    # Long passport ids make each event ~9 KB: 200 of them need several requests.
    items = [version_item(f"urn:x:{n}:" + "p" * 8000, 1, "create") for n in range(200)]
    with EventGridTopicDouble() as topic:
        PassportEvents(topic_sink(topic, StaticTokenCredential(topic.token)), SOURCE).apply(
            items, passport_url
        )
        assert len(topic.requests) > 1
        assert all(request.status == 200 for request in topic.requests)
        assert all(len(json.dumps(r.events).encode()) <= MAX_BATCH_BYTES for r in topic.requests)
        assert [event["subject"] for event in topic.received] == [item["dppId"] for item in items]


def test_a_topic_that_fails_fails_the_batch_so_the_trigger_retries_it():
    from azure.core.exceptions import HttpResponseError

    items = [version_item("urn:x:2", 1, "create")]
    with EventGridTopicDouble() as topic:
        sink = topic_sink(topic, StaticTokenCredential(topic.token))
        topic.fail(1)
        with pytest.raises(HttpResponseError):
            PassportEvents(sink, SOURCE).apply(items, passport_url)
        assert topic.received == []
        # a wrong token is refused too: the topic takes Entra ID tokens only
        with pytest.raises(HttpResponseError):
            PassportEvents(topic_sink(topic, StaticTokenCredential("not-the-token")), SOURCE).apply(
                items, passport_url
            )
        PassportEvents(sink, SOURCE).apply(items, passport_url)
        assert [event["id"] for event in topic.received] == ["urn:x:2/v1"]


def test_a_batch_delivered_twice_yields_the_same_ids():
    """At least once: the trigger hands a failed (or unacknowledged) batch over again; its events
    are the same, id for id, so a subscriber that deduplicates on the id sees each once."""
    items = [version_item("urn:x:3", n, op) for n, op in ((1, "create"), (2, "publish"), (3, "delete"))]
    with EventGridTopicDouble() as topic:
        sink = topic_sink(topic, StaticTokenCredential(topic.token))
        PassportEvents(sink, SOURCE).apply(items, passport_url)
        PassportEvents(sink, SOURCE).apply(list(reversed(items)), passport_url)
        first, second = topic.received[:3], topic.received[3:]
        assert [e["id"] for e in first] == ["urn:x:3/v1", "urn:x:3/v2", "urn:x:3/v3"]
        assert second == first
        assert [e["type"] for e in first] == [CREATED, PUBLISHED, DELETED]


def test_an_item_that_is_no_event_is_skipped_not_fatal():
    broken = {**version_item("urn:x:4", 2, "update"), "version": "two"}
    events = events_of([version_item("urn:x:4", 1, "create"), broken], SOURCE, passport_url)
    assert [event["id"] for event in events] == ["urn:x:4/v1"]


# -- the webhook sink, the trigger's registration, the settings ---------------------------------------


def webhook_sink(url: str, *, allow_http: bool = True) -> Any:
    from shared.platform.outbound import OutboundClient, OutboundRules
    from shared.publication.events import WebhookSink

    return WebhookSink(url, OutboundClient(OutboundRules.of(allow_http, ["127.0.0.0/8"])))


def test_a_webhook_that_refuses_an_event_fails_the_batch():
    from shared.publication.events import DeliveryFailed

    items = [version_item("urn:x:5", 1, "create"), version_item("urn:x:5", 2, "update")]
    with WebServer() as server:
        server.script[HOOK] = Answer(503)
        with pytest.raises(DeliveryFailed, match="urn:x:5/v1: the webhook answered 503"):
            PassportEvents(webhook_sink(server.url(HOOK)), SOURCE).apply(items, passport_url)
        assert len(server.requests) == 1  # the rest of the batch waits for the retry
        server.script[HOOK] = Answer(202)
        PassportEvents(webhook_sink(server.url(HOOK)), SOURCE).apply(items, passport_url)
        assert [parsed(r).get_id() for r in server.requests[1:]] == ["urn:x:5/v1", "urn:x:5/v2"]


def test_a_webhook_url_the_outbound_rules_refuse_is_never_called():
    from shared.publication.events import DeliveryFailed

    with WebServer() as server:
        server.script[HOOK] = Answer(200)
        with pytest.raises(DeliveryFailed, match="only https"):
            PassportEvents(webhook_sink(server.url(HOOK), allow_http=False), SOURCE).apply(
                [version_item("urn:x:6", 1, "create")], passport_url
            )
        assert server.requests == []


def test_events_have_a_trigger_of_their_own_only_with_a_destination():
    from functions import app_root, create_app
    from functions.changes import EVENTS_LEASE_PREFIX
    from local.host.functions_index import registered_functions, trigger_of
    from shared.platform.settings import load_settings

    def functions_of(env: dict[str, str]) -> dict[str, Any]:
        app = create_app(app_root(load_settings(env)))
        return {f.get_function_name(): f for f in registered_functions(app)}

    assert "passport_events" not in functions_of({})
    found = functions_of(
        {"DPP_EVENTS_TOPIC_ENDPOINT": "https://t.westeurope-1.eventgrid.azure.net/api/events"}
    )
    events = trigger_of(found["passport_events"], "cosmosDBTrigger")
    derived = trigger_of(found["passport_changes"], "cosmosDBTrigger")
    # the same feed, checkpointed apart: a failing topic holds up no search, and no event waits on it
    assert (events.container_name, events.lease_container_name) == (
        derived.container_name,
        derived.lease_container_name,
    )
    assert events.lease_container_prefix == EVENTS_LEASE_PREFIX != derived.lease_container_prefix
    # a batch is retried until it is published, never skipped (events would be lost)
    retry = found["passport_events"].get_setting("retry_policy").get_dict_repr()
    assert retry["max_retry_count"] == "-1"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {
                "DPP_EVENTS_TOPIC_ENDPOINT": "https://t.example/api/events",
                "DPP_EVENTS_WEBHOOK_URL": "http://x/",
            },
            "not both",
        ),
        ({"DPP_EVENTS_WEBHOOK_URL": "localhost:8080/hook"}, "absolute http"),
    ],
)
def test_event_settings_that_cannot_work_are_refused_at_start(env, expected):
    from shared.platform.settings import load_settings

    with pytest.raises(ValueError, match=expected):
        load_settings(env)
