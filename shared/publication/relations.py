"""Product relations as a graph: the reverse index kept with every version, and walks over it.

Each relation a live passport's `relations` section names is one entry in the `relations`
container, in the partition of what it names (`Target.index_key`: its product key, or `dpp:<id>`
for a passport URL of this service), kept from the passports' change feed with the search index
(`shared.publication.derived`). "Who names me" is then one single-partition query per key; what a
passport names is in its own document. A walk to `depth` (at most MAX_DEPTH) reads heads by point
reads, never crosses partitions in a query, stops at MAX_NODES nodes (and says so), and visits each
node once (cycles).

Targets on this service (`shared.publication.targets`) are nodes with `verification: "local"`
(a target named here but not found: status `NotFound`). Targets at other providers are fetched and
verified once per read, after the walk, in parallel on their own bounded pool and within a fetch
budget (`shared.publication.remote`): `verified`, `unverified` or `unreachable`, never an error.
They are not walked further: another provider's relations are its own to answer.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, Protocol

from shared.access.authentication import Principal
from shared.access.authorization import AccessControl
from shared.documents.digital_link import product_key
from shared.documents.lifecycle import SUPERSEDED
from shared.documents.relations import TYPES, links_of
from shared.passports.records import PassportItem
from shared.passports.repository import PassportRepository
from shared.platform.errors import BadRequest, ErrorCode
from shared.platform.outbound import Budget
from shared.platform.parameters import bounded_int
from shared.publication.remote import LOCAL, UNKNOWN, UNVERIFIED, RemotePassports
from shared.publication.targets import OwnRoutes, dpp_key, locate
from shared.storage.cosmos import RELATIONS, Store

MAX_DEPTH, MAX_NODES = 5, 500
# Relations a view or page shows the standing of (point reads each); the rest are listed plainly.
MAX_NAMED = 100
DIRECTIONS = ("out", "in", "both")


class PassportLinks(Protocol):
    def passport(self, dpp_id: str) -> str: ...


def head_status(head: PassportItem) -> str:
    """A local node's status: its lifecycle's, Revoked once deleted."""
    return "Revoked" if head["deleted"] else str(head["lifecycle"]["status"])


def entry_id(source: str, kind: str, target: str) -> str:
    return hashlib.sha256(f"{source}\n{kind}\n{target}".encode()).hexdigest()


def index_keys(head: PassportItem) -> tuple[str, ...]:
    """The keys a passport is named by in the index: its product's, and its id's."""
    return (product_key(head["productId"]), dpp_key(head["dppId"]))


def entries(head: PassportItem | None, own: OwnRoutes) -> dict[str, dict[str, Any]]:
    """The index entries of a stored head: one per relation it names; none once deleted."""
    if head is None or head.get("deleted"):
        return {}
    found: dict[str, dict[str, Any]] = {}
    for kind, link in links_of(head["document"]):
        target = locate(link["target"], own).index_key
        entry: dict[str, Any] = {
            "id": entry_id(head["dppId"], kind, target),
            "target": target,
            "source": head["dppId"],
            "type": kind,
            **{name: link[name] for name in ("quantity", "label") if name in link},
        }
        found[entry["id"]] = entry
    return found


class RelationIndex:
    def __init__(self, store: Store, own: OwnRoutes):
        self.store = store
        # This service's own URLs are filed under what they name.
        self.own = own

    def apply(self, before: PassportItem | None, after: PassportItem) -> None:
        """Move the index from `before`'s entries to `after`'s; idempotent, so safe to repeat."""
        old, new = entries(before, self.own), entries(after, self.own)
        for key, entry in new.items():
            if old.get(key) != entry:
                self.store.upsert(RELATIONS, entry)
        for key in old.keys() - new.keys():
            self.store.remove(RELATIONS, key, old[key]["target"])

    def naming(self, target: str, kind: str | None) -> list[dict[str, Any]]:
        """Who names `target` (an index key), from its one partition."""
        sql = "SELECT c.source, c.type, c.quantity FROM c WHERE c.target = @target"
        parameters: dict[str, Any] = {"@target": target}
        if kind is not None:
            sql += " AND c.type = @type"
            parameters["@type"] = kind
        return self.store.query_partition(RELATIONS, sql, parameters, target)


@dataclass(frozen=True)
class GraphQuery:
    direction: str
    kind: str | None
    depth: int


def parse_graph_query(direction: str | None, kind: str | None, depth: str | None) -> GraphQuery:
    direction = direction or "both"
    if direction not in DIRECTIONS:
        raise BadRequest(
            f"'direction' must be one of {', '.join(DIRECTIONS)}", code=ErrorCode.INVALID_PARAMETER
        )
    if kind not in (None, "") and kind not in TYPES:
        raise BadRequest(f"'type' must be one of {', '.join(TYPES)}", code=ErrorCode.INVALID_PARAMETER)
    return GraphQuery(direction, kind or None, bounded_int(depth, "depth", low=1, high=MAX_DEPTH, default=1))


@dataclass(frozen=True)
class _Elsewhere:
    """A target not read here: at another provider (`remote`), or named here but not found."""

    written: str
    remote: bool


Neighbour = tuple[PassportItem | _Elsewhere, str, Any, bool]


class RelationGraph:
    def __init__(
        self,
        passports: PassportRepository,
        index: RelationIndex,
        access: AccessControl,
        *,
        lookups: Executor,
        remote: RemotePassports,
        fetches: Executor,
        fetch_budget: int,
    ):
        self.passports = passports
        self.index = index
        self.access = access
        # Bounded fan-out of a node's point reads (the service's own lookup pool).
        self.lookups = lookups
        self.remote = remote
        # Outbound fetches wait on other providers: their own bounded pool, so they never hold
        # the threads local lookups need.
        self.fetches = fetches
        self.fetch_budget = fetch_budget

    def graph(
        self, root: PassportItem, query: GraphQuery, principal: Principal, links: PassportLinks
    ) -> dict[str, Any]:
        nodes: dict[str, dict[str, Any]] = {}
        edges: list[dict[str, Any]] = []
        seen_edges: set[tuple[str, str, str]] = set()
        remote: list[str] = []
        truncated = False

        def local(head: PassportItem) -> str:
            url = links.passport(head["dppId"])
            if url not in nodes:
                nodes[url] = {
                    "url": url,
                    "dppId": head["dppId"],
                    "productId": head["productId"],
                    "status": head_status(head),
                    "verification": LOCAL,
                }
            return url

        def edge(source: str, target: str, kind: str, quantity: Any) -> None:
            if (source, target, kind) in seen_edges:
                return
            seen_edges.add((source, target, kind))
            found = {"source": source, "target": target, "type": kind}
            if quantity is not None:
                found["quantity"] = quantity
            edges.append(found)

        queue: deque[tuple[PassportItem, int]] = deque([(root, 0)])
        expanded: set[str] = set()
        while queue:
            head, level = queue.popleft()
            here = local(head)
            if here in expanded or level >= query.depth:
                continue
            expanded.add(here)
            neighbours, cut = self._neighbours(head, query, principal, MAX_NODES - len(nodes))
            truncated = truncated or cut
            for neighbour, kind, quantity, outgoing in neighbours:
                if isinstance(neighbour, _Elsewhere):
                    key = neighbour.written
                    if key not in nodes and len(nodes) >= MAX_NODES:
                        truncated = True
                        break
                    if key not in nodes:
                        nodes[key] = {"url": key, "status": "NotFound", "verification": LOCAL}
                        if neighbour.remote:
                            remote.append(key)
                    edge(here, key, kind, quantity)
                    continue
                key = links.passport(neighbour["dppId"])
                if key not in nodes and len(nodes) >= MAX_NODES:
                    truncated = True
                    break
                there = local(neighbour)
                if outgoing:
                    edge(here, there, kind, quantity)
                else:
                    edge(there, here, kind, quantity)
                queue.append((neighbour, level + 1))
        budget = Budget(self.fetch_budget)
        for url, found in zip(
            remote, self.fetches.map(lambda url: self.remote.node(url, budget), remote), strict=True
        ):
            nodes[url] = found.as_node()
        return {"root": root["dppId"], "nodes": list(nodes.values()), "edges": edges, "truncated": truncated}

    def named(self, document: dict[str, Any], href: Callable[[str], str]) -> list[dict[str, Any]]:
        """The relations a shown document names, each with where to follow it (`href`, given a
        local passport id) and how its target stands: local ones read now, by point reads, for
        the first MAX_NAMED; ones at other providers as last fetched (those not fetched or stale
        are fetched in the background: a view never waits on another provider)."""
        rows: list[dict[str, Any]] = []
        links = links_of(document)
        targets = list(self.lookups.map(self._outgoing, [link for _, link in links[:MAX_NAMED]]))
        elsewhere = [t.written for t in targets if isinstance(t, _Elsewhere) and t.remote]
        self.remote.refresh_later(elsewhere, self.fetches, self.fetch_budget)
        for index, (kind, link) in enumerate(links):
            row: dict[str, Any] = {"relation": kind, "target": link["target"]}
            row.update({name: link[name] for name in ("label", "quantity") if name in link})
            if index < len(targets):
                row.update(self._standing(link, targets[index], href))
            rows.append(row)
        return rows

    def _standing(
        self, link: dict[str, Any], target: PassportItem | _Elsewhere, href: Callable[[str], str]
    ) -> dict[str, Any]:
        written = link["target"]
        if isinstance(target, _Elsewhere) and target.remote:
            known = self.remote.known(written)
            if known is None:
                return {"href": written, "status": UNKNOWN, "verification": UNVERIFIED}
            return {"href": written, "status": known.status, "verification": known.verification}
        if isinstance(target, _Elsewhere):
            missing = {"status": "NotFound", "verification": LOCAL}
            return {"href": written, **missing} if "://" in written else missing
        status = head_status(target)
        label = locate(written, self.index.own).label
        if label is not None and status != "Revoked" and label != target["lifecycle"]["versionLabel"]:
            status = SUPERSEDED  # an older version is named: a newer one replaced it
        return {
            "href": href(target["dppId"]),
            "dppId": target["dppId"],
            "status": status,
            "verification": LOCAL,
        }

    def _outgoing(self, link: dict[str, Any]) -> PassportItem | _Elsewhere:
        """A link's target: its head when it is here, else where it is said to be."""
        target = locate(link["target"], self.index.own)
        head = None
        if target.product is not None:
            head = self.passports.live_head_for_product(target.product)
        elif target.dpp_id is not None:
            head = self.passports.head(target.dpp_id)
        if head is not None:
            return head
        return _Elsewhere(link["target"], remote=target.remote is not None)

    def _neighbours(
        self, head: PassportItem, query: GraphQuery, principal: Principal, budget: int
    ) -> tuple[list[Neighbour], bool]:
        """(a neighbour's head, or a target not read here; type; quantity; outgoing) for at most
        `budget` neighbours, and whether there were more. Targets are resolved in parallel
        (bounded), each by point reads."""
        found: list[Neighbour] = []
        cut = False
        if query.direction in ("out", "both"):
            shown = self.access.shown(principal, head).document
            named = [(kind, link) for kind, link in links_of(shown) if query.kind in (None, kind)]
            cut = len(named) > budget
            named = named[:budget]
            targets = self.lookups.map(self._outgoing, [link for _, link in named])
            for (kind, link), target in zip(named, targets, strict=True):
                found.append((target, kind, link.get("quantity"), True))
        if query.direction in ("in", "both"):
            keys = index_keys(head)
            rows = [row for key in keys for row in self.index.naming(key, query.kind)]
            room = max(budget - len(found), 0)
            cut = cut or len(rows) > room
            sources = self.lookups.map(self.passports.head, [row["source"] for row in rows[:room]])
            for row, source in zip(rows[:room], sources, strict=True):
                if (
                    source is None
                    or source["deleted"]
                    or not self._shows(source, row["type"], keys, principal)
                ):
                    continue
                found.append((source, row["type"], row.get("quantity"), False))
        return found, cut

    def _shows(self, source: PassportItem, kind: str, keys: tuple[str, ...], principal: Principal) -> bool:
        """The reader may see the source's relation naming one of `keys` (the access policy applies)."""
        shown = self.access.shown(principal, source).document
        return any(
            k == kind and locate(link["target"], self.index.own).index_key in keys
            for k, link in links_of(shown)
        )
