"""The passports' change feed: derived data (search, reverse relations) and passport events
follow every write.

A Cosmos DB trigger on the `passports` container, as the app's managed identity (the
`COSMOS_CHANGES__*` settings), checkpointing in the `leases` container the Bicep creates. Batches
arrive at least once; `root.derived` applies them idempotently, in any order. A failed batch is
retried with backoff (the retry policy) before the feed moves on; the local host emulates the
trigger by polling (local/host/cosmos_triggers.py).

Events (`passport_events`, docs/interoperability.md) are a second trigger on the same feed with a lease
prefix of its own, so each checkpoints on its own: an event topic that fails holds up neither
search nor relations, and derived data that fails delays no event. Its batches are retried
without end (a batch given up would be events lost; at least once is the promise), and it is
registered only when an events destination is set.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import azure.functions as func

from functions.routes import Links
from shared.composition import Root
from shared.platform.openapi import Catalog
from shared.storage.cosmos import LEASES, PASSPORTS

log = logging.getLogger(__name__)

# The app setting prefix of the trigger's connection: `COSMOS_CHANGES__accountEndpoint` (and
# `__credential`, `__clientId`) in Azure, a connection string `COSMOS_CHANGES` locally.
CHANGES_CONNECTION = "COSMOS_CHANGES"
# The events trigger's leases, beside derived data's in the same container.
EVENTS_LEASE_PREFIX = "events-"


def _on_passport_changes(
    bp: func.Blueprint, *, max_retry_count: str, maximum_interval: str, lease_prefix: str | None = None
) -> Callable[[Callable[[func.DocumentList], None]], Any]:
    """A trigger on the passports container's feed, checkpointing under `lease_prefix` in the
    leases container, its failed batches retried with backoff as given."""

    def register(function: Callable[[func.DocumentList], None]) -> Any:
        triggered = bp.cosmos_db_trigger(
            arg_name="changes",
            connection=CHANGES_CONNECTION,
            database_name="%COSMOS_DATABASE%",
            container_name=PASSPORTS,
            lease_container_name=LEASES,
            lease_container_prefix=lease_prefix,
            create_lease_container_if_not_exists=False,
        )(function)
        return bp.retry(
            strategy="exponential_backoff",
            max_retry_count=max_retry_count,
            minimum_interval="00:00:01",
            maximum_interval=maximum_interval,
        )(triggered)

    return register


def blueprint(root: Root, catalog: Catalog) -> func.Blueprint:
    bp = func.Blueprint()

    @_on_passport_changes(bp, max_retry_count="10", maximum_interval="00:01:00")
    def passport_changes(changes: func.DocumentList) -> None:
        moved = root.derived.apply(document.to_dict() for document in changes)
        log.debug("Change feed: %d items, %d passports indexed", len(changes), moved)

    if not root.settings.events_enabled:
        return bp
    links = Links(root.settings.public_url)

    @_on_passport_changes(
        bp, max_retry_count="-1", maximum_interval="00:05:00", lease_prefix=EVENTS_LEASE_PREFIX
    )
    def passport_events(changes: func.DocumentList) -> None:
        events = root.events
        if events is None:  # the settings name a destination: never, short of a test's root
            raise RuntimeError("passport events have no destination")
        sent = events.apply((document.to_dict() for document in changes), links.passport)
        log.debug("Change feed: %d items, %d events published", len(changes), sent)

    return bp
