"""PIM synchronization runs: products changed in a PIM become passport writes, resumably.

Each connector has a state item in the `jobs` container (partition `connector:<id>`): the moment
the next incremental sync starts from (`since`), when the last full pass ran, and the sync in
progress. A sync is a job (kind `sync`) like an import:

1. It is asked for (`POST /api/v1/connectors/{id}/sync`, or the timer when the connector's interval
   or reconciliation is due) and recorded `queued`; at most one sync per connector is in progress,
   a second request answers the one in progress.
2. The timer starts it under a lease (the sweeper takes over one whose worker stopped). It lists
   the products changed after `since` (a full pass: every product), page by page, and writes each
   through the import's path (`Imports.write_record`: mapped by the connector's mapping,
   validated, created or merge-patched, signed); a failing product is reported and the sync goes
   on. Media files the connector maps become artifacts (a file already there writes nothing).
3. After every page, a checkpoint: the page's failures and the identifiers it saw go to blobs,
   then the job records the PIM's link to the next page and the last identifier. A sync
   interrupted (a PIM or store failure, a stopped worker) resumes at its checkpoint: the products
   of the interrupted page are written again, which writes no version for what did not change.
4. At the end the connector's known products (a blob) take in what was seen; after a full pass,
   the known products the PIM no longer lists are handled as the connector says (`report`: listed
   in the report, the passport left as it is; `revoke`: revoked, saying why), and `since` moves to
   the sync's start less OVERLAP. A sync that fails leaves `since` where it was: nothing is lost.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NotRequired, cast

from shared.access.authentication import Principal
from shared.access.authorization import Action, authorize
from shared.access.roles import OPERATOR
from shared.connectors.base import Page, Source, SourceError, SourceProduct
from shared.connectors.config import ConnectorConfig
from shared.documents.lifecycle import is_revoked
from shared.onboarding.file_formats import Record
from shared.onboarding.imports import REPORTS_CONTAINER, Imports, Outcome
from shared.onboarding.jobs import JOB_ID, Job, save_job
from shared.passports.artifacts import blob_name, blob_name_of, parse_media_type
from shared.passports.service import PassportService
from shared.platform.clock import Clock, format_ts, utcnow
from shared.platform.errors import BadRequest, DppError, ErrorCode, NotFound
from shared.storage.blobs import BlobStorage, translated
from shared.storage.cosmos import JOBS, ItemChanged, ItemExists, Store
from shared.storage.links import SAS, BlobContent, StorageLinks

if TYPE_CHECKING:
    from shared.onboarding.mappings import Mapping

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
INCREMENTAL, FULL = "incremental", "full"
LEASE = timedelta(minutes=5)
MAX_DELIVERIES = 3
# The next sync asks for products changed since this long before the last one started: clocks of
# the PIM and this service may differ a little, and a product seen twice writes nothing new.
OVERLAP = timedelta(minutes=5)
SHOWN_FAILURES = 20
REPORT_LINK_MINUTES = 60
STATE_ID = "connector"
COUNTERS = ("created", "updated", "unchanged", "failed")


def state_partition(connector_id: str) -> str:
    return f"connector:{connector_id}"


def _folder(connector_id: str) -> str:
    return f"connectors/{connector_id}"


class SyncJob(Job):
    connectorId: str
    mode: str
    since: str | None
    startedAt: str | None
    resume: str | None
    listed: bool
    lastIdentifier: str | None
    pages: int
    processed: int
    created: int
    updated: int
    unchanged: int
    failed: int
    removed: int
    failures: list[dict[str, Any]]
    batches: list[str]
    deliveries: int
    leaseUntil: str | None
    report: str | None
    lastError: NotRequired[str]


class _LeaseLost(Exception):
    pass


SourceFactory = Callable[[ConnectorConfig], Source]


class Connectors:
    """The configured connectors, their syncs and the runs of them."""

    def __init__(
        self,
        configs: dict[str, ConnectorConfig],
        sources: SourceFactory,
        *,
        imports: Imports,
        service: PassportService,
        store: Store,
        blobs: BlobStorage,
        concurrency: int = 8,
        links: StorageLinks | None = None,
        clock: Clock = utcnow,
    ):
        self.configs = configs
        self.sources = sources
        self.imports = imports
        self.service = service
        self.store = store
        self.blobs = blobs
        self.concurrency = concurrency
        self.links = links or StorageLinks(SAS, blobs)
        self.clock = clock

    # -- asking for a sync -----------------------------------------------------------------------

    def connector_for(self, connector_id: str, principal: Principal) -> ConnectorConfig:
        """The connector, for an operator of its economic operator; anyone else learns nothing."""
        authorize(Action.CREATE, principal, None)
        config = self.configs.get(connector_id)
        if config is None or principal.operator_id != config.economic_operator_id:
            raise NotFound(f"No connector '{connector_id}'", code=ErrorCode.CONNECTOR_NOT_FOUND)
        return config

    def request(self, connector_id: str, body: Any, principal: Principal) -> SyncJob:
        """Queue a sync (`{"full": true}` for a full pass), or answer the one in progress."""
        config = self.connector_for(connector_id, principal)
        if body is None:
            body = {}
        if (
            not isinstance(body, dict)
            or set(body) - {"full"}
            or not isinstance(body.get("full", False), bool)
        ):
            raise BadRequest('Send nothing, or {"full": true|false}', code=ErrorCode.INVALID_SYNC)
        return self._queue(config, principal.subject, FULL if body.get("full") else None)

    def _queue(self, config: ConnectorConfig, requested_by: str, mode: str | None) -> SyncJob:
        for _ in range(3):
            state = self._state(config.id)
            current = self._current(state)
            if current is not None:
                return current
            job = self._new_job(config, state, requested_by, mode)
            try:
                self.store.replace(JOBS, {**_plain(state), "current": job["jobId"]}, state["_etag"])
            except ItemChanged:
                continue  # another request queued one meanwhile: answer that one
            return cast(SyncJob, self.store.create(JOBS, dict(job)))
        raise ItemChanged(config.id)

    def _new_job(
        self, config: ConnectorConfig, state: dict[str, Any], requested_by: str, mode: str | None
    ) -> SyncJob:
        since = state.get("since")
        now = format_ts(self.clock())
        chosen = mode or (FULL if since is None or self._reconcile_due(config, state) else INCREMENTAL)
        return {
            "id": JOB_ID,
            "jobId": uuid.uuid4().hex,
            "kind": "sync",  # type: ignore[typeddict-item]
            "state": QUEUED,
            "economicOperatorId": config.economic_operator_id,
            "createdBy": requested_by,
            "createdAt": now,
            "updatedAt": now,
            "reason": None,
            "connectorId": config.id,
            "mode": chosen,
            "since": None if chosen == FULL else since,
            "startedAt": None,
            "resume": None,
            "listed": False,
            "lastIdentifier": None,
            "pages": 0,
            "processed": 0,
            "created": 0,
            "updated": 0,
            "unchanged": 0,
            "failed": 0,
            "removed": 0,
            "failures": [],
            "batches": [],
            "deliveries": 0,
            "leaseUntil": None,
            "report": None,
        }

    def _state(self, connector_id: str) -> dict[str, Any]:
        partition = state_partition(connector_id)
        state = self.store.read(JOBS, STATE_ID, partition)
        if state is not None:
            return state
        fresh: dict[str, Any] = {
            "id": STATE_ID,
            "jobId": partition,
            "kind": "connector",
            "connectorId": connector_id,
        }
        fresh |= {"since": None, "lastSyncAt": None, "lastFullAt": None, "current": None}
        try:
            return self.store.create(JOBS, fresh)
        except ItemExists:
            return self._state(connector_id)

    def _current(self, state: dict[str, Any]) -> SyncJob | None:
        if not state.get("current"):
            return None
        job = self._load(state["current"])
        return job if job is not None and job["state"] in (QUEUED, RUNNING) else None

    def _load(self, sync_id: str) -> SyncJob | None:
        job = self.store.read(JOBS, JOB_ID, sync_id)
        return cast(SyncJob, job) if job is not None and job.get("kind") == "sync" else None

    def find(self, connector_id: str, sync_id: str, principal: Principal) -> SyncJob:
        self.connector_for(connector_id, principal)
        job = self._load(sync_id)
        if job is None or job["connectorId"] != connector_id:
            raise NotFound(f"No sync '{sync_id}'", code=ErrorCode.SYNC_NOT_FOUND)
        return job

    def report(self, connector_id: str, sync_id: str, principal: Principal) -> BlobContent:
        """A finished sync's report, for an operator of its connector."""
        name = self.find(connector_id, sync_id, principal).get("report")
        missing = NotFound(f"Sync '{sync_id}' has no report yet", code=ErrorCode.SYNC_NOT_FOUND)
        if not name:
            raise missing
        return self.links.content(REPORTS_CONTAINER, str(name), missing)

    def status(self, job: SyncJob, report_url: str = "") -> dict[str, Any]:
        """The sync as its status shows it; once done, with a link to its report (`report_url`,
        the app's route for it, where storage links go through the app)."""
        shown = ("connectorId", "state", "mode", "since", "createdAt", "updatedAt", "startedAt")
        view: dict[str, Any] = {"syncId": job["jobId"], **{name: job.get(name) for name in shown}}
        view |= {
            name: job.get(name) for name in ("processed", *COUNTERS, "removed", "lastIdentifier", "reason")
        }
        view["failures"] = job.get("failures", [])[:SHOWN_FAILURES]
        if job.get("report"):
            name = str(job["report"])
            view["report"] = self.links.read(
                REPORTS_CONTAINER, name, REPORT_LINK_MINUTES, report_url, content_type="application/json"
            )
        return view

    # -- the timer -------------------------------------------------------------------------------

    def tick(self) -> dict[str, str]:
        """Run what is due on every connector: a queued or abandoned sync, else a scheduled one.
        One connector's trouble never stops the others (logged, tried again on the next tick)."""
        outcomes: dict[str, str] = {}
        for config in self.configs.values():
            try:
                outcomes[config.id] = self._tick_one(config)
            except Exception as exc:
                log.warning("Connector %s: %s", config.id, _safe(exc))
                outcomes[config.id] = "error"
        return outcomes

    def _tick_one(self, config: ConnectorConfig) -> str:
        state = self._state(config.id)
        current = self._current(state)
        if current is None:
            if not self._due(config, state):
                return "not due"
            current = self._queue(config, "timer", None)
        if current["state"] == RUNNING:
            return self.take_over(current)
        return self.run(current["jobId"])

    def _due(self, config: ConnectorConfig, state: dict[str, Any]) -> bool:
        last = state.get("lastSyncAt")
        if last is None or self._reconcile_due(config, state):
            return True
        return datetime.fromisoformat(last) + timedelta(minutes=config.interval_minutes) <= self.clock()

    def _reconcile_due(self, config: ConnectorConfig, state: dict[str, Any]) -> bool:
        last = state.get("lastFullAt")
        return (
            last is None
            or datetime.fromisoformat(last) + timedelta(hours=config.reconcile_hours) <= self.clock()
        )

    # -- running a sync --------------------------------------------------------------------------

    def take_over(self, job: SyncJob) -> str:
        """A running sync whose lease ran out: resume it at its checkpoint, or after
        MAX_DELIVERIES attempts fail it (the connector's `since` stays: nothing is lost)."""
        lease = job.get("leaseUntil")
        if lease and datetime.fromisoformat(lease) > self.clock():
            return "running elsewhere"
        if job["deliveries"] >= MAX_DELIVERIES:
            last = job.get("lastError") or "no error was recorded"
            try:
                self._end(job, FAILED, f"Stopped after {job['deliveries']} attempts (last error: {last})")
            except _LeaseLost:
                return "running elsewhere"
            return FAILED
        return self.run(job["jobId"])

    def run(self, sync_id: str) -> str:
        """Run (or resume) the sync; returns what happened."""
        job = self._load(sync_id)
        if job is None:
            return "no such sync"
        if job["state"] in (DONE, FAILED):
            return f"already {job['state']}"
        config = self.configs.get(job["connectorId"])
        if config is None:
            self._end(job, FAILED, "The connector is no longer configured")
            return FAILED
        claimed = self._claim(job)
        return "running elsewhere" if claimed is None else self._run_claimed(config, claimed)

    def _run_claimed(self, config: ConnectorConfig, claimed: SyncJob) -> str:
        try:
            return self._run(config, claimed)
        except _LeaseLost:
            return "lease lost"
        except (SourceError, DppError) as exc:
            # The PIM or the store failed between products: the sync stays at its checkpoint and
            # its lease is given up, so the next tick (or the sweeper) resumes it there.
            self._note_error(claimed["jobId"], exc, release=True)
            log.warning("Sync %s of %s interrupted: %s", claimed["jobId"], config.id, _safe(exc))
            return "interrupted"
        except Exception as exc:
            self._note_error(claimed["jobId"], exc, release=False)
            raise

    def _claim(self, job: SyncJob) -> SyncJob | None:
        now = self.clock()
        lease = job.get("leaseUntil")
        if job["state"] == RUNNING and lease and datetime.fromisoformat(lease) > now:
            return None
        changes: dict[str, Any] = {
            "state": RUNNING,
            "leaseUntil": (now + LEASE).isoformat(),
            "deliveries": job["deliveries"] + 1,
        }
        if job.get("startedAt") is None:
            changes["startedAt"] = format_ts(now)
        try:
            return save_job(self.store, job, format_ts(now), **changes)
        except ItemChanged:
            return None

    def _save(self, job: SyncJob, **changes: Any) -> SyncJob:
        now = self.clock()
        if changes.get("state", job["state"]) == RUNNING:
            changes.setdefault("leaseUntil", (now + LEASE).isoformat())
        try:
            return save_job(self.store, job, format_ts(now), **changes)
        except ItemChanged:
            raise _LeaseLost(job["jobId"]) from None

    def _note_error(self, sync_id: str, exc: Exception, release: bool) -> None:
        current = self._load(sync_id)
        if current is None or current["state"] != RUNNING:
            return
        changes: dict[str, Any] = {"lastError": _safe(exc)[:500]}
        if release:
            changes["leaseUntil"] = self.clock().isoformat()
        with suppress(ItemChanged, DppError):
            save_job(self.store, current, format_ts(self.clock()), **changes)

    def _run(self, config: ConnectorConfig, job: SyncJob) -> str:
        mapping = _mapping(config)
        source = self.sources(config)
        principal = Principal(
            f"connector:{config.id} (sync {job['jobId']})", frozenset({OPERATOR}), config.economic_operator_id
        )
        if not job["listed"]:
            with ThreadPoolExecutor(self.concurrency, thread_name_prefix="dpp-sync") as pool:
                for page in source.changed(job["since"], job["resume"]):
                    outcomes = list(
                        pool.map(lambda p: self._product(p, mapping, source, principal), page.products)
                    )
                    job = self._checkpoint(job, page, outcomes)
            job = self._save(job, listed=True, resume=None)
        self._finish(config, job, principal)
        return DONE

    def _product(
        self, product: SourceProduct, mapping: Mapping, source: Source, principal: Principal
    ) -> tuple[SourceProduct, Outcome, str | None]:
        """Write one product; (product, outcome, its product id when it was mapped)."""
        if product.error:
            return product, Outcome("failed", {"row": 0, "column": None, "reason": product.error}), None
        outcome = self.imports.write_record(Record(0, dict(product.values)), mapping, principal)
        if outcome.kind == "failed":
            return product, outcome, None
        mapped, _ = mapping.apply(dict(product.values))
        product_id = str((mapped or {}).get("uniqueProductIdentifier", ""))
        try:
            if self._media(product, product_id, source, principal) and outcome.kind == "unchanged":
                outcome = Outcome("updated")
        except (SourceError, DppError) as exc:
            reason = exc.reason if isinstance(exc, SourceError) else exc.text
            column = product.media[0].attribute if product.media else None
            return (
                product,
                Outcome("failed", {"row": 0, "column": column, "reason": f"media: {reason}"}),
                product_id,
            )
        return product, outcome, product_id

    def _media(self, product: SourceProduct, product_id: str, source: Source, principal: Principal) -> bool:
        """Store each mapped media file as an artifact; True when any was new."""
        changed = False
        for media in product.media:
            data, media_type = source.download(media)
            head = self.service.passports.live_head_for_product(product_id)
            if head is None:
                continue
            present = head["artifacts"].get(media.artifact_type)
            digest = hashlib.sha256(data).hexdigest()
            wanted = blob_name(head["dppId"], media.artifact_type, digest, parse_media_type(media_type))
            if present is not None and blob_name_of(present) == wanted:
                continue  # the same bytes: no new version
            self.service.put_artifact(head["dppId"], media.artifact_type, (data, media_type), principal, None)
            changed = True
        return changed

    def _checkpoint(
        self, job: SyncJob, page: Page, outcomes: list[tuple[SourceProduct, Outcome, str | None]]
    ) -> SyncJob:
        number = job["pages"]
        failures = [
            {**(outcome.failure or {}), "row": job["processed"] + index + 1, "identifier": product.identifier}
            for index, (product, outcome, _) in enumerate(outcomes)
            if outcome.kind == "failed"
        ]
        folder = f"{_folder(job['connectorId'])}/syncs/{job['jobId']}"
        # Written before the checkpoint moves, under the page's own name: a page done twice
        # overwrites its part instead of adding to it.
        seen = [{"identifier": product.identifier, "productId": pid} for product, _, pid in outcomes]
        self._write(f"{folder}/seen/{number:06d}.json", json.dumps(seen, ensure_ascii=False))
        part = None
        if failures:
            part = f"{folder}/failures/{number:06d}.jsonl"
            self._write(part, "".join(json.dumps(_brief(f), ensure_ascii=False) + "\n" for f in failures))
        counts = {
            name: int(cast(dict[str, Any], job)[name]) + sum(1 for _, o, _ in outcomes if o.kind == name)
            for name in COUNTERS
        }
        shown = (job["failures"] + [_brief(f) for f in failures])[:SHOWN_FAILURES]
        last = outcomes[-1][0].identifier if outcomes else job["lastIdentifier"]
        return self._save(
            job,
            pages=number + 1,
            processed=job["processed"] + len(outcomes),
            resume=page.resume,
            lastIdentifier=last,
            failures=shown,
            batches=job["batches"] + ([part] if part else []),
            listed=page.resume is None,
            **counts,
        )

    # -- the end of a sync -----------------------------------------------------------------------

    def _finish(self, config: ConnectorConfig, job: SyncJob, principal: Principal) -> None:
        folder = _folder(config.id)
        known = self._read_json(f"{folder}/known.json") or {}
        seen = self._seen(job)
        removed: list[dict[str, Any]] = []
        if job["mode"] == FULL:
            for identifier in sorted(set(known) - set(seen)):
                removed.append(self._removed(config, identifier, known.pop(identifier), principal))
        for identifier, product_id in seen.items():
            previous = known.get(identifier, {})
            known[identifier] = {
                "productId": product_id or previous.get("productId"),
                "seenAt": job["startedAt"],
            }
        self._write(f"{folder}/known.json", json.dumps(known, ensure_ascii=False))
        report_name = f"{folder}/syncs/{job['jobId']}/report.json"
        failures = self._failures(job)
        report = {
            "syncId": job["jobId"],
            "connectorId": config.id,
            "mode": job["mode"],
            "since": job["since"],
            "startedAt": job["startedAt"],
            "state": DONE,
            **{name: job.get(name, 0) for name in ("processed", *COUNTERS)},
            "removed": removed,
            "removedPolicy": config.removed,
            "failures": failures,
            "finishedAt": format_ts(self.clock()),
        }
        self._write(report_name, json.dumps(report, ensure_ascii=False, indent=2) + "\n")
        self._end(job, DONE, None, report=report_name, removed=len(removed))

    def _removed(
        self, config: ConnectorConfig, identifier: str, entry: dict[str, Any], principal: Principal
    ) -> dict[str, Any]:
        """A known product the PIM no longer lists: reported, and revoked when the connector says so."""
        product_id = entry.get("productId")
        outcome: dict[str, Any] = {"identifier": identifier, "productId": product_id, "action": "reported"}
        head = self.service.passports.live_head_for_product(product_id) if product_id else None
        if head is None:
            return {**outcome, "action": "no passport"}
        outcome["dppId"] = head["dppId"]
        if config.removed != "revoke":
            return outcome
        if is_revoked(head["lifecycle"]):
            return {**outcome, "action": "revoked"}  # by an earlier attempt at this same end
        reason = f"Removed from the PIM (connector {config.id})"
        try:
            self.service.revoke(head["dppId"], {"reason": reason}, principal, None)
        except DppError as exc:
            return {**outcome, "action": "failed", "reason": exc.text}
        return {**outcome, "action": "revoked"}

    def _end(self, job: SyncJob, state: str, reason: str | None, **changes: Any) -> None:
        self._save(job, state=state, reason=reason, leaseUntil=None, **changes)
        for _ in range(3):
            connector = self._state(job["connectorId"])
            if connector.get("current") not in (job["jobId"], None):
                return
            update = {**_plain(connector), "current": None}
            if state == DONE and job["startedAt"]:
                started = datetime.fromisoformat(job["startedAt"])
                update |= {"since": format_ts(started - OVERLAP), "lastSyncAt": job["startedAt"]}
                if job["mode"] == FULL:
                    update["lastFullAt"] = job["startedAt"]
            elif state == FAILED:
                update["lastSyncAt"] = format_ts(self.clock())
            try:
                self.store.replace(JOBS, update, connector["_etag"])
                return
            except ItemChanged:
                continue

    def _seen(self, job: SyncJob) -> dict[str, str | None]:
        seen: dict[str, str | None] = {}
        folder = f"{_folder(job['connectorId'])}/syncs/{job['jobId']}"
        for number in range(job["pages"]):
            for entry in self._read_json(f"{folder}/seen/{number:06d}.json") or []:
                seen[entry["identifier"]] = entry.get("productId") or seen.get(entry["identifier"])
        return seen

    def _failures(self, job: SyncJob) -> list[dict[str, Any]]:
        failures: list[dict[str, Any]] = []
        for part in job["batches"]:
            text = self._read_text(part) or ""
            failures.extend(json.loads(line) for line in text.splitlines() if line.strip())
        return failures

    # -- blobs -----------------------------------------------------------------------------------

    def _write(self, name: str, text: str) -> None:
        from azure.storage.blob import ContentSettings

        with translated():
            self.blobs.container(REPORTS_CONTAINER).upload_blob(
                name,
                text.encode("utf-8"),
                overwrite=True,
                content_settings=ContentSettings("application/json"),
            )

    def _read_text(self, name: str) -> str | None:
        from azure.core.exceptions import ResourceNotFoundError

        with translated():
            try:
                return self.blobs.container(REPORTS_CONTAINER).download_blob(name).readall().decode("utf-8")
            except ResourceNotFoundError:
                return None

    def _read_json(self, name: str) -> Any:
        text = self._read_text(name)
        return None if text is None else json.loads(text)


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in item.items() if not key.startswith("_")}


def _brief(failure: dict[str, Any]) -> dict[str, Any]:
    return {key: failure.get(key) for key in ("row", "identifier", "column", "reason")}


def _safe(exc: Exception) -> str:
    """What may be logged or reported of an exception: its reason, never a request's headers."""
    if isinstance(exc, SourceError):
        return exc.reason
    if isinstance(exc, DppError):
        return exc.text
    return type(exc).__name__


def _mapping(config: ConnectorConfig) -> Mapping:
    from shared.onboarding import mappings

    if isinstance(config.mapping, str):
        return mappings.shipped_mapping(config.mapping)
    return mappings.load_mapping(config.mapping, f"connector {config.id}'s mapping")
