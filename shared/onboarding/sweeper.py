"""No job left hanging: imports and exports whose worker stopped are taken over or failed.

A worker holds a lease on the job it runs (imports and exports renew it at every checkpoint). A
worker that dies (a crash, a host recycled mid-run, an exception nobody expected) leaves the job
`running` with a lease that runs out. The sweeper, a timer, finds those jobs (a cross-partition
query, acceptable off the request path) and hands each back to its runner, which takes over at
its checkpoint, or, once MAX_DELIVERIES workers have tried, fails it with the reason in its
report. An export whose request never reached a worker (`queued` past START_GRACE) is started.
A job is thus never `running` longer than its lease plus one sweep. Registrations need no sweep of
their own: the registry outbox already redelivers any item whose claim ran out.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

from shared.onboarding.jobs import ExportJob, ImportJob
from shared.platform.clock import Clock, format_ts, utcnow
from shared.storage.cosmos import JOBS, Store

log = logging.getLogger(__name__)

# How long a queued export may wait for its trigger before the sweeper starts it.
START_GRACE = timedelta(minutes=5)
BATCH = 50
ABANDONED_QUERY = (
    "SELECT TOP {limit} * FROM c WHERE c.state = 'running' AND IS_STRING(c.leaseUntil) "
    "AND c.leaseUntil < @now"
)
UNSTARTED_QUERY = (
    "SELECT TOP {limit} * FROM c WHERE c.kind = 'export' AND c.state = 'queued' AND c.createdAt < @before"
)


class ImportRunner(Protocol):
    def take_over(self, job: ImportJob) -> str: ...


class ExportRunner(Protocol):
    def take_over(self, job: ExportJob) -> str: ...


class SyncRunner(Protocol):
    """PIM connector syncs (shared.connectors, above this layer, hands itself in)."""

    def take_over(self, job: Any) -> str: ...


class JobSweeper:
    def __init__(
        self,
        store: Store,
        imports: ImportRunner,
        exports: ExportRunner,
        clock: Clock = utcnow,
        syncs: SyncRunner | None = None,
    ):
        self.store = store
        self.imports = imports
        self.exports = exports
        self.syncs = syncs
        self.clock = clock

    def sweep(self, now: datetime | None = None) -> dict[str, int]:
        """Take over or fail every abandoned job; counts of what happened, by outcome."""
        moment = now or self.clock()
        counts: dict[str, int] = {}
        for job in self._abandoned(moment):
            outcome = self._hand_back(job)
            counts[outcome] = counts.get(outcome, 0) + 1
        return counts

    def _abandoned(self, moment: datetime) -> Iterator[dict[str, Any]]:
        # Leases are ISO 8601 in UTC, so they compare as strings.
        yield from self.store.query_background(
            JOBS, ABANDONED_QUERY.format(limit=BATCH), {"@now": moment.isoformat()}
        )
        yield from self.store.query_background(
            JOBS, UNSTARTED_QUERY.format(limit=BATCH), {"@before": format_ts(moment - START_GRACE)}
        )

    def _hand_back(self, job: dict[str, Any]) -> str:
        try:
            if job.get("kind") == "import":
                return self.imports.take_over(cast(ImportJob, job))
            if job.get("kind") == "sync":
                return self.syncs.take_over(job) if self.syncs else "no sync runner"
            return self.exports.take_over(cast(ExportJob, job))
        except Exception:
            # One job's trouble must not stop the sweep of the others; the next sweep tries again.
            log.exception("Sweeping job %s failed", job.get("jobId"))
            return "error"
