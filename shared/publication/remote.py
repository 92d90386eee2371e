"""Passports at other providers: fetched safely, verified against that provider's keys, cached as
the provider allows.

A target URL is asked for its EN 18222 document (`Accept: application/json`; a GS1 resolver
redirects there, a linkset's `gs1:dpp` link is followed). The body's `signature` must be an SD-JWT
presentation issued by a did:web DID **on the host that served the document**; that DID's document
(fetched from the same host, cached the same way) gives the key. The checks are the ones
`/api/v1/verify` runs (`shared.passports.history.verify_response`): signature, disclosures,
issuer, contentHash, and that the body is what the presentation discloses. The node's status is
the lifecycle status the signed claims state, so a revocation shows as soon as it is fetched.

Answers are cached by URL for as long as their Cache-Control allows (`max-age`, capped at
MAX_TTL; `no-cache` or none: revalidated with the ETag on the next read; `no-store`/`private`: not
kept); failures for NEGATIVE_TTL, so a dead provider costs one timeout, not one per read. The
cache is bounded (least recently used entries go first).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit

from shared.access.policy import ENVELOPE_CLAIM
from shared.integrity.did import did_web_url
from shared.integrity.sd_jwt import parse
from shared.passports.history import verify_response
from shared.platform.clock import Clock, format_ts, utcnow
from shared.platform.json_input import read_json
from shared.platform.outbound import (
    Budget,
    BudgetSpent,
    OutboundClient,
    OutboundError,
    Refused,
    Response,
    Unreachable,
)

log = logging.getLogger(__name__)

VERIFIED, UNVERIFIED, UNREACHABLE, LOCAL = "verified", "unverified", "unreachable", "local"
UNKNOWN = "unknown"
ACCEPT = "application/json, application/ld+json;q=0.9, application/linkset+json;q=0.8"
DID_ACCEPT = "application/did+json, application/json;q=0.9"
LINKSET_TYPE = "application/linkset+json"
GS1_DPP = ("https://gs1.org/voc/dpp", "https://ref.gs1.org/voc/dpp", "gs1:dpp")
MAX_TTL = timedelta(hours=1)
NEGATIVE_TTL = timedelta(seconds=30)
MAX_ENTRIES = 10_000
# Background refreshes queued at once (pages naming targets not fetched yet).
MAX_PENDING = 64
# What a provider answers when it has no such passport (or withdrew it), as a status.
GONE_STATUS = {404: "NotFound", 410: "Gone"}


@dataclass(frozen=True)
class RemoteNode:
    url: str
    verification: str
    status: str = UNKNOWN
    fetched_at: str | None = None
    dpp_id: str | None = None
    product_id: str | None = None
    issuer: str | None = None
    reason: str | None = None

    def as_node(self) -> dict[str, Any]:
        node: dict[str, Any] = {"url": self.url}
        for name, value in (("dppId", self.dpp_id), ("productId", self.product_id)):
            if value is not None:
                node[name] = value
        node.update(status=self.status, verification=self.verification)
        for name, value in (("fetchedAt", self.fetched_at), ("issuer", self.issuer), ("reason", self.reason)):
            if value is not None:
                node[name] = value
        return node


@dataclass(frozen=True)
class _Entry:
    value: Any
    expires: datetime
    etag: str | None
    url: str  # where the cached answer came from (after redirects)
    # Until when the redirects that led to `url` may be reused: revalidate `url` directly.
    redirect_until: datetime | None = None


class _Cache:
    def __init__(self, max_entries: int):
        self.max_entries = max_entries
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: str, entry: _Entry) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def drop(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)


def freshness(headers: dict[str, str] | Any) -> timedelta | None:
    """How long an answer may be used without asking again; None: it must not be kept."""
    directives = {}
    for part in str(headers.get("cache-control", "")).split(","):
        name, _, value = part.strip().partition("=")
        directives[name.lower()] = value.strip('"')
    if "no-store" in directives or "private" in directives:
        return None
    if "no-cache" in directives:
        return timedelta(0)
    try:
        return min(timedelta(seconds=max(int(directives.get("max-age", "0")), 0)), MAX_TTL)
    except ValueError:
        return timedelta(0)


class _Unverified(Exception):
    def __init__(self, reason: str, claims: dict[str, Any] | None = None):
        super().__init__(reason)
        self.reason = reason
        self.claims = claims


class RemotePassports:
    def __init__(self, client: OutboundClient, clock: Clock = utcnow, max_entries: int = MAX_ENTRIES):
        self.client = client
        self.clock = clock
        self._nodes = _Cache(max_entries)
        self._dids = _Cache(max_entries)
        self._pending: set[str] = set()
        self._pending_lock = threading.Lock()

    def known(self, url: str) -> RemoteNode | None:
        """What the last fetch of `url` found, however old; None if it was never fetched."""
        entry = self._nodes.get(url)
        return None if entry is None else entry.value

    def refresh_later(self, urls: Iterable[str], pool: Executor, budget: int) -> None:
        """Fetch in the background what is not cached fresh (each URL once at a time, at most
        MAX_PENDING at once), so a page that names it shows its status on a later read."""
        now = self.clock()
        for url in urls:
            entry = self._nodes.get(url)
            if entry is not None and entry.expires > now:
                continue
            with self._pending_lock:
                if url in self._pending or len(self._pending) >= MAX_PENDING:
                    continue
                self._pending.add(url)
            pool.submit(self._refresh, url, budget)

    def _refresh(self, url: str, budget: int) -> None:
        try:
            self.node(url, Budget(budget))
        finally:
            with self._pending_lock:
                self._pending.discard(url)

    def node(self, url: str, budget: Budget) -> RemoteNode:
        """What `url` is, as far as fetching and verifying it tells; never raises."""
        now = self.clock()
        cached = self._nodes.get(url)
        if cached is not None and cached.expires > now:
            node: RemoteNode = cached.value
            return node
        try:
            return self._fetch(url, cached, budget, now)
        except BudgetSpent as exc:
            return RemoteNode(url, UNVERIFIED, reason=exc.reason)
        except OutboundError as exc:
            reason = f"refused: {exc.reason}" if isinstance(exc, Refused) else exc.reason
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            # Whatever else another provider's answer breaks stays that provider's problem.
            log.warning("unusable answer from %s: %r", url, exc)
            reason = "the answer could not be used"
        failed = RemoteNode(url, UNREACHABLE, fetched_at=format_ts(now), reason=reason)
        self._nodes.put(url, _Entry(failed, now + NEGATIVE_TTL, None, url))
        return failed

    def _fetch(self, url: str, cached: _Entry | None, budget: Budget, now: datetime) -> RemoteNode:
        headers = {"Accept": ACCEPT}
        if cached is not None and cached.etag:
            headers["If-None-Match"] = cached.etag
        direct = cached is not None and cached.redirect_until is not None and cached.redirect_until > now
        response = self.client.get(cached.url if direct and cached else url, headers, budget)
        redirect_until = cached.redirect_until if direct and cached else _redirects_kept(response, now)
        if response.status == 304 and cached is not None:
            node = replace(cached.value, fetched_at=format_ts(now))
            self._keep(url, node, response, now, etag=cached.etag, redirect_until=redirect_until)
            return node
        if response.status in GONE_STATUS:
            reason = f"the provider answered {response.status}"
            node = RemoteNode(url, UNVERIFIED, GONE_STATUS[response.status], format_ts(now), reason=reason)
            self._keep(url, node, response, now, etag=None, fallback=NEGATIVE_TTL)
            return node
        if response.status != 200:
            raise Unreachable(f"the provider answered {response.status}")
        body = _json(response)
        if _is_linkset(response, body):
            redirect_until = None
            response = self.client.get(_dpp_link(body, response.url), {"Accept": ACCEPT}, budget)
            if response.status != 200:
                raise Unreachable(f"the passport the linkset names answered {response.status}")
            body = _json(response)
        try:
            node = self._verified(url, body, response, budget, now)
        except _Unverified as exc:
            envelope = (exc.claims or {}).get(ENVELOPE_CLAIM, {})
            node = RemoteNode(
                url,
                UNVERIFIED,
                _status(envelope) if exc.claims else UNKNOWN,
                format_ts(now),
                envelope.get("id"),
                envelope.get("productId"),
                reason=exc.reason,
            )
        self._keep(url, node, response, now, etag=response.headers.get("etag"), redirect_until=redirect_until)
        return node

    def _keep(
        self,
        url: str,
        node: RemoteNode,
        response: Response,
        now: datetime,
        *,
        etag: str | None,
        fallback: timedelta | None = None,
        redirect_until: datetime | None = None,
    ) -> None:
        lasting = freshness(response.headers)
        if lasting is None:
            self._nodes.drop(url)
            return
        if fallback is not None and lasting == timedelta(0):
            lasting = fallback
        self._nodes.put(url, _Entry(node, now + lasting, etag, response.url, redirect_until))

    def _verified(self, url: str, body: Any, response: Response, budget: Budget, now: datetime) -> RemoteNode:
        if not isinstance(body, dict) or not isinstance(body.get("signature"), str):
            raise _Unverified("the answer carries no signature")
        try:
            issuer = str(parse(body["signature"]).payload.get("iss", ""))
            host, did_url = did_web_url(issuer, urlsplit(response.url).scheme)
        except ValueError as exc:
            raise _Unverified(str(exc)) from None
        served_by = urlsplit(response.url).netloc.lower()
        if host.lower() != served_by:
            raise _Unverified(f"issued by {issuer}, which is not on {served_by}, the host that served it")
        keys = self._keys(did_url, budget, now)
        result = verify_response(body, lambda kid: _key(keys, kid, issuer))
        claims = result.get("disclosed")
        if not result["valid"] and keys and claims is None and "kid" in result["failedChecks"]:
            # A key rotated since the DID document was cached: ask once more.
            keys = self._keys(did_url, budget, now, refresh=True)
            result = verify_response(body, lambda kid: _key(keys, kid, issuer))
            claims = result.get("disclosed")
        if not result["valid"]:
            raise _Unverified("failed checks: " + ", ".join(result["failedChecks"]), claims)
        envelope = (claims or {}).get(ENVELOPE_CLAIM, {})
        return RemoteNode(
            url,
            VERIFIED,
            _status(envelope),
            format_ts(now),
            envelope.get("id"),
            envelope.get("productId"),
            issuer,
        )

    def _keys(self, did_url: str, budget: Budget, now: datetime, refresh: bool = False) -> Any:
        """The DID document at `did_url` (its verification methods), cached as it allows."""
        cached = self._dids.get(did_url)
        if cached is not None and cached.expires > now and not refresh:
            return cached.value
        try:
            response = self.client.get(did_url, {"Accept": DID_ACCEPT}, budget)
        except OutboundError as exc:
            raise _Unverified(f"the issuer's DID document could not be fetched: {exc.reason}") from None
        if response.status != 200:
            raise _Unverified(f"the issuer's DID document answered {response.status}")
        try:
            document = read_json(response.body)
        except ValueError:
            raise _Unverified("the issuer's DID document is not JSON") from None
        lasting = freshness(response.headers)
        if lasting is not None:
            self._dids.put(did_url, _Entry(document, now + lasting, None, response.url))
        return document


def _redirects_kept(response: Response, now: datetime) -> datetime | None:
    """Until when every redirect on the way to `response` may be reused (None: not at all)."""
    lasting = [freshness(headers) for headers in response.redirected_by]
    if not lasting or any(value is None or value <= timedelta(0) for value in lasting):
        return None
    return now + min(value for value in lasting if value is not None)


def _json(response: Response) -> Any:
    try:
        return read_json(response.body)
    except ValueError:
        raise Unreachable("the answer is not JSON") from None


def _is_linkset(response: Response, body: Any) -> bool:
    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    return media == LINKSET_TYPE or (isinstance(body, dict) and isinstance(body.get("linkset"), list))


def _dpp_link(body: Any, base: str) -> str:
    """The EN 18222 document a linkset's `gs1:dpp` links name (JSON first, else the first)."""
    contexts = body.get("linkset") if isinstance(body, dict) else None
    targets = [
        target
        for context in contexts or []
        if isinstance(context, dict)
        for name in GS1_DPP
        for target in context.get(name, []) or []
        if isinstance(target, dict) and isinstance(target.get("href"), str)
    ]
    if not targets:
        raise Unreachable("the linkset names no gs1:dpp link")
    chosen = next((t for t in targets if t.get("type") == "application/json"), targets[0])
    return urljoin(base, chosen["href"])


def _key(document: Any, kid: str, did: str) -> dict[str, Any] | None:
    """The public key `kid` among the DID document's assertion methods (by the JWK's kid or the
    method id), only when the document is the issuer's own."""
    if not isinstance(document, dict) or document.get("id") != did:
        return None
    asserting = {ref for ref in document.get("assertionMethod", []) if isinstance(ref, str)}
    for method in document.get("verificationMethod", []):
        if not isinstance(method, dict) or method.get("id") not in asserting:
            continue
        jwk = method.get("publicKeyJwk")
        if isinstance(jwk, dict) and kid in (jwk.get("kid"), method.get("id")):
            return jwk
    return None


def _status(envelope: dict[str, Any]) -> str:
    if envelope.get("deleted"):
        return "Revoked"
    lifecycle = envelope.get("lifecycle")
    status = lifecycle.get("status") if isinstance(lifecycle, dict) else None
    return str(status) if status else UNKNOWN
