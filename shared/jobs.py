"""Background jobs (imports, exports): one item each in the `jobs` container, read and written
by id only, visible to the economic operator that owns them and to authorities."""

from __future__ import annotations

from typing import Any

from shared.auth import Principal, owner_or_authority
from shared.errors import NotFound
from shared.store import JOBS, Store, without_system

JOB_ID = "job"


def read_job(store: Store, job_id: str, kind: str, principal: Principal) -> dict[str, Any]:
    """The job for its owner or an authority; anyone else learns nothing about it (404)."""
    job = store.read(JOBS, JOB_ID, job_id)
    if job is None or job.get("kind") != kind or not owner_or_authority(principal, job["economicOperatorId"]):
        raise NotFound(f"No {kind} '{job_id}'", code=f"{kind.capitalize()}NotFound")
    return job


def save_job(store: Store, job: dict[str, Any], updated_at: str, **changes: Any) -> dict[str, Any]:
    """Write the job's changes if nobody else has since it was read (ItemChanged otherwise)."""
    updated = {**without_system(job), **changes, "updatedAt": updated_at}
    return store.replace(JOBS, updated, job["_etag"])
