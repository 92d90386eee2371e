"""The passports' change feed: derived data (search, reverse relations) follows every write.

A Cosmos DB trigger on the `passports` container, as the app's managed identity (the
`COSMOS_CHANGES__*` settings), checkpointing in the `leases` container the Bicep creates. Batches
arrive at least once; `root.derived` applies them idempotently, in any order. A failed batch is
retried with backoff (the retry policy) before the feed moves on; the local host emulates the
trigger by polling (local/host/cosmos_triggers.py).
"""

from __future__ import annotations

import logging

import azure.functions as func

from shared.composition import Root
from shared.platform.openapi import Catalog
from shared.storage.cosmos import LEASES, PASSPORTS

log = logging.getLogger(__name__)

# The app setting prefix of the trigger's connection: `COSMOS_CHANGES__accountEndpoint` (and
# `__credential`, `__clientId`) in Azure, a connection string `COSMOS_CHANGES` locally.
CHANGES_CONNECTION = "COSMOS_CHANGES"


def blueprint(root: Root, catalog: Catalog) -> func.Blueprint:
    bp = func.Blueprint()

    @bp.retry(
        strategy="exponential_backoff",
        max_retry_count="10",
        minimum_interval="00:00:01",
        maximum_interval="00:01:00",
    )
    @bp.cosmos_db_trigger(
        arg_name="changes",
        connection=CHANGES_CONNECTION,
        database_name="%COSMOS_DATABASE%",
        container_name=PASSPORTS,
        lease_container_name=LEASES,
        create_lease_container_if_not_exists=False,
    )
    def passport_changes(changes: func.DocumentList) -> None:
        moved = root.derived.apply(document.to_dict() for document in changes)
        log.debug("Change feed: %d items, %d passports indexed", len(changes), moved)

    return bp
