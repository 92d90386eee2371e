"""JSON export: all of an operator's passports as JSON Lines in Blob storage, for portability.

Requesting an export records a job and drops a small request blob (`exports/requests/<id>.json`);
the blob trigger runs the export, so it survives the request and is retried like an import.
The export file has one passport per line: the current version's document as stored, with its
envelope members under the names a write body takes (`dppLifecycle`, `dppArtifacts`,
`dppAccessPolicy`), its `contentHash` and, as `signature`, the SD-JWT presentation disclosing
everything; it imports as it is (JSON Lines) into any deployment. With `history`, a second file
holds every version's record (number, time, operation, digests, document, envelope, complete
presentation), so the whole signed chain travels too.

With `"format": "aas-json"` or `"aasx"` the passports file is instead one Asset Administration
Shell environment holding every passport's shell and submodels as its owner reads them (the
single-passport AAS export's, `shared.publication.aas`; handed in as `AasShells`, since
onboarding does not import publication): AAS JSON, or an AASX package with one AAS part per
passport. Either imports again through the bulk import (formats `aas-json`, `aasx`), losing what
the AAS mapping loses, and neither carries the lifecycle, artifacts' content or own access policy.
Memory stays flat: the JSON is written passport by passport (the submodels, which follow every
shell in an environment, are kept in a local temporary file meanwhile), the AASX is built in a
local temporary file and then staged block by block; both need local disk of about their size.

Listing an operator's passports queries across partitions (the passports are partitioned by
passport id); that is acceptable here because it runs in the background, never on a request path.
"""

from __future__ import annotations

import json
import logging
import tempfile
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import IO, Any, Protocol, cast

from shared.access.authentication import Principal
from shared.access.authorization import Action, authorize
from shared.access.disclosure import complete_presentation
from shared.access.roles import OPERATOR
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
JSONL, AAS_JSON, AASX = "jsonl", "aas-json", "aasx"
FORMATS = (JSONL, AAS_JSON, AASX)
AASX_MEDIA_TYPE = "application/asset-administration-shell-package+xml"
# The passports file of each format: its name in the export's folder and its content type.
PASSPORT_FILES = {
    JSONL: ("passports.jsonl", "application/jsonl"),
    AAS_JSON: ("passports.aas.json", "application/json"),
    AASX: ("passports.aasx", AASX_MEDIA_TYPE),
}


class AasShells(Protocol):
    """A passport as AAS objects: its shell's id, and the shell with its submodels (BaSyx
    Identifiables) of what `reader` may see (shared.publication.aas_shells)."""

    def objects(self, head: PassportItem, reader: Principal) -> tuple[str, list[Any]]: ...


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
        aas: Callable[[], AasShells] | None = None,
    ):
        self.passports = passports
        self.store = store
        self.blobs = blobs
        self.clock = clock
        self.links = links or StorageLinks(SAS, blobs)
        # Asked for only when an AAS export runs: it needs the HTTP layer's URLs.
        self.aas = aas

    def _now(self) -> str:
        return format_ts(self.clock())

    def request(self, body: Any, principal: Principal) -> ExportJob:
        authorize(Action.CREATE, principal, None)
        body = {} if body is None else body
        if (
            not isinstance(body, dict)
            or set(body) - {"history", "format"}
            or not isinstance(body.get("history", False), bool)
            or body.get("format", JSONL) not in FORMATS
        ):
            raise BadRequest(
                'Send {}, or {"history": true|false, "format": "jsonl"|"aas-json"|"aasx"} (each optional)',
                code=ErrorCode.INVALID_EXPORT,
            )
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
            "format": body.get("format", JSONL),
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
            "format": job.get("format", JSONL),
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
        fmt = job.get("format", JSONL)
        name, content_type = PASSPORT_FILES[fmt]
        passports = _BlockWriter(self.blobs, f"{job['jobId']}/{name}", content_type)
        history = _BlockWriter(self.blobs, f"{job['jobId']}/history.jsonl") if job["history"] else None
        writer = _JsonLines(passports) if fmt == JSONL else self._aas_writer(fmt, passports, job)
        exported = versions = 0
        for head in self._heads(operator):
            writer.add(head)
            if history is not None:
                for item in self.passports.history(head["dppId"], head):
                    history.write_line(_version_record(item))
                    versions += 1
            exported += 1
            if exported % PROGRESS_EVERY == 0:
                job = self._save(job, exported=exported, versions=versions)
        writer.finish()
        files = {"passports": passports.commit()}
        if history is not None:
            files["history"] = history.commit()
        return files, self._save(job, exported=exported, versions=versions)

    def _aas_writer(self, fmt: str, out: _BlockWriter, job: ExportJob) -> _PassportWriter:
        if self.aas is None:
            raise BadRequest("This deployment writes no AAS exports", code=ErrorCode.INVALID_EXPORT)
        # What the owner reads of each passport, as the JSON Lines file holds it all.
        owner = Principal(f"export:{job['jobId']}", frozenset({OPERATOR}), job["economicOperatorId"])
        return (_AasJson if fmt == AAS_JSON else _Aasx)(self.aas(), owner, out)

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
    """Bytes (JSON Lines, say) into one block blob, staged block by block, committed at the end."""

    def __init__(self, blobs: BlobStorage, name: str, content_type: str = "application/jsonl"):
        self.name = name
        self.content_type = content_type
        self.blob = blobs.container(EXPORTS_CONTAINER).get_blob_client(name)
        self.blocks: list[str] = []
        self.buffer = bytearray()

    def write_line(self, value: Any) -> None:
        self.write(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n")

    def write(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) >= BLOCK_BYTES:
            self._stage()

    def copy_from(self, source: IO[bytes]) -> None:
        source.seek(0)
        while chunk := source.read(BLOCK_BYTES):
            self.write(chunk)

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
                content_settings=ContentSettings(self.content_type),
            )
        return self.name


class _PassportWriter(Protocol):
    def add(self, head: PassportItem) -> None: ...

    def finish(self) -> None: ...


class _JsonLines:
    def __init__(self, out: _BlockWriter):
        self.out = out

    def add(self, head: PassportItem) -> None:
        self.out.write_line(exported_document(head))

    def finish(self) -> None:
        pass


class _AasJson:
    """One AAS JSON environment, written passport by passport: the shells as they come, the
    submodels (which follow every shell) gathered in a local temporary file meanwhile."""

    def __init__(self, shells: AasShells, reader: Principal, out: _BlockWriter):
        self.shells = shells
        self.reader = reader
        self.out = out
        self.submodels = tempfile.TemporaryFile()  # noqa: SIM115 - closed by finish()
        self.count = 0

    def add(self, head: PassportItem) -> None:
        from basyx.aas import model
        from basyx.aas.adapter.json import AASToJsonEncoder

        _, objects = self.shells.objects(head, self.reader)
        for item in objects:
            text = json.dumps(item, cls=AASToJsonEncoder, ensure_ascii=False).encode("utf-8")
            if isinstance(item, model.AssetAdministrationShell):
                self.out.write((b"," if self.count else b'{"assetAdministrationShells":[') + text)
                self.count += 1
            else:
                self.submodels.write((b"," if self.submodels.tell() else b"") + text)

    def finish(self) -> None:
        # An environment's arrays hold one item at least (the AAS JSON schema): none, no member.
        with self.submodels:
            if not self.count:
                self.out.write(b"{}")
                return
            self.out.write(b'],"submodels":[')
            self.out.copy_from(self.submodels)
            self.out.write(b"]}")


class _Aasx:
    """One AASX package, built in a local temporary file (a ZIP's directory comes last), with one
    AAS part per passport (`/aasx/passport-<n>.json`, each one an aas-spec part of the origin)."""

    def __init__(self, shells: AasShells, reader: Principal, out: _BlockWriter):
        from basyx.aas.adapter.aasx import AASXWriter, DictSupplementaryFileContainer

        self.shells = shells
        self.reader = reader
        self.out = out
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by finish()
        # Not failsafe: a part missing what it names is an error, not a warning in a log.
        self.package = AASXWriter(self.file, failsafe=False)
        # Artifacts are named by URL, never embedded: the package has no supplementary files.
        self.files = DictSupplementaryFileContainer()  # type: ignore[no-untyped-call]  # unannotated in BaSyx 2.2
        self.count = 0

    def add(self, head: PassportItem) -> None:
        from basyx.aas import model

        _, objects = self.shells.objects(head, self.reader)
        self.count += 1
        part = f"/aasx/passport-{self.count:07d}.json"
        self.package.write_all_aas_objects(
            part, model.DictIdentifiableStore(objects), self.files, write_json=True
        )

    def finish(self) -> None:
        with self.file:
            self.package.close()  # type: ignore[no-untyped-call]  # unannotated in BaSyx 2.2
            self.out.copy_from(self.file)
