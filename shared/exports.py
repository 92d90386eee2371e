"""JSON export: all of an operator's passports as JSON Lines in Blob storage, for portability.

`POST /api/v1/exports` records a job and drops a small request blob (`exports/requests/<id>.json`);
the blob trigger runs the export, so it survives the request and is retried like an import.
The export file has one passport document per line (the current version, exactly as stored,
with its `contentHash` and `signature`), so it imports as it is (JSON Lines) into any deployment.
With `history`, a second file holds every version's record (number, time, operation, hashes,
signature, document), so the whole signed chain travels too.

Listing an operator's passports queries across partitions (the passports are partitioned by
passport id); that is acceptable here because it runs in the background, never on a request path.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from shared.auth import Action, Principal, authorize
from shared.errors import BadRequest
from shared.jobs import JOB_ID, read_job, save_job
from shared.store import JOBS, PASSPORTS, ItemChanged, Store, get_store
from shared.timestamps import format_ts
from shared.versions import Passports

log = logging.getLogger(__name__)

EXPORTS_CONTAINER = "exports"
REQUESTS_PREFIX = "requests/"
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
PROGRESS_EVERY = 200
# Block blobs are written in blocks; 4 MiB keeps memory flat for any number of passports.
BLOCK_BYTES = 4 * 1024 * 1024
DOWNLOAD_MINUTES = 60


def _now() -> str:
    return format_ts(datetime.now(UTC))


def request_export(body: Any, principal: Principal, store: Store | None = None) -> dict[str, Any]:
    authorize(Action.CREATE, principal, None)
    body = {} if body is None else body
    if (
        not isinstance(body, dict)
        or set(body) - {"history"}
        or not isinstance(body.get("history", False), bool)
    ):
        raise BadRequest('Send {} or {"history": true|false}', code="InvalidExport")
    export_id = uuid.uuid4().hex
    job = {
        "id": JOB_ID,
        "jobId": export_id,
        "kind": "export",
        "state": QUEUED,
        "economicOperatorId": principal.operator_id,
        "createdBy": principal.subject,
        "createdAt": _now(),
        "updatedAt": _now(),
        "history": body.get("history", False),
        "total": None,
        "exported": 0,
        "versions": 0,
        "files": None,
        "reason": None,
    }
    (store or get_store()).create(JOBS, job)
    _write(f"{REQUESTS_PREFIX}{export_id}.json", json.dumps({"exportId": export_id}).encode())
    return job


def read_export(export_id: str, principal: Principal, store: Store | None = None) -> dict[str, Any]:
    return read_job(store or get_store(), export_id, "export", principal)


def public_export(job: dict[str, Any]) -> dict[str, Any]:
    from shared.blob_storage import read_sas_url

    shown = {
        "exportId": job["jobId"],
        **{
            name: job.get(name)
            for name in ("state", "economicOperatorId", "history", "createdAt", "updatedAt", "total")
        },
        "exported": job.get("exported", 0),
        "reason": job.get("reason"),
    }
    if job["state"] == DONE and job.get("files"):
        shown["downloads"] = {
            kind: read_sas_url(EXPORTS_CONTAINER, name, DOWNLOAD_MINUTES)
            for kind, name in job["files"].items()
        }
    return shown


class Exporter:
    def __init__(self, passports: Passports, store: Store):
        self.passports = passports
        self.store = store

    def run(self, request_blob: str) -> str:
        export_id = request_blob.removeprefix(REQUESTS_PREFIX).removesuffix(".json")
        job = self.store.read(JOBS, JOB_ID, export_id)
        if job is None or job.get("kind") != "export":
            log.warning("Export request %s has no job; ignored", request_blob)
            return "no job"
        if job["state"] == DONE:
            return "already done"
        try:
            job = self._save(job, state=RUNNING)
            files, job = self._write_files(job)
            self._save(job, state=DONE, files=files)
        except ItemChanged:
            # Another delivery of the same request got there first; it carries on.
            return "running elsewhere"
        return DONE

    def _heads(self, operator: str) -> Iterator[dict[str, Any]]:
        yield from self.store.iterate_background(
            PASSPORTS,
            "SELECT * FROM c WHERE c.type = 'head' AND c.economicOperatorId = @operator "
            "AND c.deleted = false",
            {"@operator": operator},
        )

    def _write_files(self, job: dict[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
        operator = job["economicOperatorId"]
        total = sum(1 for _ in self._heads(operator))
        job = self._save(job, total=total)
        passports = _BlockWriter(f"{job['jobId']}/passports.jsonl")
        history = _BlockWriter(f"{job['jobId']}/history.jsonl") if job["history"] else None
        exported = versions = 0
        for head in self._heads(operator):
            passports.write_line(head["document"])
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

    def _save(self, job: dict[str, Any], **changes: Any) -> dict[str, Any]:
        return save_job(self.store, job, _now(), **changes)


def _version_record(item: dict[str, Any]) -> dict[str, Any]:
    fields = ("dppId", "version", "ts", "operation", "contentHash", "signature", "previousHash", "deleted")
    return {**{name: item.get(name) for name in fields}, "document": item["document"]}


class _BlockWriter:
    """JSON Lines into one block blob, staged block by block, committed at the end."""

    def __init__(self, name: str):
        from shared.blob_storage import container_client

        self.name = name
        self.blob = container_client(EXPORTS_CONTAINER).get_blob_client(name)
        self.blocks: list[str] = []
        self.buffer = bytearray()

    def write_line(self, value: Any) -> None:
        self.buffer += json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
        if len(self.buffer) >= BLOCK_BYTES:
            self._stage()

    def _stage(self) -> None:
        from shared.blob_storage import translated

        block_id = f"{len(self.blocks):08d}".encode().hex()
        with translated():
            self.blob.stage_block(block_id, bytes(self.buffer))
        self.blocks.append(block_id)
        self.buffer.clear()

    def commit(self) -> str:
        from azure.storage.blob import BlobBlock, ContentSettings

        from shared.blob_storage import translated

        if self.buffer or not self.blocks:
            self._stage()
        with translated():
            self.blob.commit_block_list(
                [BlobBlock(block_id=block) for block in self.blocks],
                content_settings=ContentSettings("application/jsonl"),
            )
        return self.name


def _write(name: str, data: bytes) -> None:
    from shared.blob_storage import container_client, translated

    with translated():
        container_client(EXPORTS_CONTAINER).upload_blob(name, data, overwrite=True)


def run_export(request_blob: str) -> str:
    """The blob trigger's entry point for `exports/requests/<id>.json`."""
    from shared.service import get_service

    return Exporter(get_service().passports, get_store()).run(request_blob)
