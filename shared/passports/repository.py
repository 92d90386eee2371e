"""Atomic, versioned passport writes on Cosmos DB without transactional batch.

A passport's versions and its head share one logical partition (the passport id). A write of
version N+1 first *creates* the immutable item `vN+1` (a 409 means another writer got there
first), then swaps `head` to it with If-Match on the head's ETag. Readers only follow `head`, so a
crash between the two steps leaves a version nobody can see; whoever next finds `vN+1` present
while `head` is still at N finishes that write (rolls the head forward) before writing N+2.
Reads of history are bounded by the head's version for the same reason.

The version and the head go in one transactional batch (one request; in Cosmos DB all or
nothing). The local stand-in runs a batch's operations in order and stops at the first failure
without undoing the earlier ones, so there a version may be left without its head, exactly the
interrupted write the roll-forward above finishes: one code path serves both.

A new passport costs three writes in two requests and no read (`commit(..., new=True)`): the
product's lookup is created first, unsigned, and is the existence check (a 409 sends the write
down the careful path that reads first); then the version and the head. Derived data (search,
relations) is not written here: it follows from the change feed (`shared.publication.derived`).
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from shared.documents.digital_link import product_key
from shared.documents.entity_tags import content_etag
from shared.documents.lifecycle import labels_after
from shared.integrity.signatures import content_hash
from shared.passports.issuance import Issuance
from shared.passports.records import PassportItem, ProductLookup
from shared.platform.clock import format_ts, utcnow
from shared.platform.errors import Conflict, ErrorCode, ServiceUnavailable
from shared.storage.cosmos import (
    CONFLICT_ATTEMPTS,
    PASSPORTS,
    PRODUCTS,
    BatchFailed,
    ItemChanged,
    ItemExists,
    Store,
    after_conflict,
    create_operation,
    replace_operation,
    without_system,
)

HEAD_ID = "head"
LOOKUP_ID = "lookup"
ID_CACHE_SECONDS, ID_CACHE_SIZE = 300.0, 100_000
# A product lookup naming a passport whose head never appeared is a crashed create once this old.
STALE_LOOKUP = timedelta(seconds=60)
# A version beyond the head this young may be a write under way (created, head not yet moved).
WRITE_IN_FLIGHT = timedelta(seconds=60)

CREATE, UPDATE, UPDATE_ELEMENT, DELETE = "create", "update", "updateElement", "delete"
REVOKE, PUBLISH, PUT_ARTIFACT = "revoke", "publish", "putArtifact"
SET_ACCESS_POLICY = "setAccessPolicy"


@dataclass(frozen=True)
class Draft:
    """What a write wants the next version to be: the document and the envelope beside it."""

    document: dict[str, Any]
    lifecycle: dict[str, Any]
    artifacts: dict[str, Any]
    access_policy: dict[str, Any] | None
    operation: str
    writer: str
    timestamp: str
    deleted: bool = False


def carried(head: PassportItem, **changes: Any) -> dict[str, Any]:
    """The head's document and envelope as Draft arguments, with `changes` applied."""
    base = {
        "document": head["document"],
        "lifecycle": head["lifecycle"],
        "artifacts": head["artifacts"],
        "access_policy": head.get("accessPolicy"),
    }
    return {**base, **changes}


def version_id(number: int) -> str:
    return f"v{number:010d}"


def _version_item(
    dpp_id: str, number: int, draft: Draft, head: PassportItem | None, issuance: Issuance
) -> PassportItem:
    """The version record, issued (signed once) as an SD-JWT."""
    document = draft.document
    label = draft.lifecycle["versionLabel"]
    record: dict[str, Any] = {
        "id": version_id(number),
        "dppId": dpp_id,
        "type": "version",
        "version": number,
        "ts": draft.timestamp,
        "operation": draft.operation,
        "writer": draft.writer,
        "writeId": uuid.uuid4().hex,
        "deleted": draft.deleted,
        "productId": document["uniqueProductIdentifier"],
        "economicOperatorId": document["economicOperatorId"],
        "createdAt": head["createdAt"] if head else draft.timestamp,
        "etag": content_etag([document, draft.lifecycle, draft.artifacts, draft.access_policy]),
        "label": label,
        "labels": labels_after(head.get("labels", []) if head else [], label, number, draft.timestamp),
        "document": document,
        "lifecycle": draft.lifecycle,
        "artifacts": draft.artifacts,
        "accessPolicy": draft.access_policy,
        "contentHash": content_hash(document),
        "previousDigest": head["versionDigest"] if head else None,
    }
    return cast(PassportItem, issuance.sealed(record, cast(dict[str, Any] | None, head)))


def _head_from(version: PassportItem) -> PassportItem:
    head = cast(PassportItem, without_system(dict(version)))
    head["id"] = HEAD_ID
    head["type"] = "head"
    return head


def _item(found: dict[str, Any] | None) -> PassportItem | None:
    return cast(PassportItem | None, found)


class PassportRepository:
    """Versioned passport storage over a Store."""

    def __init__(self, store: Store, issuance: Issuance):
        self.store = store
        self.issuance = issuance
        # Product key → its live passport's id, per instance. A product names the same passport
        # until that one is deleted, and a deleted (or missing) head sends the next read back to
        # the lookup, so a cached id is never served stale: a read by product costs the head's
        # point read alone (always fresh) instead of two.
        self._passport_ids: dict[str, tuple[float, str]] = {}

    # -- reads -------------------------------------------------------------------------------

    def head(self, dpp_id: str) -> PassportItem | None:
        return _item(self.store.read(PASSPORTS, HEAD_ID, dpp_id))

    def version(self, dpp_id: str, number: int) -> PassportItem | None:
        return _item(self.store.read(PASSPORTS, version_id(number), dpp_id))

    def version_at(self, dpp_id: str, head: PassportItem, timestamp: str) -> PassportItem | None:
        """The version current at `timestamp`: the latest one written at or before it."""
        return self._last_version_where(dpp_id, head, "c.ts <= @ts", {"@ts": timestamp})

    def history(self, dpp_id: str, head: PassportItem) -> list[PassportItem]:
        """Every published version, oldest first (one partition; bounded by the head)."""
        rows = self.store.query_partition(
            PASSPORTS,
            "SELECT * FROM c WHERE c.dppId = @dppId AND c.type = 'version' AND c.version <= @head "
            "ORDER BY c.version ASC",
            {"@dppId": dpp_id, "@head": head["version"]},
            dpp_id,
        )
        return cast(list[PassportItem], rows)

    def version_range(self, dpp_id: str, first: int, last: int) -> list[PassportItem]:
        """Versions `first`..`last`, oldest first: numbers run 1..head without gaps, so a page of
        history is a range of one partition, whatever its length."""
        rows = self.store.query_partition(
            PASSPORTS,
            "SELECT * FROM c WHERE c.dppId = @dppId AND c.type = 'version' AND c.version >= @first "
            "AND c.version <= @last ORDER BY c.version ASC",
            {"@dppId": dpp_id, "@first": first, "@last": last},
            dpp_id,
        )
        return cast(list[PassportItem], rows)

    def versions_after(self, head: PassportItem, now: datetime | None = None) -> list[PassportItem]:
        """Versions newer than the head that are not a write still under way: a head rolled back.

        A writer creates version N+1 before it moves the head, so a version found beyond the head
        and younger than WRITE_IN_FLIGHT may be that write; an older one was left behind.
        """
        dpp_id = head["dppId"]
        settled = format_ts((now or utcnow()) - WRITE_IN_FLIGHT)
        rows = self.store.query_partition(
            PASSPORTS,
            "SELECT * FROM c WHERE c.dppId = @dppId AND c.type = 'version' AND c.version > @head "
            "AND c.ts <= @settled ORDER BY c.version ASC",
            {"@dppId": dpp_id, "@head": head["version"], "@settled": settled},
            dpp_id,
        )
        return cast(list[PassportItem], rows)

    def version_with_label(self, dpp_id: str, head: PassportItem, label: str) -> PassportItem | None:
        """The last version published under `label`."""
        return self._last_version_where(dpp_id, head, "c.label = @label", {"@label": label})

    def _last_version_where(
        self, dpp_id: str, head: PassportItem, condition: str, parameters: dict[str, Any]
    ) -> PassportItem | None:
        """The newest version meeting `condition` (fixed text; values bound), in one partition and
        bounded by the head. Versions' `ts` grows with their number, so newest is either order."""
        # The partition key predicate is redundant on Cosmos DB but not on the local stand-in,
        # which ignores the partition key header of a query.
        sql = (
            "SELECT TOP 1 * FROM c WHERE c.dppId = @dppId AND c.type = 'version' AND c.version <= @head "  # noqa: S608
            f"AND {condition} ORDER BY c.version DESC"
        )
        rows = self.store.query_partition(
            PASSPORTS,
            sql,
            {"@dppId": dpp_id, "@head": head["version"], **parameters},
            dpp_id,
        )
        return _item(rows[0]) if rows else None

    def lookup(self, product_id: str) -> ProductLookup | None:
        """The product's lookup; GS1-identified products are looked up by their identification,
        so every form and host of one Digital Link URI names the same product."""
        return cast(ProductLookup | None, self.store.read(PRODUCTS, LOOKUP_ID, product_key(product_id)))

    def live_head_for_product(self, product_id: str) -> PassportItem | None:
        """The current passport of a product; a lookup pointing at nothing counts as absent."""
        key = product_key(product_id)
        now = time.monotonic()
        cached = self._passport_ids.get(key)
        if cached is not None and now - cached[0] < ID_CACHE_SECONDS:
            head = self.head(cached[1])
            if head is not None and not head["deleted"]:
                return head
        lookup = self.lookup(product_id)
        if lookup is None:
            return None
        head = self.head(lookup["dppId"])
        # A lookup left by a create that never stored its version may name a passport of
        # another product (ids are the client's): that passport is not this product's.
        if head is None or head["deleted"] or product_key(head["productId"]) != key:
            return None
        if len(self._passport_ids) >= ID_CACHE_SIZE:
            self._passport_ids.clear()
        self._passport_ids[key] = (now, head["dppId"])
        return head

    def passport_ids_for_product(self, product_id: str) -> list[str]:
        """Every passport id this product has had, newest first."""
        lookup = self.lookup(product_id)
        if lookup is None:
            return []
        return [lookup["dppId"], *reversed(lookup.get("previous", []))]

    # -- the write -------------------------------------------------------------------------

    def commit(
        self, dpp_id: str, decide: Callable[[PassportItem | None], Draft], *, new: bool = False
    ) -> PassportItem:
        """Write the next version of a passport and make it current, atomically.

        `decide` sees the current head (None if the passport does not exist) and returns the
        draft, or raises to refuse the write; it runs again whenever another writer got in first,
        so concurrent writers never lose each other's changes. With `new` (a create), the first
        attempt reads nothing: see `_create_new`.
        """
        if new:
            created = self._create_new(dpp_id, decide)
            if created is not None:
                return created
        for attempt in range(CONFLICT_ATTEMPTS):
            head = self.head(dpp_id)
            draft = decide(head)
            number = head["version"] + 1 if head else 1
            # Signed before anything is stored: a signing failure leaves no trace, never an unsigned version.
            item = _version_item(dpp_id, number, draft, head, self.issuance)
            if draft.operation == CREATE:
                self._point_product_at(item["productId"], dpp_id, item["economicOperatorId"])
            try:
                return self._write(dpp_id, head, item)
            except ItemExists:
                self._finish_interrupted_write(dpp_id, head, number)
                after_conflict(attempt)
        raise ServiceUnavailable(
            "Too many concurrent writes to this passport; retry shortly",
            code=ErrorCode.WRITE_CONTENTION,
            headers={"Retry-After": "1"},
        )

    def _create_new(self, dpp_id: str, decide: Callable[[PassportItem | None], Draft]) -> PassportItem | None:
        """A create in three writes and no read, or None to take the careful path.

        The product's lookup is created first (unsigned: an existing product costs no signature),
        then the version (signed) and the head. A product already looked up, or a version 1
        already there, leaves the write to the careful path, which reads before it writes; a
        lookup this attempt created for a passport id that turns out taken by another product
        is withdrawn, and live_head_for_product never follows one left by a crash.
        """
        draft = decide(None)
        if draft.operation != CREATE:
            return None
        document = draft.document
        product = document["uniqueProductIdentifier"]
        try:
            lookup = self.store.create(
                PRODUCTS, dict(_lookup_item(product_key(product), dpp_id, [], utcnow()))
            )
        except ItemExists:
            return None
        try:
            item = _version_item(dpp_id, 1, draft, None, self.issuance)
            return self._write(dpp_id, None, item)
        except ItemExists:
            first = self.version(dpp_id, 1)
            if first is None or product_key(first["productId"]) != product_key(product):
                self._withdraw(lookup, product)
            return None
        except Exception:
            self._withdraw(lookup, product)  # signing failed: leave no trace
            raise

    def _withdraw(self, lookup: dict[str, Any], product_id: str) -> None:
        with contextlib.suppress(ItemChanged, ServiceUnavailable):
            self.store.delete(PRODUCTS, lookup, product_key(product_id))

    def _write(self, dpp_id: str, head: PassportItem | None, item: PassportItem) -> PassportItem:
        """Create the version and make it the head, in one batch; ItemExists when the version
        is there already (another writer's, or an interrupted write)."""
        new_head = _head_from(item)
        step = (
            create_operation(dict(new_head))
            if head is None
            else replace_operation(dict(new_head), head["_etag"])
        )
        try:
            self.store.batch(PASSPORTS, dpp_id, [create_operation(dict(item)), step])
        except BatchFailed as failed:
            if failed.index == 0 and failed.status == 409:
                raise ItemExists(item["id"]) from None
            if failed.index == 0:
                raise
            # The version was new, so only a roll-forward of this very version can have moved the
            # head meanwhile: on the local stand-in, which leaves the version when the head fails.
            current = self.head(dpp_id)
            if current is None or current["version"] < item["version"]:
                raise ItemChanged(HEAD_ID) from None
        return new_head

    def _finish_interrupted_write(self, dpp_id: str, head: PassportItem | None, number: int) -> None:
        """Version `number` exists but the head may not point at it yet: complete that write."""
        pending = self.version(dpp_id, number)
        if pending is None:
            return
        if pending["operation"] == CREATE:
            try:
                self._point_product_at(pending["productId"], dpp_id, pending["economicOperatorId"])
            except Conflict:
                # The product now belongs to another live passport: this create can never finish.
                with contextlib.suppress(ItemChanged):
                    self.store.delete(PASSPORTS, dict(pending), dpp_id)
                return
        try:
            if head is None:
                self.store.create(PASSPORTS, dict(_head_from(pending)))
            elif head["version"] < number:
                self.store.replace(PASSPORTS, dict(_head_from(pending)), head["_etag"])
        except (ItemExists, ItemChanged):
            pass  # another writer finished it first

    def _point_product_at(self, product_id: str, dpp_id: str, operator_id: str) -> None:
        """Make the product's lookup name this passport, unless another live passport holds it or
        the product's earlier passports belong to another economic operator."""
        for attempt in range(CONFLICT_ATTEMPTS):
            lookup = self.lookup(product_id)
            now = utcnow()
            if lookup is None:
                try:
                    self.store.create(PRODUCTS, dict(_lookup_item(product_key(product_id), dpp_id, [], now)))
                    return
                except ItemExists:
                    continue
            if lookup["dppId"] == dpp_id:
                return
            self._refuse_if_held(lookup, operator_id, now)
            previous = [*lookup.get("previous", []), lookup["dppId"]]
            try:
                self.store.replace(
                    PRODUCTS, dict(_lookup_item(lookup["productId"], dpp_id, previous, now)), lookup["_etag"]
                )
                return
            except ItemChanged:
                after_conflict(attempt)
        raise ServiceUnavailable(
            "Too many concurrent writes to this product", code=ErrorCode.WRITE_CONTENTION
        )

    def _refuse_if_held(self, lookup: ProductLookup, operator_id: str, now: datetime) -> None:
        holder = self.head(lookup["dppId"])
        if holder is not None and product_key(holder["productId"]) != lookup["productId"]:
            holder = None  # a lookup left by a create that never stored its version (see _create_new)
        if holder is not None and not holder["deleted"]:
            raise Conflict(
                f"Product '{lookup['productId']}' already has passport '{lookup['dppId']}'",
                code=ErrorCode.PRODUCT_HAS_PASSPORT,
            )
        if holder is not None and holder["economicOperatorId"] != operator_id:
            # A product keeps its operator, even once that operator's passport is archived.
            raise Conflict(
                f"Product '{lookup['productId']}' belongs to another economic operator's archived passport",
                code=ErrorCode.PRODUCT_ID_OWNED,
            )
        if holder is None and now - datetime.fromisoformat(lookup["updatedAt"]) < STALE_LOOKUP:
            raise Conflict(
                f"A passport for product '{lookup['productId']}' is being created; retry shortly",
                code=ErrorCode.PRODUCT_HAS_PASSPORT,
                headers={"Retry-After": "1"},
            )


def _lookup_item(product_id: str, dpp_id: str, previous: list[str], now: datetime) -> ProductLookup:
    return {
        "id": LOOKUP_ID,
        "productId": product_id,
        "dppId": dpp_id,
        "previous": previous,
        "updatedAt": now.isoformat(),
    }
