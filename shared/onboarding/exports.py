"""JSON export: all of an operator's passports as JSON Lines in Blob storage, for portability.

Requesting an export records a job and drops a small request blob (`exports/requests/<id>.json`);
the blob trigger runs the export, so it survives the request and is retried like an import.
The export file has one passport per line: the current version's document as stored, with its
envelope members under the names a write body takes (`dppLifecycle`, `dppArtifacts`,
`dppAccessPolicy`), its `contentHash` and, as `signature`, the SD-JWT presentation disclosing
everything; it imports as it is (JSON Lines) into any deployment. With `history`, a second file
holds every version's record (number, time, operation, digests, document, envelope, complete
presentation), so the whole signed chain travels too.

Listing an operator's passports queries across partitions (the passports are partitioned by
passport id); that is acceptable here because it runs in the background, never on a request path.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, cast

from shared.access.authentication import Principal
from shared.access.authorization import Action, authorize
from shared.access.disclosure import complete_presentation
from shared.documents.lifecycle import ARTIFACTS, LIFECYCLE
from shared.documents.members import ACCESS_POLICY
from shared.onboarding.jobs import JOB_ID, ExportJob, JobLinks, load_job, read_job, save_job
from shared.passports.records import PassportItem
from shared.passports.repository import PassportRepository
from shared.platform.clock import Clock, format_ts, utcnow
from shared.platform.errors import BadRequest, ErrorCode, NotFound
from shared.storage.blobs import BlobStorage, translated
from shared.storage.cosmos import JOBS, PASSPORTS, ItemChanged, Store
from shared.storage.links import SAS, BlobContent, StorageLinks

log = logging.getLogger(__name__)

EXPORTS_CONTAINER = "exports"
REQUESTS_PREFIX = "requests/"
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
PROGRESS_EVERY = 200
# Block blobs are written in blocks; 4 MiB keeps memory flat for any number of passports.
BLOCK_BYTES = 4 * 1024 * 1024
DOWNLOAD_MINUTES = 60
# A running export renews this lease at every progress save; one that ran out was abandoned.
LEASE = timedelta(minutes=5)
MAX_DELIVERIES = 3


class Exports:
    """Export jobs: requested through the API, run by the blob trigger of their request blob."""

    def __init__(
        self,
        passports: PassportRepository,
        store: Store,
        blobs: BlobStorage,
        clock: Clock = utcnow,
        *,
        links: StorageLinks | None = None,
    ):
        self.passports = passports
        self.store = store
        self.blobs = blobs
        self.clock = clock
        self.links = links or StorageLinks(SAS, blobs)

    def _now(self) -> str:
        return format_ts(self.clock())

    def request(self, body: Any, principal: Principal) -> ExportJob:
        authorize(Action.CREATE, principal, None)
        body = {} if body is None else body
        if (
            not isinstance(body, dict)
            or set(body) - {"history"}
            or not isinstance(body.get("history", False), bool)
        ):
            raise BadRequest('Send {} or {"history": true|false}', code=ErrorCode.INVALID_EXPORT)
        export_id = uuid.uuid4().hex
        now = self._now()
        job: ExportJob = {
            "id": JOB_ID,
            "jobId": export_id,
            "kind": "export",
            "state": QUEUED,
            "economicOperatorId": principal.operator_id,
            "createdBy": principal.subject,
            "createdAt": now,
            "updatedAt": now,
            "history": body.get("history", False),
            "total": None,
            "exported": 0,
            "versions": 0,
            "files": None,
            "reason": None,
        }
        self.store.create(JOBS, dict(job))
        with translated():
            self.blobs.container(EXPORTS_CONTAINER).upload_blob(
                f"{REQUESTS_PREFIX}{export_id}.json",
                json.dumps({"exportId": export_id}).encode(),
                overwrite=True,
            )
        return job

    def find(self, export_id: str, principal: Principal) -> ExportJob:
        return cast(ExportJob, read_job(self.store, export_id, "export", principal))

    def download(self, export_id: str, kind: str, principal: Principal) -> BlobContent:
        """A finished export's file (`passports`, or `history`), for its owner."""
        job = self.find(export_id, principal)
        name = (job.get("files") or {}).get(kind) if job["state"] == DONE else None
        missing = NotFound(f"Export '{export_id}' has no '{kind}' file", code=ErrorCode.EXPORT_NOT_FOUND)
        if not name:
            raise missing
        return self.links.content(EXPORTS_CONTAINER, name, missing)

    def status(self, job: ExportJob, links: JobLinks) -> dict[str, Any]:
        shown = {
            "exportId": job["jobId"],
            **{
                name: job.get(name)
                for name in ("state", "economicOperatorId", "history", "createdAt", "updatedAt", "total")
            },
            "exported": job.get("exported", 0),
            "reason": job.get("reason"),
        }
        files = job.get("files")
        if job["state"] == DONE and files:
            shown["downloads"] = {
                kind: self.links.read(
                    EXPORTS_CONTAINER, name, DOWNLOAD_MINUTES, links.export_file(job["jobId"], kind)
                )
                for kind, name in files.items()
            }
        return shown

    def run(self, request_blob: str) -> str:
        """The blob trigger's entry point for `exports/requests/<id>.json`."""
        export_id = request_blob.removeprefix(REQUESTS_PREFIX).removesuffix(".json")
        job = cast(ExportJob | None, load_job(self.store, export_id, "export"))
        if job is None:
            log.warning("Export request %s has no job; ignored", request_blob)
            return "no job"
        if job["state"] in (DONE, FAILED):
            return f"already {job['state']}"
        lease = job.get("leaseUntil")
        if job["state"] == RUNNING and lease and datetime.fromisoformat(lease) > self.clock():
            return "running elsewhere"
        try:
            job = self._save(job, state=RUNNING, deliveries=int(job.get("deliveries") or 0) + 1)
            files, job = self._write_files(job)
            self._save(job, state=DONE, files=files, leaseUntil=None)
        except ItemChanged:
            # Another delivery of the same request (or the sweeper) took over; it carries on.
            return "running elsewhere"
        return DONE

    def take_over(self, job: ExportJob) -> str:
        """An export whose worker stopped (its lease ran out) or that never started: run it again
        from the start (files are rewritten whole), or after MAX_DELIVERIES tries, fail it."""
        if int(job.get("deliveries") or 0) >= MAX_DELIVERIES:
            reason = f"Abandoned after {job.get('deliveries')} attempts: each worker stopped before the end"
            try:
                self._save(job, state=FAILED, reason=reason, leaseUntil=None)
            except ItemChanged:
                return "running elsewhere"
            return FAILED
        return self.run(f"{REQUESTS_PREFIX}{job['jobId']}.json")

    def _heads(self, operator: str | None) -> Iterator[PassportItem]:
        for item in self.store.iterate_background(
            PASSPORTS,
            "SELECT * FROM c WHERE c.type = 'head' AND c.economicOperatorId = @operator "
            "AND c.deleted = false",
            {"@operator": operator},
        ):
            yield cast(PassportItem, item)

    def _write_files(self, job: ExportJob) -> tuple[dict[str, str], ExportJob]:
        operator = job["economicOperatorId"]
        total = sum(1 for _ in self._heads(operator))
        job = self._save(job, total=total)
        passports = _BlockWriter(self.blobs, f"{job['jobId']}/passports.jsonl")
        history = _BlockWriter(self.blobs, f"{job['jobId']}/history.jsonl") if job["history"] else None
        exported = versions = 0
        for head in self._heads(operator):
            passports.write_line(exported_document(head))
            if history is not None:
                for item in self.passports.history(head["dppId"], head):
                    history.write_line(_version_record(item))
                    versions += 1
            exported += 1
            if exported % PROGRESS_EVERY == 0:
                job = self._save(job, exported=exported, versions=versions)
        files = {"passports": passports.commit()}
        if history is not None:
            files["history"] = history.commit()
        return files, self._save(job, exported=exported, versions=versions)

    def _save(self, job: ExportJob, **changes: Any) -> ExportJob:
        """Save, renewing the lease while running (ItemChanged: another worker took over)."""
        if changes.get("state", job["state"]) == RUNNING:
            changes["leaseUntil"] = (self.clock() + LEASE).isoformat()
        return save_job(self.store, job, self._now(), **changes)


def _version_record(item: PassportItem) -> dict[str, Any]:
    fields = ("dppId", "version", "ts", "operation", "writer", "versionDigest", "previousDigest", "deleted")
    return {
        **{name: item.get(name) for name in fields},
        "document": item["document"],
        "lifecycle": item["lifecycle"],
        "artifacts": item["artifacts"],
        "accessPolicy": item.get("accessPolicy"),
        "contentHash": item["contentHash"],
        "signature": complete_presentation(item),
    }


def exported_document(head: PassportItem) -> dict[str, Any]:
    """A passport as the export writes it: the document, its envelope members under the names a
    write body takes (so the file imports again), and the owner's complete presentation."""
    document: dict[str, Any] = {**head["document"], LIFECYCLE: head["lifecycle"]}
    if head["artifacts"]:
        document[ARTIFACTS] = head["artifacts"]
    if head.get("accessPolicy") is not None:
        document[ACCESS_POLICY] = head["accessPolicy"]
    return {**document, "contentHash": head["contentHash"], "signature": complete_presentation(head)}


class _BlockWriter:
    """JSON Lines into one block blob, staged block by block, committed at the end."""

    def __init__(self, blobs: BlobStorage, name: str):
        self.name = name
        self.blob = blobs.container(EXPORTS_CONTAINER).get_blob_client(name)
        self.blocks: list[str] = []
        self.buffer = bytearray()

    def write_line(self, value: Any) -> None:
        self.buffer += json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
        if len(self.buffer) >= BLOCK_BYTES:
            self._stage()

    def _stage(self) -> None:
        block_id = f"{len(self.blocks):08d}".encode().hex()
        with translated():
            self.blob.stage_block(block_id, bytes(self.buffer))
        self.blocks.append(block_id)
        self.buffer.clear()

    def commit(self) -> str:
        from azure.storage.blob import BlobBlock, ContentSettings

        if self.buffer or not self.blocks:
            self._stage()
        with translated():
            self.blob.commit_block_list(
                [BlobBlock(block_id=block) for block in self.blocks],
                content_settings=ContentSettings("application/jsonl"),
            )
        return self.name
