"""Bitstring Status Lists (W3C Bitstring Status List v1.0): how a UNTP credential is revoked.

Every passport takes one index in one list when it is created, and keeps it: each version's
`credentialStatus` (`{"list": "<n>", "index": <i>}`) is carried from the head, so every UNTP
credential any of its versions carries names the same bit, and revoking (or deleting) the
passport revokes them all. Global index `g` is bit `g % LIST_SIZE` of list `g // LIST_SIZE`.

Allocation adds no read or write to a create: a process reserves BLOCK indices at a time from
one counter item (`statusLists`, partition `allocator`), by an ETag-conditional replace (hi/lo),
and hands them out from memory; indices a process never handed out stay 0 for ever. A block that
reaches into a list makes sure that list exists, signed with every bit 0, so a verifier can fetch
it before anything is revoked (reads never sign).

A bit is set from the passports' change feed (`apply`, a move of `shared.publication.derived`):
a head that is revoked or deleted sets its passport's bit, idempotently, and the list credential
is signed anew and stored with an ETag-conditional replace, retried when another revocation got
in first, so two at once both land. Readers see the flip after the feed's lag and the list's
max-age (docs/interoperability.md).
"""

from __future__ import annotations

import contextlib
import gzip
import threading
from dataclasses import dataclass
from typing import Any, Protocol

from shared.documents.lifecycle import is_revoked
from shared.integrity.sealer import Sealer
from shared.passports.records import PassportItem
from shared.platform.clock import format_ts, utcnow
from shared.platform.encoding import b64url, b64url_decode
from shared.platform.errors import ErrorCode, NotFound, ServiceUnavailable
from shared.storage.cosmos import (
    CONFLICT_ATTEMPTS,
    STATUS_LISTS,
    ItemChanged,
    ItemExists,
    Store,
    after_conflict,
)

# The specification's minimum (16 KB of bits): lists smaller than this give away too much of who
# was revoked (its "herd privacy").
LIST_SIZE = 131_072
# Indices a process reserves at once: 128 blocks a list, so a block never spans two lists.
BLOCK = 1024
ALLOCATOR = "allocator"
LIST_ITEM = "list"
PURPOSE = "revocation"
TYP, CTY = "vc+jwt", "vc"
CONTEXT = "https://www.w3.org/ns/credentials/v2"
# How long a list may be cached (Cache-Control max-age, and the credential's `ttl`): a revocation
# reaches a verifier within the change feed's lag plus this.
MAX_AGE = 60


class StatusListUrls(Protocol):
    """Where the HTTP layer serves a list (functions.routes builds it from the route table)."""

    def status_list(self, list_id: str) -> str: ...


@dataclass(frozen=True)
class StatusEntry:
    list_id: str
    index: int

    def stored(self) -> dict[str, Any]:
        return {"list": self.list_id, "index": self.index}


def stored_entry(item: dict[str, Any]) -> StatusEntry | None:
    found = item.get("credentialStatus")
    if not isinstance(found, dict):
        return None
    return StatusEntry(str(found["list"]), int(found["index"]))


def encode_list(bits: bytes) -> str:
    """The multibase base64url (`u`, no padding) of the GZIP-compressed bitstring."""
    return "u" + b64url(gzip.compress(bits, mtime=0))


def decode_list(encoded: str) -> bytes:
    if not encoded.startswith("u"):
        raise ValueError("an encodedList is multibase base64url ('u')")
    return gzip.decompress(b64url_decode(encoded[1:]))


def bit_of(bits: bytes, index: int) -> bool:
    # Index 0 is the left-most bit of the first byte.
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def with_bit(bits: bytes, index: int) -> bytes:
    changed = bytearray(bits)
    changed[index // 8] |= 0x80 >> (index % 8)
    return bytes(changed)


class StatusLists:
    """Reserves indices, keeps the lists, and sets a revoked passport's bit (module docstring)."""

    def __init__(self, store: Store, sealer: Sealer, service_did: str, urls: StatusListUrls, *, max_age: int):
        self.store = store
        self.sealer = sealer
        self.service_did = service_did
        self.urls = urls
        self.max_age = max_age
        self._lock = threading.Lock()
        self._next = 0
        self._end = 0

    # -- allocation ------------------------------------------------------------------------------

    def allocate(self) -> StatusEntry:
        """A fresh index for a new passport: from this process's block, reserving one when empty."""
        with self._lock:
            if self._next >= self._end:
                self._next, self._end = self._reserve()
            index = self._next
            self._next += 1
        return StatusEntry(str(index // LIST_SIZE), index % LIST_SIZE)

    def _reserve(self) -> tuple[int, int]:
        for attempt in range(CONFLICT_ATTEMPTS):
            counter = self.store.read(STATUS_LISTS, ALLOCATOR, ALLOCATOR)
            try:
                if counter is None:
                    start = 0
                    self.store.create(STATUS_LISTS, _counter(BLOCK))
                else:
                    start = int(counter["next"])
                    self.store.replace(STATUS_LISTS, _counter(start + BLOCK), counter["_etag"])
            except (ItemExists, ItemChanged):
                after_conflict(attempt)
                continue
            self._ensure_list(str(start // LIST_SIZE))
            return start, start + BLOCK
        raise ServiceUnavailable(
            "Too many processes reserving status list indices at once; retry shortly",
            code=ErrorCode.WRITE_CONTENTION,
            headers={"Retry-After": "1"},
        )

    def _ensure_list(self, list_id: str) -> None:
        if self.store.read(STATUS_LISTS, LIST_ITEM, list_id) is not None:
            return
        bits = bytes(LIST_SIZE // 8)
        with contextlib.suppress(ItemExists):  # another process made it first: the same empty list
            self.store.create(STATUS_LISTS, self._list_item(list_id, bits, 0))

    # -- the lists -------------------------------------------------------------------------------

    def credential(self, list_id: str) -> str:
        """The list's signed BitstringStatusListCredential, as stored (a compact vc+jwt)."""
        found = self.store.read(STATUS_LISTS, LIST_ITEM, list_id) if list_id.isdigit() else None
        if found is None:
            raise NotFound(f"No status list '{list_id}'", code=ErrorCode.STATUS_LIST_NOT_FOUND)
        return str(found["credential"])

    def is_revoked(self, entry: StatusEntry) -> bool:
        found = self.store.read(STATUS_LISTS, LIST_ITEM, entry.list_id)
        return found is not None and bit_of(decode_list(found["encodedList"]), entry.index)

    def revoke(self, entry: StatusEntry) -> bool:
        """Set the entry's bit (once; True when this call set it), re-signing the list."""
        for attempt in range(CONFLICT_ATTEMPTS):
            found = self.store.read(STATUS_LISTS, LIST_ITEM, entry.list_id)
            if found is None:
                self._ensure_list(entry.list_id)
                continue
            bits = decode_list(found["encodedList"])
            if bit_of(bits, entry.index):
                return False
            item = self._list_item(entry.list_id, with_bit(bits, entry.index), int(found["revision"]) + 1)
            try:
                self.store.replace(STATUS_LISTS, item, found["_etag"])
                return True
            except ItemChanged:
                after_conflict(attempt)  # another revocation of this list landed first: on top of it
        raise ServiceUnavailable(
            f"Too many concurrent revocations in status list {entry.list_id}; retry shortly",
            code=ErrorCode.WRITE_CONTENTION,
            headers={"Retry-After": "1"},
        )

    def apply(self, before: PassportItem | None, head: PassportItem) -> None:
        """The change feed's move: a revoked or deleted head sets its passport's bit."""
        entry = stored_entry(dict(head))
        if entry is not None and (head["deleted"] or is_revoked(head["lifecycle"])):
            self.revoke(entry)

    def _list_item(self, list_id: str, bits: bytes, revision: int) -> dict[str, Any]:
        encoded = encode_list(bits)
        url = self.urls.status_list(list_id)
        payload = {
            "@context": [CONTEXT],
            "id": url,
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": self.service_did,
            "validFrom": format_ts(utcnow()),
            "credentialSubject": {
                "id": f"{url}#list",
                "type": "BitstringStatusList",
                "statusPurpose": PURPOSE,
                "encodedList": encoded,
                # How long a verifier may keep it, in milliseconds: the response's max-age.
                "ttl": self.max_age * 1000,
            },
        }
        token = self.sealer.jws_under_did(payload, self.service_did, {"typ": TYP, "cty": CTY})
        return {
            "id": LIST_ITEM,
            "listId": list_id,
            "revision": revision,
            "encodedList": encoded,
            "credential": token,
        }


def _counter(following: int) -> dict[str, Any]:
    return {"id": ALLOCATOR, "listId": ALLOCATOR, "next": following}
