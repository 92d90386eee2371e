"""Bulk import: an uploaded file's rows become passports, written like API writes, resumably.

1. An operator asks for an import (`grant`): the job is recorded in the `jobs` container, owned
   by the token's economic operator, and the operator gets a write-only link for ONE blob,
   `imports/<importId>/<fileName>`. That link is how the uploader is checked: whatever lands under
   an import's folder was written by the holder of that import's link. With DPP_STORAGE_LINKS=app
   the link is the app's upload route instead (`receive`), which checks the job's owner's token and
   writes that same blob once.
2. The blob trigger (Event Grid in Azure; the local host lists new blobs) calls `Imports.run`.
   Each row is mapped, validated and written through the same service as the API (create, or a
   merge-patch update of the product's live passport), signed like any write, by a bounded pool.
3. Progress is checkpointed after every batch of rows (with the batch's failures in a blob), under
   a lease on the job. A second delivery of the same blob finds the job done (nothing happens),
   running under a live lease (it leaves it alone), or abandoned (it takes over at the checkpoint).
   Rows of a batch that was interrupted are written again; that is harmless, because an unchanged
   row writes no version and a created passport is found and updated instead.
4. The report (`import-reports/<upload name>.json`, plus the failed rows to fix and re-upload)
   lists every failure with its row, column and reason.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import random
import re
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice
from types import ModuleType
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol, cast

from shared.access.authentication import Principal
from shared.access.authorization import Action, authorize
from shared.access.roles import OPERATOR
from shared.documents.lifecycle import ARTIFACTS, CLIENT_FIELDS, LIFECYCLE
from shared.documents.model import validate_document
from shared.onboarding.file_formats import (
    ImportFileError,
    ReaderOptions,
    Record,
    RowRejected,
    count_records,
    detect_format,
    read_records,
)
from shared.onboarding.jobs import JOB_ID, ImportJob, JobLinks, load_job, read_job, save_job
from shared.onboarding.spreadsheet_cells import escaped
from shared.passports.service import PassportService
from shared.platform.clock import Clock, format_ts, utcnow
from shared.platform.errors import (
    BadRequest,
    Conflict,
    DppError,
    ErrorCode,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
)
from shared.platform.settings import Settings
from shared.storage.blobs import BlobStorage, translated
from shared.storage.cosmos import JOBS, ItemChanged, Store
from shared.storage.links import SAS, BlobContent, StorageLinks

if TYPE_CHECKING:
    from shared.onboarding.mappings import Mapping

log = logging.getLogger(__name__)

IMPORTS_CONTAINER = "imports"
REPORTS_CONTAINER = "import-reports"
MAPPING_FILES = ("mapping.json", "mapping.yaml", "mapping.yml")
AWAITING, RUNNING, DONE, FAILED = "awaiting-upload", "running", "done", "failed"
BATCH_ROWS = 200
LEASE = timedelta(minutes=5)
# Workers that may try one import before the sweeper fails it (each stopped before the end).
MAX_DELIVERIES = 3
UPLOAD_LINK_MINUTES = 60
# What the app's upload route takes: the upload itself, or the mapping beside it.
FILE, MAPPING = "file", "mapping"
UPLOADED_MAPPING = "mapping.yaml"
# The Functions host refuses larger request bodies itself (its default limit, on every plan the
# limits table lists), before the app could answer with a Result.
HOST_MAX_REQUEST_BYTES = 104_857_600
SHOWN_FAILURES = 20
SPOOL_MEMORY_BYTES = 1024 * 1024
# Reports are written in blocks of this size: what a report costs in memory, whatever its length.
REPORT_BLOCK_BYTES = 1024 * 1024
_JSON, _TEXT = "application/json", "text/plain; charset=utf-8"
ROW_ATTEMPTS = 5
# A store or storage outage met between rows (a checkpoint, the report, the download) is waited
# out by the worker, which then goes on from its checkpoint, instead of leaving the import
# `running` for the sweeper (a lease and a sweep: up to ten minutes). Seconds before each retry.
OUTAGE_WAITS = (2.0, 5.0, 10.0, 20.0, 30.0)
_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
COUNTERS = ("created", "updated", "unchanged", "failed")


def _mappings() -> ModuleType:
    # Mappings bring YAML: loaded when an import needs them, not at every cold start.
    from shared.onboarding import mappings

    return mappings


# -- the grant -----------------------------------------------------------------------------------


def _mapping_spec(value: Any) -> Any:
    """A mapping given with the grant: a shipped mapping's name or a mapping object, checked now."""
    if value is None:
        return None
    try:
        if isinstance(value, str):
            _mappings().shipped_mapping(value)
        elif isinstance(value, dict):
            _mappings().load_mapping(value, "the grant's mapping")
        else:
            raise _mappings().MappingError(
                f"a shipped mapping's name ({', '.join(_mappings().SHIPPED_MAPPINGS)}) or a mapping object"
            )
    except _mappings().MappingError as exc:
        raise BadRequest(f"Invalid 'mapping': {exc}", code=ErrorCode.INVALID_MAPPING) from None
    return value


class ByteStream(Protocol):
    """Where an upload is read from: the trigger's InputStream, or the blob's download chunks."""

    def read(self, size: int = -1, /) -> bytes: ...


# -- running an upload ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    kind: str  # created | updated | unchanged | failed
    failure: dict[str, Any] | None = None


class Imports:
    """Import grants, their status, and the run of a delivered upload, written through `service`
    (the passport service the API uses) and reported to Blob storage."""

    def __init__(
        self,
        service: PassportService,
        store: Store,
        blobs: BlobStorage,
        config: Settings,
        clock: Clock = utcnow,
        *,
        links: StorageLinks | None = None,
    ):
        self.service = service
        self.store = store
        self.blobs = blobs
        self.config = config
        self.clock = clock
        self.links = links or StorageLinks(SAS, blobs)

    # -- the grant ---------------------------------------------------------------------------

    def grant(self, body: Any, principal: Principal) -> ImportJob:
        """Record a new import owned by the caller's economic operator; the caller then uploads."""
        authorize(Action.CREATE, principal, None)
        if not isinstance(body, dict):
            raise BadRequest('Send {"fileName", "mapping"?, "format"?}', code=ErrorCode.INVALID_IMPORT)
        unknown = sorted(set(body) - {"fileName", "mapping", "format"})
        file_name = body.get("fileName")
        if unknown or not isinstance(file_name, str) or not _FILE_NAME.match(file_name):
            raise BadRequest(
                "'fileName' is required: 1-128 of A-Z a-z 0-9 . _ - (no folders)"
                + (f"; unknown members {unknown}" if unknown else ""),
                code=ErrorCode.INVALID_IMPORT,
            )
        if file_name.lower() in MAPPING_FILES:
            raise BadRequest(
                f"'{file_name}' is reserved for a mapping next to the upload", code=ErrorCode.INVALID_IMPORT
            )
        declared = body.get("format")
        try:
            fmt = detect_format(file_name, declared if isinstance(declared, str) else None)
        except ImportFileError as exc:
            raise BadRequest(str(exc), code=ErrorCode.INVALID_IMPORT) from None
        mapping = _mapping_spec(body.get("mapping"))
        import_id = uuid.uuid4().hex
        now = format_ts(self.clock())
        job: ImportJob = {
            "id": JOB_ID,
            "jobId": import_id,
            "kind": "import",
            "state": AWAITING,
            "economicOperatorId": principal.operator_id,
            "createdBy": principal.subject,
            "createdAt": now,
            "updatedAt": now,
            "fileName": file_name,
            "blobName": f"{import_id}/{file_name}",
            "format": fmt,
            "mapping": mapping,
            "total": None,
            "processed": 0,
            "created": 0,
            "updated": 0,
            "unchanged": 0,
            "failed": 0,
            "failures": [],
            "batches": [],
            "deliveries": 0,
            "leaseUntil": None,
            "reason": None,
            "report": None,
        }
        self.store.create(JOBS, dict(job))
        return job

    def find(self, import_id: str, principal: Principal) -> ImportJob:
        return cast(ImportJob, read_job(self.store, import_id, "import", principal))

    def upload_links(self, job: ImportJob, links: JobLinks) -> dict[str, Any]:
        """Write-only links for the upload and, optionally, a mapping next to it (YAML or JSON)."""
        self.blobs.container(IMPORTS_CONTAINER)  # locally, the container must exist before the upload
        expires = self.clock() + timedelta(minutes=UPLOAD_LINK_MINUTES)
        import_id = job["jobId"]
        return {
            "uploadUrl": self.links.upload(
                IMPORTS_CONTAINER, job["blobName"], UPLOAD_LINK_MINUTES, links.import_file(import_id)
            ),
            "uploadHeaders": {"x-ms-blob-type": "BlockBlob"},
            "mappingUploadUrl": self.links.upload(
                IMPORTS_CONTAINER,
                f"{import_id}/{UPLOADED_MAPPING}",
                UPLOAD_LINK_MINUTES,
                links.import_mapping(import_id),
            ),
            "uploadUrlExpiresAt": format_ts(expires),
        }

    @property
    def upload_limit(self) -> int:
        """The largest body the app's upload route takes (DPP_IMPORT_MAX_BYTES, within the host's)."""
        return min(self.config.import_max_bytes, HOST_MAX_REQUEST_BYTES)

    def receive(
        self, import_id: str, part: str, data: bytes, principal: Principal, mapping: str | None = None
    ) -> ImportJob:
        """Store an upload sent to the app (its file, or the mapping beside it) as the blob a SAS
        upload would write, so the blob trigger runs it unchanged; only the job's own operator may,
        only while the job waits for its file, and the file only once."""
        job = self.find(import_id, principal)
        authorize(Action.CREATE, principal, None)
        if principal.operator_id != job["economicOperatorId"]:
            raise Forbidden(
                "Only the economic operator that started this import may upload to it",
                code=ErrorCode.FORBIDDEN,
            )
        if job["state"] != AWAITING:
            raise _closed(import_id, f"it is {job['state']}")
        if len(data) > self.upload_limit:
            raise PayloadTooLarge(
                f"An upload may hold at most {self.upload_limit} bytes (DPP_IMPORT_MAX_BYTES, and the "
                f"Functions host's {HOST_MAX_REQUEST_BYTES}): split the file",
                code=ErrorCode.BODY_TOO_LARGE,
            )
        if not data:
            raise BadRequest("The upload is empty", code=ErrorCode.MISSING_BODY)
        if part == MAPPING:
            self._put_mapping(job, data)
        else:
            self._put_file(job, data, {"mapping": mapping} if mapping else {})
        return job

    def _put_file(self, job: ImportJob, data: bytes, metadata: dict[str, str]) -> None:
        from azure.core.exceptions import ResourceExistsError

        container = self.blobs.container(IMPORTS_CONTAINER)
        with translated():
            try:
                # Never over the blob already there: once uploaded, the file is the import's.
                container.upload_blob(job["blobName"], data, overwrite=False, metadata=metadata or None)
            except ResourceExistsError:
                raise _closed(job["jobId"], "its file was uploaded already") from None

    def _put_mapping(self, job: ImportJob, data: bytes) -> None:
        container = self.blobs.container(IMPORTS_CONTAINER)
        with translated():
            if container.get_blob_client(job["blobName"]).exists():
                raise _closed(job["jobId"], "its file was uploaded already, with the mapping it had")
            container.upload_blob(f"{job['jobId']}/{UPLOADED_MAPPING}", data, overwrite=True)

    def report(self, import_id: str, kind: str, principal: Principal) -> BlobContent:
        """A finished import's report (`json`) or its failed rows (`failedRows`), for its owner."""
        name = (self.find(import_id, principal).get("report") or {}).get(kind)
        missing = NotFound(f"Import '{import_id}' has no '{kind}' report", code=ErrorCode.IMPORT_NOT_FOUND)
        if not name:
            raise missing
        return self.links.content(REPORTS_CONTAINER, name, missing)

    def status(self, job: ImportJob, links: JobLinks) -> dict[str, Any]:
        """The job as its status endpoint shows it; once finished, with links to its report."""
        shown = (
            "state",
            "fileName",
            "format",
            "economicOperatorId",
            "createdAt",
            "updatedAt",
            "total",
            "processed",
            *COUNTERS,
            "reason",
        )
        view = {
            "importId": job["jobId"],
            **{name: job.get(name) for name in shown},
            "failures": job.get("failures", [])[:SHOWN_FAILURES],
        }
        report = job.get("report") or {}
        if report:
            view["report"] = {
                kind: self.links.read(
                    REPORTS_CONTAINER, name, UPLOAD_LINK_MINUTES, links.import_report(job["jobId"], kind)
                )
                for kind, name in report.items()
                if name
            }
        return view

    # -- the upload --------------------------------------------------------------------------

    def run(
        self, blob_name: str, data: ByteStream | None = None, metadata: dict[str, str] | None = None
    ) -> str:
        """Process the blob `<importId>/<fileName>` of the imports container; returns what happened.

        The blob trigger's entry point (also what the local host and the CLI end up calling)."""
        import_id, _, file_name = blob_name.partition("/")
        if file_name.lower() in MAPPING_FILES:
            return "mapping file: read by its import"
        found = load_job(self.store, import_id, "import") if import_id and file_name else None
        job = cast(ImportJob | None, found)
        if job is None or job["blobName"] != blob_name:
            log.warning("Blob %s has no import grant; ignored", blob_name)
            self._write_json(f"{blob_name}.json", {"upload": blob_name, "state": FAILED, "reason": _NO_GRANT})
            return "no grant"
        if job["state"] in (DONE, FAILED):
            return f"already {job['state']}"
        claimed = self._claim(job)
        if claimed is None:
            return "running elsewhere"
        try:
            return self._process_through_outages(claimed, data, metadata or {})
        except (ImportFileError, _mappings().MappingError, _TooLarge) as exc:
            self._finish(claimed, FAILED, reason=str(exc))
            return FAILED
        except Exception as exc:
            # Left running under its lease for the sweeper to take over; what broke is kept for
            # the report should every attempt break the same way.
            self._note_error(claimed, exc)
            raise

    def _process_through_outages(
        self, claimed: ImportJob, data: ByteStream | None, metadata: dict[str, str]
    ) -> str:
        job = claimed
        for attempt, wait in enumerate((0.0, *OUTAGE_WAITS)):
            time.sleep(wait)
            try:
                if attempt:
                    current = cast(ImportJob | None, load_job(self.store, claimed["jobId"], "import"))
                    # Finished, or claimed by another worker meanwhile (a claim counts a delivery).
                    if (
                        current is None
                        or current["state"] != RUNNING
                        or current["deliveries"] != claimed["deliveries"]
                    ):
                        return "lease lost"
                    # The upload stream is spent: the file is read again from storage.
                    job, data = current, None
                return self._process(job, data, metadata)
            except ServiceUnavailable as exc:
                if attempt == len(OUTAGE_WAITS) or not exc.headers.get("Retry-After"):
                    raise
                log.warning("Import %s met an outage (%s); going on from its checkpoint", job["jobId"], exc)
        raise AssertionError("unreachable")

    def take_over(self, job: ImportJob) -> str:
        """A running import whose lease ran out (its worker stopped): run it again from its
        checkpoint, or once MAX_DELIVERIES workers have tried, fail it with a report saying why."""
        if job["deliveries"] >= MAX_DELIVERIES:
            last = job.get("lastError") or "no error was recorded"
            reason = (
                f"Abandoned after {job['deliveries']} attempts: each worker stopped before the end "
                f"(last lease ran out at {job.get('leaseUntil')}; last error: {last})"
            )
            try:
                self._finish(job, FAILED, reason=reason)
            except _LeaseLost:
                return "running elsewhere"
            return FAILED
        return self.run(job["blobName"], None, self._upload_metadata(job["blobName"]))

    def _upload_metadata(self, blob_name: str) -> dict[str, str]:
        from azure.core.exceptions import ResourceNotFoundError

        blob = self.blobs.container(IMPORTS_CONTAINER).get_blob_client(blob_name)
        with translated():
            try:
                return dict(blob.get_blob_properties().metadata or {})
            except ResourceNotFoundError:
                return {}

    # -- the lease ---------------------------------------------------------------------------

    def _claim(self, job: ImportJob) -> ImportJob | None:
        now = self.clock()
        lease = job.get("leaseUntil")
        if job["state"] == RUNNING and lease and datetime.fromisoformat(lease) > now:
            return None
        changes = {
            "state": RUNNING,
            "leaseUntil": (now + LEASE).isoformat(),
            "deliveries": job["deliveries"] + 1,
        }
        try:
            return save_job(self.store, job, format_ts(now), **changes)
        except ItemChanged:
            return None

    def _note_error(self, job: ImportJob, exc: Exception) -> None:
        current = cast(ImportJob | None, load_job(self.store, job["jobId"], "import"))
        if current is None or current["state"] != RUNNING:
            return
        with suppress(ItemChanged, DppError):
            save_job(
                self.store, current, format_ts(self.clock()), lastError=f"{type(exc).__name__}: {exc}"[:500]
            )

    def _save(self, job: ImportJob, **changes: Any) -> ImportJob:
        """Checkpoint under the lease; a lost lease (someone took over) stops this worker."""
        now = self.clock()
        if changes.get("state", job["state"]) == RUNNING:
            changes["leaseUntil"] = (now + LEASE).isoformat()
        try:
            return save_job(self.store, job, format_ts(now), **changes)
        except ItemChanged:
            raise _LeaseLost(job["jobId"]) from None

    # -- the file ----------------------------------------------------------------------------

    def _process(self, job: ImportJob, data: ByteStream | None, metadata: dict[str, str]) -> str:
        # Small uploads stay in memory, larger ones go to disk: what an import holds of its file
        # is bounded by SPOOL_MEMORY_BYTES, whatever the file's size.
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES) as spooled:
            # A binary file object, which typeshed does not call BinaryIO.
            spool = cast(BinaryIO, spooled)
            self._spool(job, data, spool)
            mapping = self._mapping(job, metadata)
            fmt = job["format"]
            options = mapping.options_for(fmt) if mapping else ReaderOptions()
            spool.seek(0)
            total = count_records(spool, fmt, options, limit=self.config.import_max_rows)
            if total > self.config.import_max_rows:
                raise _TooLarge(
                    f"The file has {total} rows; at most {self.config.import_max_rows} per upload "
                    "(DPP_IMPORT_MAX_ROWS): split it"
                )
            if fmt in ("csv", "xlsx") and mapping is None:
                raise _mappings().MappingError(
                    "A spreadsheet needs a mapping: give one with the import, as blob metadata "
                    f"'mapping' ({', '.join(_mappings().SHIPPED_MAPPINGS)}), "
                    "or as mapping.json/yaml next to the upload"
                )
            job = self._save(job, total=total, format=fmt)
            spool.seek(0)
            records = read_records(spool, fmt, options)
            try:
                job = self._rows(job, records, mapping)
            except _LeaseLost:
                return "lease lost"
        self._finish(job, DONE)
        return DONE

    def _spool(self, job: ImportJob, data: ByteStream | None, spool: BinaryIO) -> None:
        limit = self.config.import_max_bytes
        source = data if data is not None else self._download(job["blobName"])
        size = 0
        while chunk := source.read(1024 * 1024):
            size += len(chunk)
            if size > limit:
                raise _TooLarge(f"The file exceeds {limit} bytes (DPP_IMPORT_MAX_BYTES): split it")
            spool.write(chunk)

    def _download(self, blob_name: str) -> ByteStream:
        with translated():
            downloader = self.blobs.container(IMPORTS_CONTAINER).download_blob(blob_name)
            return _ChunkReader(downloader.chunks())

    def _mapping(self, job: ImportJob, metadata: dict[str, str]) -> Mapping | None:
        spec = job.get("mapping")
        if isinstance(spec, dict):
            return _mappings().load_mapping(spec, "the import's mapping")
        if isinstance(spec, str):
            return _mappings().shipped_mapping(spec)
        if metadata.get("mapping"):
            return _mappings().shipped_mapping(metadata["mapping"])
        return self._sibling_mapping(job["jobId"])

    def _sibling_mapping(self, import_id: str) -> Mapping | None:
        from azure.core.exceptions import ResourceNotFoundError

        container = self.blobs.container(IMPORTS_CONTAINER)
        for name in MAPPING_FILES:
            try:
                with translated():
                    text = container.download_blob(f"{import_id}/{name}").readall()
            except ResourceNotFoundError:
                continue
            return _mappings().load_mapping(text, name)
        return None

    # -- the rows ----------------------------------------------------------------------------

    def _rows(self, job: ImportJob, records: Iterator[Record], mapping: Mapping | None) -> ImportJob:
        principal = Principal(
            f"import:{job['jobId']} ({job['createdBy']})", frozenset({OPERATOR}), job["economicOperatorId"]
        )
        # Rows before the checkpoint are done: skip them without writing.
        remaining = islice(records, job["processed"], None)
        with ThreadPoolExecutor(self.config.import_concurrency, thread_name_prefix="dpp-import") as pool:
            while batch := list(islice(remaining, BATCH_ROWS)):
                outcomes = list(pool.map(lambda record: self._row(record, mapping, principal), batch))
                job = self._checkpoint(job, batch, outcomes)
        return job

    def _checkpoint(self, job: ImportJob, batch: list[Record], outcomes: list[Outcome]) -> ImportJob:
        failures = [outcome.failure for outcome in outcomes if outcome.failure is not None]
        part = None
        if failures:
            # Written before the checkpoint moves, under a name the batch always gets: a batch done
            # twice overwrites its own part rather than adding to the report.
            part = f"{job['blobName']}.parts/{job['processed']:09d}.jsonl"
            self._write_text(part, "".join(json.dumps(f, ensure_ascii=False) + "\n" for f in failures))
        counts = {name: _count(job, name) + sum(1 for o in outcomes if o.kind == name) for name in COUNTERS}
        shown = (job["failures"] + [_brief(f) for f in failures])[:SHOWN_FAILURES]
        batches = job["batches"] + ([part] if part else [])
        return self._save(
            job, processed=job["processed"] + len(batch), failures=shown, batches=batches, **counts
        )

    def write_record(self, record: Record, mapping: Mapping | None, principal: Principal) -> Outcome:
        """One record written exactly like an import row (a PIM connector's product, say):
        mapped, validated, then created or merge-patched; a record that changes nothing writes no
        version. Never raises for the record's own faults: they are the failed Outcome."""
        return self._row(record, mapping, principal)

    def _row(self, record: Record, mapping: Mapping | None, principal: Principal) -> Outcome:
        try:
            document = self._document(record, mapping, principal.operator_id or "")
            return self._write(document, principal)
        except RowRejected as rejected:
            return Outcome("failed", _failure(record, rejected.error.column, rejected.error.reason))
        except DppError as exc:
            return Outcome("failed", _failure(record, None, exc.text))
        except Exception:
            log.exception("Import row %s failed unexpectedly", record.number)
            return Outcome("failed", _failure(record, None, "internal error while writing this row"))

    def _document(self, record: Record, mapping: Mapping | None, operator: str) -> dict[str, Any]:
        if record.error:
            raise RowRejected.at(None, record.error)
        if record.document is not None or not record.values:
            if not isinstance(record.document, dict):
                raise RowRejected.at(None, "each item must be a passport document (a JSON object)")
            document = portable(mapping.complete(record.document) if mapping else record.document)
        else:
            assert mapping is not None
            mapped, errors = mapping.apply(record.values)
            if errors or mapped is None:
                raise RowRejected.at(
                    errors[0].column if errors else None, "; ".join(e.reason for e in errors)
                )
            document = mapped
        named = document.get("economicOperatorId")
        if named not in (None, operator):
            raise RowRejected.at(
                None, f"names economic operator '{named}', but this upload belongs to '{operator}'"
            )
        document["economicOperatorId"] = operator
        try:
            return validate_document(document)
        except BadRequest as exc:
            raise RowRejected.at(_column_of(mapping, exc.text), exc.text) from None

    def _write(self, document: dict[str, Any], principal: Principal) -> Outcome:
        product = document["uniqueProductIdentifier"]
        for attempt in range(ROW_ATTEMPTS):
            try:
                return self._upsert(document, product, principal)
            except ServiceUnavailable as exc:
                # Throttled store or signer: back off as told, within bounds, then give up the row.
                if attempt == ROW_ATTEMPTS - 1:
                    raise
                wait = float(exc.headers.get("Retry-After", "1") or 1)
                time.sleep(min(wait, 5.0) * random.uniform(0.5, 1.0) * (attempt + 1))  # noqa: S311
        raise AssertionError("unreachable")

    def _upsert(self, document: dict[str, Any], product: str, principal: Principal) -> Outcome:
        # Create first: a new product costs no lookup, and an existing one is refused before any
        # signing or writing (409), which sends the row to the update below.
        try:
            self.service.create(document, principal)
            return Outcome("created")
        except Conflict:
            head = self.service.passports.live_head_for_product(product)
            if head is None:
                raise
        before = head["version"]
        after = self.service.update(head["dppId"], document, principal, None, skip_unchanged=True)
        return Outcome("unchanged" if after["version"] == before else "updated")

    # -- the report --------------------------------------------------------------------------

    def _finish(self, job: ImportJob, state: str, reason: str | None = None) -> None:
        # The failures are gathered into a local temporary file, then read from it for the report
        # and the failed rows: an import of many bad rows is never held in memory whole.
        with tempfile.TemporaryFile() as gathered:
            failed, columns = self._gather_failures(job, gathered) if state == DONE else (0, [])
            report_name = f"{job['blobName']}.json"
            report = {
                "importId": job["jobId"],
                "upload": f"{IMPORTS_CONTAINER}/{job['blobName']}",
                "state": state,
                "reason": reason,
                "format": job.get("format"),
                "total": job.get("total"),
                **{name: job.get(name, 0) for name in COUNTERS},
            }
            briefs = (_brief(failure) for failure in _read_back(gathered))
            self._write_stream(report_name, _report_text(report, briefs, format_ts(self.clock())), _JSON)
            failed_rows = self._write_failed_rows(job, _read_back(gathered), columns) if failed else None
        try:
            self._save(
                job,
                state=state,
                reason=reason,
                leaseUntil=None,
                report={"json": report_name, "failedRows": failed_rows},
            )
        except _LeaseLost:
            log.warning("Import %s finished by another worker", job["jobId"])

    def _gather_failures(self, job: ImportJob, out: BinaryIO) -> tuple[int, list[str]]:
        """Every failure part, in row order, into `out` (JSON lines); (how many, their columns).

        Parts are named by the row offset of their batch and a batch's failures are in file order,
        so the parts in name order are the failures in row order: one part in memory at a time."""
        container = self.blobs.container(REPORTS_CONTAINER)
        count, columns = 0, {}
        for part in sorted(set(job.get("batches", []))):
            with translated():
                data = container.download_blob(part).readall()
            for line in data.splitlines():
                if line.strip():
                    failure = json.loads(line)
                    columns.update(dict.fromkeys(failure.get("values", {})))
                    out.write(line + b"\n")
                    count += 1
        return count, list(columns)

    def _write_failed_rows(
        self, job: ImportJob, failures: Iterator[dict[str, Any]], columns: list[str]
    ) -> str:
        if job.get("format") in ("json", "jsonl", "aas-json", "aasx"):
            # The passports each shell was read as (null where none was): JSON Lines to fix.
            name = f"{job['blobName']}.failed.jsonl"
            lines = (json.dumps(f.get("document"), ensure_ascii=False) + "\n" for f in failures)
            self._write_stream(name, lines)
            return name
        name = f"{job['blobName']}.failed.csv"
        self._write_stream(name, _failed_csv(failures, columns))
        return name

    def _write_stream(self, name: str, pieces: Iterable[str], content_type: str = _TEXT) -> None:
        """A blob written from `pieces` in blocks of REPORT_BLOCK_BYTES, never held whole (one
        put when it fits one block)."""
        from azure.storage.blob import BlobBlock, ContentSettings

        blob = self.blobs.container(REPORTS_CONTAINER).get_blob_client(name)
        settings = ContentSettings(content_type)
        blocks: list[BlobBlock] = []
        buffer = bytearray()
        with translated():
            for piece in pieces:
                buffer += piece.encode("utf-8")
                if len(buffer) >= REPORT_BLOCK_BYTES:
                    blocks.append(self._stage(blob, len(blocks), bytes(buffer)))
                    buffer.clear()
            if not blocks:
                blob.upload_blob(bytes(buffer), overwrite=True, content_settings=settings)
                return
            if buffer:
                blocks.append(self._stage(blob, len(blocks), bytes(buffer)))
            blob.commit_block_list(blocks, content_settings=settings)

    @staticmethod
    def _stage(blob: Any, index: int, data: bytes) -> Any:
        from azure.storage.blob import BlobBlock

        # Block ids of one blob must all be the same length.
        block_id = f"{index:08d}"
        blob.stage_block(block_id, data)
        return BlobBlock(block_id=block_id)

    def _write_json(self, name: str, data: Any) -> None:
        self._write_text(name, json.dumps(data, ensure_ascii=False, indent=2) + "\n", "application/json")

    def _write_text(self, name: str, text: str, content_type: str = "text/plain; charset=utf-8") -> None:
        from azure.storage.blob import ContentSettings

        with translated():
            self.blobs.container(REPORTS_CONTAINER).upload_blob(
                name, text.encode("utf-8"), overwrite=True, content_settings=ContentSettings(content_type)
            )


# -- helpers ---------------------------------------------------------------------------------------


def _read_back(spool: BinaryIO) -> Iterator[dict[str, Any]]:
    """The failures `_gather_failures` wrote, from the start, one at a time."""
    spool.seek(0)
    for line in spool:
        yield json.loads(line)


def _report_text(head: dict[str, Any], briefs: Iterator[dict[str, Any]], finished_at: str) -> Iterator[str]:
    """The report as `_write_json` would write {**head, "failures": [...], "finishedAt"}, in pieces."""
    opening = json.dumps(head, ensure_ascii=False, indent=2)
    yield opening[:-2] + ',\n  "failures": ['
    separator = "\n    "
    for brief in briefs:
        yield separator + json.dumps(brief, ensure_ascii=False)
        separator = ",\n    "
    yield ("\n  ]" if separator != "\n    " else "]") + f',\n  "finishedAt": {json.dumps(finished_at)}\n}}\n'


def _failed_csv(failures: Iterator[dict[str, Any]], columns: list[str]) -> Iterator[str]:
    """The failed rows as CSV, their cells escaped, one row at a time."""
    out = io.StringIO()
    writer = csv.writer(out)

    def row(cells: list[Any]) -> str:
        out.seek(0)
        out.truncate()
        writer.writerow([escaped(cell) for cell in cells])
        return out.getvalue()

    yield row([*columns, "importRow", "importColumn", "importError"])
    for f in failures:
        values = f.get("values", {})
        yield row([values.get(c, "") for c in columns] + [f["row"], f["column"] or "", f["reason"]])


def _closed(import_id: str, why: str) -> Conflict:
    return Conflict(
        f"Import '{import_id}' takes no more uploads: {why}; start another import",
        code=ErrorCode.IMPORT_UPLOAD_CLOSED,
    )


_NO_GRANT = "No import grant for this upload: request an import first and upload to the link it returns"


def _count(job: ImportJob, counter: str) -> int:
    return int(cast(dict[str, Any], job)[counter])


class _TooLarge(Exception):
    pass


class _LeaseLost(Exception):
    pass


class _ChunkReader(io.RawIOBase):
    """A readable stream over the SDK's download chunks (the file is never held whole)."""

    def __init__(self, chunks: Iterator[bytes]):
        self._chunks = chunks
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if size < 0:
            data, self._buffer = self._buffer, b""
        else:
            data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


def _failure(record: Record, column: str | None, reason: str) -> dict[str, Any]:
    failure: dict[str, Any] = {"row": record.number, "column": column, "reason": reason}
    if record.values:
        failure["values"] = {key: _cell(value) for key, value in record.values.items()}
    if record.document is not None:
        failure["document"] = record.document
    return failure


def _cell(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _brief(failure: dict[str, Any]) -> dict[str, Any]:
    return {"row": failure["row"], "column": failure["column"], "reason": failure["reason"]}


def _column_of(mapping: Mapping | None, text: str) -> str | None:
    """The source column of the header field a validation message names, when a mapping says."""
    if mapping is None:
        return None
    for rule in mapping.rules:
        if rule.target.is_header and f"'{rule.target.path[0]}'" in text:
            return rule.column
    return None


def portable(document: dict[str, Any]) -> dict[str, Any]:
    """A document as an import writes it: a server's members (from an export) are not taken over.

    The integrity fields are recomputed on write, artifact references point into the exporting
    deployment's storage, and of the lifecycle only what a client may set is kept.
    """
    portable_document = {key: value for key, value in document.items() if key != ARTIFACTS}
    lifecycle = document.get(LIFECYCLE)
    if isinstance(lifecycle, dict):
        portable_document[LIFECYCLE] = {k: v for k, v in lifecycle.items() if k in CLIENT_FIELDS}
    return portable_document
