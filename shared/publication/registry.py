"""EN 18222 RegisterProductDPP: a passport's registration at the DPP registry, through a durable outbox.

One item per passport in the `registrations` container (partition key `/dppId`, id
`registration`) is both the registration and its delivery state. With a registry configured
(`DPP_REGISTRY_URL`) the item is stored `pending` *before* anything is sent, so an outage or a
crash loses nothing; then one attempt is made inline with a short timeout, and whatever is still
pending afterwards is delivered by the `registry_outbox` timer (`deliver_due`) with exponential
backoff, up to `DPP_REGISTRY_MAX_ATTEMPTS` attempts.

States: `recorded` (no registry configured: kept locally only), `pending` (to be delivered),
`delivered`, `failed` (refused by the registry, or out of attempts).

Every state change is a replace with If-Match on the item's `_etag`. A worker first *claims* a
due item by setting a short lease (`leaseUntil`) and only sends if that claim won, so two workers
never both deliver the same attempt; a worker that dies mid-delivery leaves a lease that simply
expires. The registry gets a stable `Idempotency-Key` per registration (dppId + registeredAt) to
deduplicate the rare repeat (a lease that expired while a slow delivery was still under way).

This module never imports azure.functions: the publication adapters in `functions/` parse and shape.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NotRequired, TypedDict, cast
from urllib.parse import urlsplit

from shared.access.authentication import Principal
from shared.access.authorization import Action, authorize
from shared.documents.model import validate_identifier
from shared.passports.records import PassportItem
from shared.passports.repository import PassportRepository
from shared.platform.clock import Clock, format_ts, utcnow
from shared.platform.errors import BadRequest, Conflict, DppError, ErrorCode, NotFound, ServiceUnavailable
from shared.platform.settings import Settings
from shared.publication.registry_client import DELIVERED, FAILED, RETRIED, RegistryClient, Sent
from shared.storage.cosmos import REGISTRATIONS, ItemChanged, ItemExists, Store, without_system

log = logging.getLogger(__name__)

REGISTRATION_ID = "registration"
RECORDED, PENDING = "recorded", "pending"
SKIPPED = "skipped"  # an outcome of one delivery attempt that is not a state (nor is RETRIED)

INLINE_TIMEOUT = 3.0  # seconds a RegisterProductDPP request waits for the registry
BACKGROUND_TIMEOUT = 10.0  # seconds the outbox timer waits for one delivery
LEASE = timedelta(seconds=60)  # how long a claim keeps other workers off an item
FIRST_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)
WRITE_ATTEMPTS = 5  # optimistic-concurrency retries of one registration write
MAX_DUE_LIMIT = 1000
MAX_URL_LENGTH = 2048

PAYLOAD_FIELDS = ("productId", "dppId", "endpointUrl", "economicOperatorId", "registeredAt")
# Request field -> its EN 18223 name, accepted as an alias.
ALIASES = {"productId": "uniqueProductIdentifier", "dppId": "digitalProductPassportId"}
ACCEPTED_FIELDS = frozenset({*ALIASES, *ALIASES.values(), "endpointUrl"})
# What makes two registrations of one passport the same (registeredAt aside).
IDENTITY_FIELDS = ("productId", "endpointUrl", "economicOperatorId", "registryUrl")

NOT_CONFIGURED_TEXT = (
    "No DPP registry is configured (DPP_REGISTRY_URL); the registration is recorded locally only"
)


class RegistryRefused(DppError):
    """The registry refused the registration for good, or could not be reached in any attempt."""

    status, code = 502, ErrorCode.REGISTRY_REFUSED


class RegistrationRecord(TypedDict):
    """A passport's registration and its delivery state (one item per passport)."""

    id: str
    dppId: str
    productId: str
    endpointUrl: str
    economicOperatorId: str
    registeredAt: str
    registeredBy: str
    registryUrl: str | None
    state: str
    attempts: int
    nextAttemptAt: str | None
    leaseUntil: str | None
    lastError: str | None
    deliveredAt: str | None
    payload: dict[str, Any]
    _etag: NotRequired[str]


@dataclass(frozen=True)
class RegistryOptions:
    """Where registrations go (None: recorded locally only), and how hard delivery tries."""

    url: str | None = None
    auto_register: bool = False
    max_attempts: int = 8

    @classmethod
    def from_settings(cls, config: Settings) -> RegistryOptions:
        return cls(config.registry_url, config.registry_auto_register, config.registry_max_attempts)


@dataclass(frozen=True)
class Registration:
    """What RegisterProductDPP answers: the stored record, an HTTP status and Info/Warning notes."""

    record: dict[str, Any]
    status: int  # 201 recorded or delivered, 202 accepted (pending), 200 unchanged
    messages: list[dict[str, str]] = field(default_factory=list)


def _message(message_type: str, text: str, code: str) -> dict[str, str]:
    """An EN 18222 Message without correlationId and timestamp (the adapter adds those)."""
    return {"messageType": message_type, "text": text, "code": code}


# -- request parsing ---------------------------------------------------------------------------


def _invalid(text: str) -> BadRequest:
    return BadRequest(text, code=ErrorCode.INVALID_REGISTRATION)


def _text_field(body: dict[str, Any], name: str) -> str:
    alias = ALIASES[name]
    given = {key: body[key] for key in (name, alias) if key in body}
    if not given:
        raise _invalid(f"'{name}' (or '{alias}') is required")
    for key, value in given.items():
        if not isinstance(value, str) or not value.strip():
            raise _invalid(f"'{key}' must be a non-blank string")
    values = set(given.values())
    if len(values) > 1:
        raise _invalid(f"'{name}' and '{alias}' differ; send one of them")
    value = values.pop()
    try:
        return validate_identifier(value, f"'{name}'")
    except BadRequest as exc:
        raise _invalid(exc.text) from None


def check_endpoint_url(value: Any, name: str = "endpointUrl") -> str:
    """An absolute http(s) URL with a host, or a 400."""
    if not isinstance(value, str) or not value.strip():
        raise _invalid(f"'{name}' must be a non-blank string")
    if len(value) > MAX_URL_LENGTH or any(ch.isspace() or ord(ch) < 32 for ch in value):
        raise _invalid(f"'{name}' must be an absolute http(s) URL without whitespace")
    try:
        parts = urlsplit(value)
        host = parts.hostname
        _ = parts.port  # raises on a malformed port
    except ValueError:
        raise _invalid(f"'{name}' is not a valid URL") from None
    if parts.scheme.lower() not in {"http", "https"} or not host:
        raise _invalid(f"'{name}' must be an absolute http or https URL")
    return value


def parse_request(body: Any) -> tuple[str, str, str | None]:
    """`(productId, dppId, endpointUrl or None)` from a RegisterProductDPP body."""
    if not isinstance(body, dict):
        raise _invalid('The body must be a JSON object: {"productId", "dppId", "endpointUrl"?}')
    unknown = sorted(set(body) - ACCEPTED_FIELDS)
    if unknown:
        raise _invalid(f"Unknown field(s): {', '.join(repr(name) for name in unknown)}")
    product_id = _text_field(body, "productId")
    dpp_id = _text_field(body, "dppId")
    endpoint = check_endpoint_url(body["endpointUrl"]) if "endpointUrl" in body else None
    return product_id, dpp_id, endpoint


# -- records -----------------------------------------------------------------------------------


def idempotency_key(record: RegistrationRecord) -> str:
    """Stable per registration: the same on every retry, new when the passport is registered anew."""
    material = f"{record['dppId']}\n{record['registeredAt']}".encode()
    return hashlib.sha256(material).hexdigest()


def _new_record(
    *,
    dpp_id: str,
    product_id: str,
    endpoint_url: str,
    operator_id: str,
    writer: str,
    registry_url: str | None,
    moment: datetime,
    leased: bool,
) -> RegistrationRecord:
    registered_at = format_ts(moment)
    payload = {
        "productId": product_id,
        "dppId": dpp_id,
        "endpointUrl": endpoint_url,
        "economicOperatorId": operator_id,
        "registeredAt": registered_at,
    }
    return {
        "id": REGISTRATION_ID,
        "dppId": dpp_id,
        "productId": product_id,
        "endpointUrl": endpoint_url,
        "economicOperatorId": operator_id,
        "registeredAt": registered_at,
        "registeredBy": writer,
        "registryUrl": registry_url,
        "state": PENDING if registry_url else RECORDED,
        "attempts": 0,
        "nextAttemptAt": registered_at if registry_url else None,
        # The writer that will attempt inline holds the item from the start, so the timer
        # cannot deliver it at the same moment; if that writer dies, the lease runs out.
        "leaseUntil": format_ts(moment + LEASE) if registry_url and leased else None,
        "lastError": None,
        "deliveredAt": None,
        "payload": payload,
    }


def _leased(record: RegistrationRecord, moment: datetime) -> bool:
    lease = record.get("leaseUntil")
    return lease is not None and lease > format_ts(moment)


def _same(existing: RegistrationRecord, wanted: RegistrationRecord) -> bool:
    return all(existing.get(name) == wanted.get(name) for name in IDENTITY_FIELDS)


def _shown(record: RegistrationRecord) -> dict[str, Any]:
    """The record as clients see it: without Cosmos DB's system properties."""
    return without_system(dict(record))


def backoff(attempts: int) -> timedelta:
    """Delay before attempt `attempts + 1`: 30 s, 60 s, 120 s, ... at most one hour."""
    exponent = max(attempts - 1, 0)
    if exponent >= 32:  # far beyond the cap; avoids a huge timedelta
        return MAX_BACKOFF
    return min(FIRST_BACKOFF * (2**exponent), MAX_BACKOFF)


# -- the registry --------------------------------------------------------------------------------


def check_registrar(principal: Principal) -> None:
    """Token and role, before the body is read or anything is looked up (401, 403)."""
    authorize(Action.UPDATE, principal, None)


def _record(found: dict[str, Any] | None) -> RegistrationRecord | None:
    return cast(RegistrationRecord | None, found)


class Registry:
    """RegisterProductDPP, the registration records, and the outbox that delivers them."""

    def __init__(
        self,
        store: Store,
        passports: PassportRepository,
        options: RegistryOptions,
        client: RegistryClient,
        clock: Clock = utcnow,
    ):
        self.store = store
        self.passports = passports
        self.options = options
        self.client = client
        self.clock = clock

    # -- RegisterProductDPP ----------------------------------------------------------------------

    def register(
        self, body: Any, principal: Principal, default_endpoint: Callable[[str], str]
    ) -> Registration:
        """RegisterProductDPP for the passport named in `body`, by its owner.

        `default_endpoint(dppId)` is the passport's URL, used when the body has no `endpointUrl`.
        """
        check_registrar(principal)
        product_id, dpp_id, endpoint_url = parse_request(body)
        head = self.passports.head(dpp_id)
        if head is None or head["deleted"]:
            raise NotFound(f"No passport found for id '{dpp_id}'", code=ErrorCode.PASSPORT_NOT_FOUND)
        document = head["document"]
        authorize(Action.UPDATE, principal, document)
        if product_id != document["uniqueProductIdentifier"]:
            raise Conflict(
                f"productId '{product_id}' is not the passport's uniqueProductIdentifier",
                code=ErrorCode.PRODUCT_MISMATCH,
            )
        return self._save(
            dpp_id=dpp_id,
            product_id=product_id,
            endpoint_url=endpoint_url or check_endpoint_url(default_endpoint(dpp_id)),
            operator_id=document["economicOperatorId"],
            writer=principal.subject,
            inline=True,
        )

    def auto_register(self, head: PassportItem, endpoint_url: str, writer: str) -> dict[str, Any] | None:
        """For CreateDPP: with `DPP_REGISTRY_AUTO_REGISTER` and a registry configured, store a
        `pending` registration of the new passport (no inline attempt: the outbox timer delivers it
        within a minute) and return the record; otherwise None. Raises ServiceUnavailable when the
        store is unreachable, like any other write."""
        if not (self.options.auto_register and self.options.url):
            return None
        document = head["document"]
        result = self._save(
            dpp_id=head["dppId"],
            product_id=document["uniqueProductIdentifier"],
            endpoint_url=check_endpoint_url(endpoint_url),
            operator_id=document["economicOperatorId"],
            writer=writer,
            inline=False,
        )
        return result.record

    def register_created(self, head: PassportItem, endpoint_url: str, principal: Principal) -> str:
        """CreateDPP's automatic registration (when configured): `pending`, `off`, or `failed`.

        The passport is already stored, so a failure to record its registration must not fail the
        create; it is logged and reported, and RegisterProductDPP can be called again.
        """
        try:
            record = self.auto_register(head, endpoint_url, principal.subject)
        except DppError:
            log.exception("Automatic registration of %s was not recorded", head["dppId"])
            return "failed"
        return "off" if record is None else str(record["state"])

    def _save(
        self,
        *,
        dpp_id: str,
        product_id: str,
        endpoint_url: str,
        operator_id: str,
        writer: str,
        inline: bool,
    ) -> Registration:
        registry_url = self.options.url
        fields = {
            "dpp_id": dpp_id,
            "product_id": product_id,
            "endpoint_url": endpoint_url,
            "operator_id": operator_id,
            "writer": writer,
            "registry_url": registry_url,
        }
        written = self._write(fields, inline)
        if isinstance(written, Registration):
            return written
        if not registry_url:
            note = _message("Info", NOT_CONFIGURED_TEXT, ErrorCode.REGISTRY_NOT_CONFIGURED)
            return Registration(_shown(written), 201, [note])
        if not inline:
            return Registration(_shown(written), 202)
        return self._deliver_inline(written, registry_url)

    def _write(self, fields: dict[str, Any], inline: bool) -> RegistrationRecord | Registration:
        """Store the registration durably (the stored item), or the answer when nothing changes."""
        for _ in range(WRITE_ATTEMPTS):
            existing = _record(self.store.read(REGISTRATIONS, REGISTRATION_ID, fields["dpp_id"]))
            moment = self.clock()
            wanted = _new_record(**fields, moment=moment, leased=inline)
            if existing is not None:
                unchanged = _unchanged(existing, wanted)
                if unchanged is not None:
                    return unchanged
                if _leased(existing, moment):
                    raise Conflict(
                        "A delivery of this passport's registration is under way; retry shortly",
                        code=ErrorCode.REGISTRATION_IN_PROGRESS,
                        headers={"Retry-After": str(int(LEASE.total_seconds()))},
                    )
            try:
                if existing is None:
                    return cast(RegistrationRecord, self.store.create(REGISTRATIONS, dict(wanted)))
                stored = self.store.replace(REGISTRATIONS, dict(wanted), existing["_etag"])
                return cast(RegistrationRecord, stored)
            except (ItemExists, ItemChanged):
                continue  # a concurrent registration of the same passport: decide again
        raise ServiceUnavailable(
            "The registration kept changing concurrently; retry", code=ErrorCode.REGISTRATION_BUSY
        )

    def _deliver_inline(self, stored: RegistrationRecord, registry_url: str) -> Registration:
        """One attempt right away, with a short timeout; the outbox takes over if it fails."""
        outcome, record, sent = self._attempt(stored, registry_url, self.clock(), INLINE_TIMEOUT)
        if outcome == DELIVERED:
            return Registration(_shown(record), 201)
        if outcome == RETRIED:
            text = (
                f"The DPP registry could not be reached ({record.get('lastError')}); the registration "
                f"is stored and delivery will be retried from {record.get('nextAttemptAt')}"
            )
            warning = _message("Warning", text, ErrorCode.REGISTRY_DELIVERY_PENDING)
            return Registration(_shown(record), 202, [warning])
        if outcome == FAILED:
            code = ErrorCode.REGISTRY_REJECTED if sent.outcome == FAILED else ErrorCode.REGISTRY_UNREACHABLE
            raise RegistryRefused(
                f"The DPP registry did not accept the registration ({record.get('attempts')} "
                f"attempt(s)): {record.get('lastError')}",
                code=code,
            )
        # SKIPPED: the record changed under us (a concurrent re-registration won); report what is stored.
        current = _record(self.store.read(REGISTRATIONS, REGISTRATION_ID, stored["dppId"])) or record
        return Registration(_shown(current), 202)

    # -- reading -----------------------------------------------------------------------------------

    def read(self, dpp_id: str, principal: Principal) -> dict[str, Any]:
        """The registration record, for the passport's owner and the `authority` role only."""
        head = self.passports.head(dpp_id)
        if head is None:
            raise NotFound(f"No passport found for id '{dpp_id}'", code=ErrorCode.PASSPORT_NOT_FOUND)
        missing = NotFound(
            f"No registration found for passport '{dpp_id}'", code=ErrorCode.REGISTRATION_NOT_FOUND
        )
        try:
            authorize(Action.READ_ARCHIVE, principal, head["document"])
        except NotFound:
            if head["deleted"]:  # an archived passport stays invisible to everyone else
                raise NotFound(
                    f"No passport found for id '{dpp_id}'", code=ErrorCode.PASSPORT_NOT_FOUND
                ) from None
            raise missing from None
        record = _record(self.store.read(REGISTRATIONS, REGISTRATION_ID, dpp_id))
        if record is None:
            raise missing
        return _shown(record)

    # -- delivery ----------------------------------------------------------------------------------

    def _attempt(
        self, claimed: RegistrationRecord, url: str, moment: datetime, timeout: float
    ) -> tuple[str, RegistrationRecord, Sent]:
        """Send a claimed item once and store the result (If-Match on the claim's ETag).

        Returns the outcome (DELIVERED, RETRIED, FAILED, or SKIPPED when the item changed meanwhile),
        the item as stored afterwards and what the registry said.
        """
        sent = self.client.post(url, claimed["payload"], idempotency_key(claimed), timeout)
        attempts = int(claimed.get("attempts") or 0) + 1
        updated = cast(
            RegistrationRecord,
            {**_shown(claimed), "attempts": attempts, "registryUrl": url, "leaseUntil": None},
        )
        if sent.outcome == DELIVERED:
            updated.update(
                {
                    "state": DELIVERED,
                    "deliveredAt": format_ts(moment),
                    "nextAttemptAt": None,
                    "lastError": None,
                }
            )
            outcome = DELIVERED
        elif sent.outcome == RETRIED and attempts < self.options.max_attempts:
            retry_at = format_ts(moment + backoff(attempts))
            updated.update({"state": PENDING, "nextAttemptAt": retry_at, "lastError": sent.error})
            outcome = RETRIED
        else:
            updated.update({"state": FAILED, "nextAttemptAt": None, "lastError": sent.error})
            outcome = FAILED
        try:
            stored = self.store.replace(REGISTRATIONS, dict(updated), claimed["_etag"])
            return outcome, cast(RegistrationRecord, stored), sent
        except ItemChanged:
            # Re-registered meanwhile, or our lease ran out and another worker took over; the
            # registry deduplicates a repeat by Idempotency-Key.
            log.warning("Registration of %s changed during delivery; result not stored", claimed["dppId"])
            return SKIPPED, claimed, sent

    def deliver(
        self, record: RegistrationRecord, *, now: datetime | None = None, timeout: float = BACKGROUND_TIMEOUT
    ) -> str:
        """Claim a stored `pending` item (with its `_etag`) and make one delivery attempt.

        Returns DELIVERED, RETRIED, FAILED, or SKIPPED (not pending, leased by another worker, the
        claim lost a race, or no registry configured). `now` is the clock (tests advance it).
        """
        url = self.options.url
        moment = now or self.clock()
        if not url or record.get("state") != PENDING or _leased(record, moment):
            return SKIPPED
        claim = {**_shown(record), "leaseUntil": format_ts(moment + LEASE)}
        try:
            claimed = cast(RegistrationRecord, self.store.replace(REGISTRATIONS, claim, record["_etag"]))
        except ItemChanged:
            return SKIPPED  # another worker claimed it first, or it was re-registered
        return self._attempt(claimed, url, moment, timeout)[0]

    def deliver_due(self, now: datetime | None = None, limit: int = 50) -> dict[str, int]:
        """Deliver up to `limit` pending registrations that are due at `now` (default: the clock).

        Returns counts: delivered, retried, failed, skipped (claimed by another worker meanwhile).
        """
        counts = dict.fromkeys((DELIVERED, RETRIED, FAILED, SKIPPED), 0)
        if not self.options.url:
            return counts  # nowhere to deliver to; pending items wait for a registry
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_DUE_LIMIT:
            raise ValueError(f"limit must be an integer from 1 to {MAX_DUE_LIMIT}")
        moment = now or self.clock()
        # A cross-partition query, acceptable here because it runs on a timer (the outbox), never on
        # a request path; it reads only due items, through the index on state and nextAttemptAt.
        due = self.store.query_background(
            REGISTRATIONS, DUE_QUERY.format(limit=limit), {"@pending": PENDING, "@now": format_ts(moment)}
        )
        for record in due:
            try:
                outcome = self.deliver(cast(RegistrationRecord, record), now=moment)
            except DppError:
                raise  # the store itself is unavailable: the next run tries again
            except Exception as exc:
                # One item that cannot be sent (a payload stored before input was checked as
                # strictly as now) must not stop the outbox for every item after it.
                log.exception("Registration of %s cannot be sent", record.get("dppId"))
                outcome = self._unsendable(cast(RegistrationRecord, record), exc)
            counts[outcome] += 1
        return counts

    def _unsendable(self, record: RegistrationRecord, exc: Exception) -> str:
        failed = {
            **_shown(record),
            "state": FAILED,
            "nextAttemptAt": None,
            "leaseUntil": None,
            "lastError": f"cannot be sent: {type(exc).__name__}",
        }
        try:
            current = self.store.read(REGISTRATIONS, REGISTRATION_ID, record["dppId"])
            if current is not None:
                self.store.replace(REGISTRATIONS, failed, current["_etag"])
        except ItemChanged:
            return SKIPPED
        return FAILED


DUE_QUERY = (
    "SELECT TOP {limit} * FROM c WHERE c.state = @pending AND c.nextAttemptAt <= @now"
    " AND (NOT IS_DEFINED(c.leaseUntil) OR IS_NULL(c.leaseUntil) OR c.leaseUntil <= @now)"
    " ORDER BY c.nextAttemptAt"
)


def _unchanged(existing: RegistrationRecord, wanted: RegistrationRecord) -> Registration | None:
    """The answer when re-registering changes nothing; None when the record must be replaced."""
    if not _same(existing, wanted):
        return None
    state = existing.get("state")
    if state == DELIVERED:
        text = "The passport is already registered with this payload; nothing was sent again"
        return Registration(_shown(existing), 200, [_message("Info", text, ErrorCode.ALREADY_REGISTERED)])
    if state == RECORDED:
        note = _message("Info", NOT_CONFIGURED_TEXT, ErrorCode.REGISTRY_NOT_CONFIGURED)
        return Registration(_shown(existing), 200, [note])
    if state == PENDING:
        text = "A delivery of this registration is already pending; the outbox will retry it"
        note = _message("Info", text, ErrorCode.REGISTRY_DELIVERY_PENDING)
        return Registration(_shown(existing), 202, [note])
    return None  # failed: registering again starts over
