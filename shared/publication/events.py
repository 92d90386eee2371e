"""Passport events: one CloudEvent per new version, published from the change feed.

Every write stores an immutable version item (`shared.passports.repository`), and each version
item reaches the passports container's change feed (the head, overwritten by every write, may be
coalesced by the feed; a version item is written once, so none is skipped; one that a migration
re-issues comes again: the same event, the same id).
`passport_events` turns each version item into a CloudEvent 1.0 (structured JSON) and hands the
batch to a sink: Event Grid in Azure (`EventGridSink`), a webhook locally (`WebhookSink`).

- `type` follows the version's operation: `org.dpp.passport.created`, `.updated` (an update, an
  element, an access policy or an artifact), `.published`, `.revoked`, `.deleted`;
- `id` is `<dppId>/v<version>`: the same for a redelivered batch, so subscribers deduplicate on
  it (delivery is at least once: a batch that fails is delivered again, whole);
- `subject` is the passport id, `source` the service's public URL, `time` the version's `ts`,
  `sequence` (the CloudEvents sequence extension) the version number zero-padded, so it sorts;
- within a batch, a passport's events go out in version order; one passport's versions are in
  one partition of the container, whose feed is ordered, so across batches too.

Building an event is pure (`event_of`); an item that cannot become one is logged and skipped, so
one bad item never holds up the feed. A sink that fails fails the batch: the trigger retries it.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from shared.passports.repository import (
    CREATE,
    DELETE,
    PUBLISH,
    PUT_ARTIFACT,
    REVOKE,
    SET_ACCESS_POLICY,
    UPDATE,
    UPDATE_ELEMENT,
)
from shared.platform.clock import parse_ts
from shared.platform.outbound import Budget, OutboundClient, OutboundError

log = logging.getLogger(__name__)

SPEC_VERSION = "1.0"
TYPE_PREFIX = "org.dpp.passport."
CREATED, UPDATED, PUBLISHED = TYPE_PREFIX + "created", TYPE_PREFIX + "updated", TYPE_PREFIX + "published"
REVOKED, DELETED = TYPE_PREFIX + "revoked", TYPE_PREFIX + "deleted"
EVENT_TYPES: dict[str, str] = {
    CREATE: CREATED,
    UPDATE: UPDATED,
    UPDATE_ELEMENT: UPDATED,
    SET_ACCESS_POLICY: UPDATED,
    PUT_ARTIFACT: UPDATED,
    PUBLISH: PUBLISHED,
    REVOKE: REVOKED,
    DELETE: DELETED,
}
STRUCTURED = "application/cloudevents+json; charset=utf-8"
DATA_CONTENT_TYPE = "application/json"
# Event Grid takes at most 1 MB per request (and per event); a batch stays well below it.
MAX_BATCH_BYTES = 512 * 1024
# A version's event names the passport, never its content, so one is far below this.
MAX_EVENT_BYTES = 64 * 1024

PassportUrl = Callable[[str], str]
Event = dict[str, Any]


def event_id(dpp_id: str, version: int) -> str:
    return f"{dpp_id}/v{version}"


def event_type(item: Mapping[str, Any]) -> str:
    # An operation this module does not know yet (a later write kind) is still a new version.
    return EVENT_TYPES.get(str(item.get("operation")), UPDATED)


def event_of(item: Mapping[str, Any], source: str, passport_url: PassportUrl) -> Event:
    """The CloudEvent (structured JSON, as a dict) of one version item."""
    dpp_id, version = item["dppId"], item["version"]
    if not isinstance(version, int) or isinstance(version, bool):
        raise ValueError(f"version {version!r} is not a number")
    lifecycle = item.get("lifecycle") or {}
    return {
        "specversion": SPEC_VERSION,
        "id": event_id(dpp_id, version),
        "source": source,
        "type": event_type(item),
        "subject": dpp_id,
        "time": item["ts"],
        "sequence": f"{version:010d}",
        "datacontenttype": DATA_CONTENT_TYPE,
        "data": {
            "dppId": dpp_id,
            "productId": item["productId"],
            "version": version,
            "versionLabel": lifecycle.get("versionLabel", item.get("label")),
            "status": lifecycle.get("status"),
            "operation": item.get("operation"),
            "deleted": bool(item.get("deleted")),
            "url": passport_url(dpp_id),
        },
    }


def version_items(changed: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The version items among change-feed items, each passport's in version order (the local
    emulation may hand over several versions of one second in any order)."""
    versions = [item for item in changed if item.get("type") == "version"]
    first_seen: dict[Any, int] = {}
    for n, item in enumerate(versions):
        first_seen.setdefault(item.get("dppId"), n)
    return sorted(versions, key=lambda item: (first_seen[item.get("dppId")], _number(item)))


def _number(item: Mapping[str, Any]) -> int:
    version = item.get("version")
    return version if isinstance(version, int) else 0


def events_of(changed: Iterable[Mapping[str, Any]], source: str, passport_url: PassportUrl) -> list[Event]:
    """The events of a change-feed batch, in order per passport; an item that cannot become an
    event is logged and skipped."""
    events = []
    for item in version_items(changed):
        try:
            event = event_of(item, source, passport_url)
        except (KeyError, TypeError, ValueError) as exc:
            log.error(
                "Version item %s of %s is no event (%r): skipped", item.get("id"), item.get("dppId"), exc
            )
            continue
        if len(encode(event)) > MAX_EVENT_BYTES:
            log.error("The event of %s is over %d bytes: skipped", event["id"], MAX_EVENT_BYTES)
            continue
        events.append(event)
    return events


def encode(event: Event) -> bytes:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def batches(events: Sequence[Event], limit: int = MAX_BATCH_BYTES) -> Iterator[list[Event]]:
    """`events` in order, cut into lists whose JSON array stays within `limit` bytes."""
    batch: list[Event] = []
    size = 2  # the array's brackets
    for event in events:
        length = len(encode(event)) + 1  # and its comma
        if batch and size + length > limit:
            yield batch
            batch, size = [], 2
        batch.append(event)
        size += length
    if batch:
        yield batch


class EventSink(Protocol):
    def send(self, events: Sequence[Event]) -> None:
        """Deliver every event or raise (the batch is then delivered again)."""


class DeliveryFailed(Exception):
    """A sink could not deliver an event; the change-feed batch is retried."""


class WebhookSink:
    """Each event POSTed in structured mode (`application/cloudevents+json`), one request per
    event and in order, as an Event Grid subscription delivers to a webhook without batching; the
    URL is checked by the outbound rules (shared.platform.outbound) on every request."""

    def __init__(self, url: str, outbound: OutboundClient):
        self.url = url
        self.outbound = outbound

    def send(self, events: Sequence[Event]) -> None:
        budget = Budget(len(events))
        for event in events:
            try:
                answer = self.outbound.post(self.url, {"Content-Type": STRUCTURED}, encode(event), budget)
            except OutboundError as exc:
                raise DeliveryFailed(f"{event['id']} not delivered to the webhook: {exc.reason}") from None
            if not 200 <= answer.status < 300:
                raise DeliveryFailed(f"{event['id']}: the webhook answered {answer.status}")


# Per request: the SDK passes no transport options of a basic topic's client on (4.22), only those
# of each send. A few quick retries; beyond them the trigger retries the whole batch.
SEND_OPTIONS: dict[str, Any] = {"connection_timeout": 5, "read_timeout": 10, "retry_total": 2}


class EventGridSink:
    """An Event Grid topic (CloudEvents 1.0 input schema), as the app's identity: batches of at
    most MAX_BATCH_BYTES through the `azure-eventgrid` SDK, one client per sink (per process)."""

    def __init__(self, endpoint: str, credential: Any, **send_options: Any):
        self.endpoint = endpoint
        self.credential = credential
        self.send_options = {**SEND_OPTIONS, **send_options}
        self._client: Any = None
        self._lock = threading.Lock()

    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                # Imported on first use: a cold start that sends nothing does not load the SDK.
                from azure.eventgrid import EventGridPublisherClient

                self._client = EventGridPublisherClient(self.endpoint, self.credential)
            return self._client

    def send(self, events: Sequence[Event]) -> None:
        for batch in batches(events):
            self.client().send([cloud_event(event) for event in batch], **self.send_options)


def cloud_event(event: Event) -> Any:
    """Our event as the SDK's `azure.core.messaging.CloudEvent` (what it serializes as 1.0)."""
    from azure.core.messaging import CloudEvent

    return CloudEvent(
        source=event["source"],
        type=event["type"],
        id=event["id"],
        subject=event["subject"],
        time=parse_ts(event["time"], "time"),
        datacontenttype=event["datacontenttype"],
        data=event["data"],
        extensions={"sequence": event["sequence"]},
    )


class PassportEvents:
    """What the events trigger runs: a change-feed batch's events, to the sink."""

    def __init__(self, sink: EventSink, source: str):
        self.sink = sink
        self.source = source

    def apply(self, changed: Iterable[Mapping[str, Any]], passport_url: PassportUrl) -> int:
        """Publish the events of `changed`; returns how many were sent."""
        events = events_of(changed, self.source, passport_url)
        if events:
            self.sink.send(events)
        return len(events)
