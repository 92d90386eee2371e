"""Derived data (the search index, the reverse relations) kept off the write path.

A write stores a passport's version and head and returns; the indexes follow from the passports
container's change feed (in Azure a Cosmos DB trigger, locally the host's emulation of it), which
hands `DerivedData.apply` batches of changed items. Delivery is at least once and, across
batches, in any order, so applying is idempotent and never moves a passport's entries back:

- only heads count (a version item is history, never an index input), and of several heads of one
  passport in a batch only the newest;
- a `mark` per passport (in the search container, its own partition `indexed:<dppId>`) records
  the version its entries were built from; a head no newer than that is skipped;
- the entries are moved by diff from the marked version's (read back by a point read of that
  immutable version item) to the head's; without a mark, from nothing and from the version
  before the head (what the write path indexed before the change feed took over). Before
  writing, the mark records the version being applied as `pending`: an apply interrupted
  half-way is finished from both, so no entry of a version never fully indexed is left behind.

Readers never see a stale passport: reads follow the head, written on the request path. Only a
search or a "who names me" read may trail a write, by the lag `docs/publication.md` measures;
hits are re-checked against the current head when read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor
from typing import Any, cast

from shared.passports.records import PassportItem
from shared.passports.repository import version_id
from shared.platform.errors import ServiceUnavailable
from shared.storage.cosmos import PASSPORTS, SEARCH_INDEX, Store, without_system

log = logging.getLogger(__name__)

MARK_PREFIX = "indexed:"
# What the indexes derive from a head, as a number a mark records: raised when a change makes an
# index hold entries an earlier build never wrote (2: the AAS listing partitions). A mark of an
# older format has its head derived again from nothing, by the next delivery or by `rebuild`.
FORMAT = 2
# The lag documented for search and relation reads behind a write, on the local host (its 1 s
# poll, then the batch): what tests wait at most. In Azure: the trigger's feed poll delay (5 s)
# plus the batch (docs/publication.md).
LOCAL_LAG_SECONDS = 5.0

# Moves one index from the entries of `before` (None: none) to those of `after`, idempotently.
IndexMove = Callable[[PassportItem | None, PassportItem], None]


def mark_term(dpp_id: str) -> str:
    return f"{MARK_PREFIX}{dpp_id}"


def newest_heads(changed: Iterable[dict[str, Any]]) -> list[PassportItem]:
    """The newest head of each passport among `changed` (change-feed items, any order)."""
    newest: dict[str, dict[str, Any]] = {}
    for item in changed:
        if item.get("type") != "head" or not isinstance(item.get("version"), int):
            continue
        seen = newest.get(item["dppId"])
        if seen is None or item["version"] > seen["version"]:
            newest[item["dppId"]] = item
    return [cast(PassportItem, without_system(item)) for item in newest.values()]


class DerivedData:
    """Brings every index up to the heads the change feed delivers (see the module docstring)."""

    def __init__(self, store: Store, *indexes: IndexMove, pool: Executor | None = None):
        self.store = store
        self.indexes = indexes
        # Passports are independent of each other: a batch's heads may be applied side by side.
        self.pool = pool

    def apply(self, changed: Iterable[dict[str, Any]]) -> int:
        """Index the newest head of each passport in `changed`; returns how many moved an index.

        A store that does not answer fails the batch (the feed delivers it again); a head that
        cannot be indexed (an item of an older shape, say) is logged and skipped, so one bad item
        never holds up the feed."""
        heads = newest_heads(changed)
        if self.pool is None or len(heads) < 2:
            return sum(map(self._apply_or_skip, heads))
        return sum(self.pool.map(self._apply_or_skip, heads))

    def _apply_or_skip(self, head: PassportItem) -> bool:
        try:
            return self.apply_head(head)
        except ServiceUnavailable:
            raise
        except Exception:
            log.exception(
                "The head of %s (version %s) cannot be indexed: skipped", head["dppId"], head["version"]
            )
            return False

    def apply_head(self, head: PassportItem) -> bool:
        dpp_id = head["dppId"]
        mark = self._mark(dpp_id) or {}
        done, pending = mark.get("version"), mark.get("pending")
        newest = max(done or 0, pending or 0)
        current = mark.get("format", 1) >= FORMAT
        if current and (newest > head["version"] or (newest == head["version"] and pending is None)):
            if pending is None:
                return False  # this head, or a newer one, is indexed already
            # A newer head's apply was interrupted: finish that one (its version is immutable).
            target = self._version(dpp_id, pending)
            if target is None:
                return False
            head = target
        number = head["version"]
        self._write_mark(dpp_id, done, number)
        # From every version the index may hold entries of: the one indexed, and one interrupted.
        sources = sorted({v for v in (done, pending) if v is not None and v != number})
        befores: list[PassportItem | None] = [self._version(dpp_id, v) for v in sources] or [None]
        if not current and None not in befores:
            befores.append(None)  # entries the older format never wrote: every entry, from nothing
        if not mark and number > 1:
            # No mark: the earlier heads never came (the feed coalesces an item's changes), or they
            # were indexed by the write path before the change feed did it (up to the version
            # before): from nothing, and from that version.
            befores.append(self._version(dpp_id, number - 1))
        for move in self.indexes:
            for before in befores:
                move(before, head)
        self._write_mark(dpp_id, number, None)
        return True

    def _version(self, dpp_id: str, number: int) -> PassportItem | None:
        return cast(PassportItem | None, self.store.read(PASSPORTS, version_id(number), dpp_id))

    def _mark(self, dpp_id: str) -> dict[str, Any] | None:
        return self.store.read(SEARCH_INDEX, "mark", mark_term(dpp_id))

    def _write_mark(self, dpp_id: str, version: int | None, pending: int | None) -> None:
        mark = {
            "id": "mark",
            "term": mark_term(dpp_id),
            "dppId": dpp_id,
            "version": version,
            "pending": pending,
            "format": FORMAT,
        }
        self.store.upsert(SEARCH_INDEX, mark)

    def rebuild(self) -> int:
        """Derive every passport's entries again where its mark is of an older format (a
        maintenance job after an upgrade, `python -m local.reindex`: a cross-partition read of the
        heads, never on a request path); returns how many moved an index."""
        heads = self.store.iterate_background(PASSPORTS, "SELECT * FROM c WHERE c.type = 'head'", {})
        moved = 0
        for page in _batches(heads, 100):
            moved += self.apply(page)
        return moved


def _batches(items: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
