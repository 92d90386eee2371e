"""Cosmos DB access: one client per process, created on first use, and the container layout.

Layout (the Bicep templates create the same containers with the same keys):
- `passports`, partition key `/dppId`: a passport's immutable version items `v0000000001`, ...
  and its `head` item (the current version's copy). ReadDPPById is one point read of `head`;
  version-by-date is a query inside one partition.
- `products`, partition key `/productId`: one `lookup` item per product naming its passport, so
  ReadDPPByProductId is two point reads.
- `searchIndex`, `registrations`, `jobs`, `operators`, `relations`, `statusLists`, `leases`: see
  `CONTAINERS` below.
Item ids are fixed strings, never derived from client ids, which may hold characters Cosmos
forbids in ids (`/ \\ ? #`); client ids only ever appear as partition key values.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared.platform.errors import BadRequest, ErrorCode, ServiceUnavailable
from shared.platform.settings import Settings

if TYPE_CHECKING:
    from azure.cosmos import ContainerProxy

log = logging.getLogger(__name__)

PASSPORTS = "passports"
PRODUCTS = "products"
SEARCH_INDEX = "searchIndex"
REGISTRATIONS = "registrations"
JOBS = "jobs"
OPERATORS = "operators"
RELATIONS = "relations"
STATUS_LISTS = "statusLists"
LEASES = "leases"


@dataclass(frozen=True)
class ContainerSpec:
    name: str
    partition_key: str
    # Documents are only ever read by id; indexing them would cost RUs on every write for nothing.
    excluded_paths: tuple[str, ...]
    included_paths: tuple[str, ...] = ("/*",)


CONTAINERS: tuple[ContainerSpec, ...] = (
    ContainerSpec(PASSPORTS, "/dppId", ("/document/*", '/"_etag"/?')),
    ContainerSpec(PRODUCTS, "/productId", ('/"_etag"/?',)),
    # One partition per search term (a keyword or an issuer): a search reads one partition.
    # Only the filtered fields are indexed: index entries are written often and read by filter.
    ContainerSpec(SEARCH_INDEX, "/term", ("/*",), ("/issuer/?", "/status/?", "/keywords/[]/?")),
    # A passport's registration at the DPP registry, and its delivery state (the outbox).
    ContainerSpec(REGISTRATIONS, "/dppId", ("/payload/*", '/"_etag"/?')),
    # Bulk imports and exports: one job item each, read and written by id only.
    ContainerSpec(JOBS, "/jobId", ("/*",), ()),
    # The operator registry: one item holding every operator's namespaces, read by id only.
    ContainerSpec(OPERATORS, "/registry", ("/*",), ()),
    # Reverse relations: one entry per relation a live passport names, in the partition of what
    # it names, so "who names me" reads one partition.
    ContainerSpec(RELATIONS, "/target", ("/*",), ("/type/?",)),
    # The UNTP credentials' revocation lists (shared/publication/status_lists.py) and the counter
    # their indices are reserved from: read and written by id only.
    ContainerSpec(STATUS_LISTS, "/listId", ("/*",), ()),
    # The change-feed trigger's checkpoints (functions/changes.py): partitioned by id, as the
    # Functions host requires of a lease container, and indexed, as its lease queries need.
    ContainerSpec(LEASES, "/id", ()),
)


def indexing_policy(spec: ContainerSpec) -> dict[str, Any]:
    return {
        "indexingMode": "consistent",
        "automatic": True,
        "includedPaths": [{"path": path} for path in spec.included_paths],
        "excludedPaths": [{"path": path} for path in spec.excluded_paths],
    }


def without_system(item: dict[str, Any]) -> dict[str, Any]:
    """An item without Cosmos DB's system properties (`_etag`, `_ts`, `_rid`, ...)."""
    return {key: value for key, value in item.items() if not key.startswith("_")}


# A store that stops answering must cost a request seconds, not minutes: the SDK's defaults (a 65 s
# socket read timeout, reads retried three times) kept a point read against a hung server waiting
# 262 s. With these, one SDK call waits at most 2 x 2 s to connect or 5 s for an answer, then the
# request is a 503 with Retry-After. Throttling retries (429, Retry-After) keep the SDK's settings.
SDK_TIMEOUTS: dict[str, Any] = {
    "connection_timeout": 2,
    "read_timeout": 5,
    "retry_connect": 1,
    "retry_read": 0,
}


class ItemExists(Exception):
    """Create lost to an existing item (HTTP 409 from Cosmos)."""


class ItemChanged(Exception):
    """An If-Match precondition failed (HTTP 412 from Cosmos)."""


# How often a conditional write that lost to another writer (ItemExists, ItemChanged) is tried
# again on what is there now, each after `after_conflict`.
CONFLICT_ATTEMPTS = 25


def after_conflict(attempt: int) -> None:
    # Full jitter keeps colliding writers from colliding again in lockstep.
    time.sleep(random.uniform(0, min(0.05, 0.002 * 2**attempt)))  # noqa: S311


class BatchFailed(Exception):
    """An operation of a transactional batch failed (and so, in Cosmos DB, the whole batch)."""

    def __init__(self, index: int, status: int):
        super().__init__(f"batch operation {index} failed with {status}")
        self.index = index
        self.status = status


# A transactional batch's operations, as the SDK takes them.
BatchOperation = tuple[str, tuple[Any, ...]] | tuple[str, tuple[Any, ...], dict[str, Any]]


def create_operation(item: dict[str, Any]) -> BatchOperation:
    return ("create", (item,))


def replace_operation(item: dict[str, Any], etag: str) -> BatchOperation:
    return ("replace", (item["id"], item), {"if_match_etag": etag})


class Store:
    """Thin, typed wrapper over the containers; translates SDK errors into the two that matter."""

    def __init__(self, config: Settings):
        self._config = config
        self._lock = threading.Lock()
        self._containers: dict[str, ContainerProxy] | None = None

    def _open(self) -> dict[str, ContainerProxy]:
        # Imported here: the SDK costs ~200 ms of cold start that health probes need not pay.
        from azure.cosmos import CosmosClient

        config = self._config
        if not config.cosmos_endpoint:
            raise ServiceUnavailable("COSMOS_ENDPOINT is not configured", code=ErrorCode.STORE_NOT_CONFIGURED)
        credential: Any
        if config.cosmos_key:
            credential = config.cosmos_key
        else:
            from azure.identity import DefaultAzureCredential

            credential = DefaultAzureCredential(managed_identity_client_id=config.managed_identity_client_id)
        client = CosmosClient(
            config.cosmos_endpoint,
            credential,
            connection_verify=config.cosmos_verify_tls,
            # The local server and the emulator have no regional endpoints to discover.
            enable_endpoint_discovery=not config.is_local,
            consistency_level="Session",
            # Reads go to the first of these regions the account has (the deployment's own region
            # first, then its EU read replicas); writes always go to the write region. A list even
            # when empty (the SDK's default): its fallback to regional endpoints iterates it.
            preferred_locations=list(config.cosmos_preferred_regions),
            **SDK_TIMEOUTS,
        )
        if config.is_local:
            return _create_layout(client, config.cosmos_database)
        database = client.get_database_client(config.cosmos_database)
        return {spec.name: database.get_container_client(spec.name) for spec in CONTAINERS}

    def container(self, name: str) -> ContainerProxy:
        if self._containers is None:
            with self._lock:
                if self._containers is None:
                    self._containers = self._open()
        return self._containers[name]

    def probe(self) -> None:
        """Readiness: a point read of an id that never exists, the cheapest proof the store answers."""
        self.read(PASSPORTS, "health-probe", "health-probe")

    def read(self, container: str, item_id: str, partition: str) -> dict[str, Any] | None:
        from azure.cosmos.exceptions import CosmosResourceNotFoundError

        with _translated():
            try:
                return self.container(container).read_item(item_id, partition_key=partition)
            except CosmosResourceNotFoundError:
                return None

    def create(self, container: str, item: dict[str, Any]) -> dict[str, Any]:
        from azure.cosmos.exceptions import CosmosResourceExistsError

        with _translated():
            try:
                return self.container(container).create_item(item)
            except CosmosResourceExistsError:
                raise ItemExists(item["id"]) from None

    def replace(self, container: str, item: dict[str, Any], etag: str) -> dict[str, Any]:
        from azure.core import MatchConditions
        from azure.cosmos.exceptions import CosmosAccessConditionFailedError

        with _translated():
            try:
                return self.container(container).replace_item(
                    item["id"], item, etag=etag, match_condition=MatchConditions.IfNotModified
                )
            except CosmosAccessConditionFailedError:
                raise ItemChanged(item["id"]) from None

    def delete(self, container: str, item: dict[str, Any], partition: str) -> None:
        from azure.core import MatchConditions
        from azure.cosmos.exceptions import CosmosAccessConditionFailedError, CosmosResourceNotFoundError

        with _translated():
            try:
                self.container(container).delete_item(
                    item["id"],
                    partition_key=partition,
                    etag=item["_etag"],
                    match_condition=MatchConditions.IfNotModified,
                )
            except (CosmosAccessConditionFailedError, CosmosResourceNotFoundError):
                raise ItemChanged(item["id"]) from None

    def batch(self, container: str, partition: str, operations: list[BatchOperation]) -> list[dict[str, Any]]:
        """A transactional batch in one logical partition, one request: in Cosmos DB all of it or
        nothing. The local stand-in runs the operations in order and stops at the first failure
        without undoing the earlier ones (docs/storage.md). Returns the items written."""
        from azure.cosmos.exceptions import CosmosBatchOperationError

        with _translated():
            try:
                results = self.container(container).execute_item_batch(operations, partition_key=partition)
            except CosmosBatchOperationError as exc:
                index = int(exc.error_index)
                raise BatchFailed(index, int(exc.operation_responses[index].get("statusCode", 0))) from None
            return [result.get("resourceBody") or {} for result in results]

    def upsert(self, container: str, item: dict[str, Any]) -> dict[str, Any]:
        with _translated():
            return self.container(container).upsert_item(item)

    def remove(self, container: str, item_id: str, partition: str) -> bool:
        """Delete unconditionally; False when it was already gone."""
        from azure.cosmos.exceptions import CosmosResourceNotFoundError

        with _translated():
            try:
                self.container(container).delete_item(item_id, partition_key=partition)
                return True
            except CosmosResourceNotFoundError:
                return False

    def query_page(
        self,
        container: str,
        query: str,
        parameters: dict[str, Any],
        partition: str,
        *,
        page_size: int,
        continuation: str | None = None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of a single-partition query and the continuation token of the next page; a
        continuation the store refuses (one a client made up) is a 400 InvalidCursor."""
        with _translated(), _continuation_checked(continuation):
            # The SDK's pager: typed as an iterator of pages, it also holds the continuation token.
            pages: Any = (
                self.container(container)
                .query_items(
                    query,
                    parameters=_bound(parameters),
                    partition_key=partition,
                    max_item_count=page_size,
                )
                .by_page(continuation)
            )
            items = list(next(pages, []))
            return items, pages.continuation_token

    def query_background(
        self, container: str, query: str, parameters: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """A cross-partition query: for background work (timers) only, never on a request path."""
        return list(self.iterate_background(container, query, parameters))

    def iterate_background(
        self, container: str, query: str, parameters: dict[str, Any], page_size: int = 100
    ) -> Iterator[dict[str, Any]]:
        """Like `query_background`, page by page, so any number of items streams in flat memory."""
        with _translated():
            pages = (
                self.container(container)
                .query_items(
                    query,
                    parameters=_bound(parameters),
                    enable_cross_partition_query=True,
                    max_item_count=page_size,
                )
                .by_page()
            )
            for page in pages:
                yield from page

    def query_partition(
        self, container: str, query: str, parameters: dict[str, Any], partition: str
    ) -> list[dict[str, Any]]:
        """A query confined to one logical partition (never a cross-partition fan-out)."""
        with _translated():
            return list(
                self.container(container).query_items(
                    query,
                    parameters=_bound(parameters),
                    partition_key=partition,
                )
            )


def _bound(parameters: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"name": name, "value": value} for name, value in parameters.items()]


@contextmanager
def _translated() -> Iterator[None]:
    """Turn transport failures and exhausted throttling retries into a 503 the client can retry."""
    from azure.core.exceptions import ServiceRequestError, ServiceResponseError
    from azure.cosmos.exceptions import CosmosHttpResponseError

    try:
        yield
    except CosmosHttpResponseError as exc:
        if exc.status_code in {429, 503}:
            log.warning("Cosmos DB throttled or unavailable: %s", exc.status_code)
            raise ServiceUnavailable(
                "The passport store is busy; retry shortly",
                code=ErrorCode.STORE_BUSY,
                headers={"Retry-After": "1"},
            ) from exc
        raise
    except (ServiceRequestError, ServiceResponseError) as exc:
        log.error("Cosmos DB unreachable: %s", exc)
        raise ServiceUnavailable(
            "The passport store is unreachable",
            code=ErrorCode.STORE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        ) from exc


@contextmanager
def _continuation_checked(continuation: str | None) -> Iterator[None]:
    from azure.cosmos.exceptions import CosmosHttpResponseError

    try:
        yield
    except CosmosHttpResponseError as exc:
        if continuation is not None and exc.status_code == 400:
            raise BadRequest(
                "'cursor' is not a cursor this service issued", code=ErrorCode.INVALID_CURSOR
            ) from None
        raise
    except (ValueError, TypeError) as exc:  # the SDK parsing a made-up token itself
        if continuation is None:
            raise
        raise BadRequest(
            "'cursor' is not a cursor this service issued", code=ErrorCode.INVALID_CURSOR
        ) from exc


def _create_layout(client: Any, database_name: str) -> dict[str, ContainerProxy]:
    """Local mode only: in Azure, Bicep owns the layout and data-plane RBAC forbids creating it."""
    from azure.cosmos import PartitionKey

    database = client.create_database_if_not_exists(database_name)
    return {
        spec.name: database.create_container_if_not_exists(
            spec.name, PartitionKey(spec.partition_key), indexing_policy=indexing_policy(spec)
        )
        for spec in CONTAINERS
    }
