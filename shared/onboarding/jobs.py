"""Background jobs (imports, exports): one item each in the `jobs` container, read and written
by id only, visible to the economic operator that owns them and to authorities."""

from __future__ import annotations

from typing import Any, Literal, NotRequired, Protocol, TypedDict, TypeVar, cast

from shared.access.authentication import Principal
from shared.access.authorization import owner_or_authority
from shared.platform.errors import ErrorCode, NotFound
from shared.storage.cosmos import JOBS, Store, without_system

JOB_ID = "job"
Kind = Literal["import", "export"]
_NOT_FOUND = {"import": ErrorCode.IMPORT_NOT_FOUND, "export": ErrorCode.EXPORT_NOT_FOUND}


class JobLinks(Protocol):
    """The app's routes that move a job's files (shared.storage.links sends clients there when
    storage is private), as the HTTP layer builds them from its route table."""

    def import_file(self, import_id: str) -> str: ...

    def import_mapping(self, import_id: str) -> str: ...

    def import_report(self, import_id: str, kind: str) -> str: ...

    def export_file(self, export_id: str, kind: str) -> str: ...


class Job(TypedDict):
    """What every job records; `ImportJob` and `ExportJob` add their own progress."""

    id: str
    jobId: str
    kind: Kind
    state: str
    economicOperatorId: str | None
    createdBy: str
    createdAt: str
    updatedAt: str
    reason: str | None
    _etag: NotRequired[str]


class ImportJob(Job):
    fileName: str
    blobName: str
    format: str
    mapping: Any
    total: int | None
    processed: int
    created: int
    updated: int
    unchanged: int
    failed: int
    failures: list[dict[str, Any]]
    batches: list[str]
    deliveries: int
    leaseUntil: str | None
    report: dict[str, str | None] | None
    lastError: NotRequired[str]


class ExportJob(Job):
    history: bool
    format: NotRequired[str]  # jsonl (also when missing: a job from before the AAS formats), aas-json, aasx
    total: int | None
    exported: int
    versions: int
    files: dict[str, str] | None
    deliveries: NotRequired[int]
    leaseUntil: NotRequired[str | None]


def load_job(store: Store, job_id: str, kind: Kind) -> Job | None:
    """The job, or None when there is none of this kind under that id."""
    job = store.read(JOBS, JOB_ID, job_id)
    if job is None or job.get("kind") != kind:
        return None
    return cast(Job, job)


def read_job(store: Store, job_id: str, kind: Kind, principal: Principal) -> Job:
    """The job for its owner or an authority; anyone else learns nothing about it (404)."""
    job = load_job(store, job_id, kind)
    if job is None or not owner_or_authority(principal, job["economicOperatorId"]):
        raise NotFound(f"No {kind} '{job_id}'", code=_NOT_FOUND[kind])
    return job


AnyJob = TypeVar("AnyJob", bound=Job)


def save_job(store: Store, job: AnyJob, updated_at: str, **changes: Any) -> AnyJob:
    """Write the job's changes if nobody else has since it was read (ItemChanged otherwise)."""
    updated = {**without_system(dict(job)), **changes, "updatedAt": updated_at}
    return cast(AnyJob, store.replace(JOBS, updated, job["_etag"]))
