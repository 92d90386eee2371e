"""Blob triggers, delivered by listing their containers (Azurite has no Event Grid)."""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import queue
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import azure.functions as func
from azure.functions.blob import InputStream

if TYPE_CHECKING:
    from azure.storage.blob import BlobServiceClient, ContainerClient

from local.host.functions_index import call_function, enum_text, registered_functions, runnable, trigger_of

log = logging.getLogger(__name__)


DEFAULT_BLOB_POLL_SECONDS = 2.0
BLOB_WORKERS = 2  # blobs of one trigger processed at once by the background poller
BLOB_MAX_ATTEMPTS = 5  # the Functions host's maxDequeueCount default for blob triggers
DEFAULT_STORAGE_CONNECTION = "AzureWebJobsStorage"
BLOB_STOP_WAIT = 5.0  # seconds `stop()` waits, in all, for pollers and running blob functions
_BLOB_PARAMETER = re.compile(r"\{([A-Za-z_]\w*)\}")

SUCCEEDED, FAILED, POISONED = "succeeded", "failed", "poisoned"


@dataclass(frozen=True)
class BlobTriggerFunction:
    name: str
    path: str  # `<container>/<blob name pattern>`, as declared
    connection: str  # the app setting naming the storage account
    source: str | None  # EventGrid or LogsAndContainerScan in Azure; both are polled locally
    function: Callable[..., Any]
    arg_name: str  # the trigger binding's name, which the worker passes the InputStream as
    other_bindings: tuple[str, ...]  # bindings besides the trigger, which this host cannot supply


def _blob_function_of(function: Any, trigger: Any) -> BlobTriggerFunction:
    return BlobTriggerFunction(
        name=function.get_function_name(),
        path=str(trigger.path),
        connection=str(trigger.connection or ""),
        source=enum_text(trigger.source) if trigger.source is not None else None,
        function=function.get_user_function(),
        arg_name=trigger.name,
        other_bindings=tuple(
            f"{binding.type} {binding.name}" for binding in function.get_bindings() if binding is not trigger
        ),
    )


def blob_trigger_functions(app: func.FunctionApp) -> list[BlobTriggerFunction]:
    """The app's blob-triggered functions."""
    found = [(function, trigger_of(function, "blobTrigger")) for function in registered_functions(app)]
    return [_blob_function_of(function, trigger) for function, trigger in found if trigger is not None]


@dataclass(frozen=True)
class BlobPath:
    """A blob trigger path: a literal container, and a blob name pattern in which `{name}` stands
    for any text (slashes included), `{{` and `}}` for literal braces, as in the WebJobs SDK."""

    container: str
    pattern: str
    prefix: str  # the pattern's literal text before its first parameter: what is listed
    regex: re.Pattern[str]

    def matches(self, blob_name: str) -> bool:
        return self.regex.fullmatch(blob_name) is not None


def parse_blob_path(path: str) -> BlobPath:
    container, slash, pattern = path.partition("/")
    if not slash or not container or not pattern:
        raise ValueError(f"blob path {path!r} needs the form <container>/<blob name pattern>")
    if "{" in container or "}" in container:
        raise ValueError(f"blob path {path!r}: a blob trigger's container name must be literal")
    regex: list[str] = []
    prefix: list[str] = []
    parameters: list[str] = []
    index = 0
    while index < len(pattern):
        pair = pattern[index : index + 2]
        if pair in ("{{", "}}"):
            char, index = pair[0], index + 2
        elif pattern[index] == "{":
            found = _BLOB_PARAMETER.match(pattern, index)
            if found is None:
                raise ValueError(
                    f"blob path {path!r}: only {{name}} parameters (and {{{{ }}}} for literal braces) "
                    "are supported in a blob trigger path"
                )
            if found[1] in parameters:
                raise ValueError(f"blob path {path!r}: parameter {{{found[1]}}} appears twice")
            parameters.append(found[1])
            regex.append("(.*)")
            index = found.end()
            continue
        elif pattern[index] == "}":
            raise ValueError(f"blob path {path!r}: a single }} must be written }}}}")
        else:
            char, index = pattern[index], index + 1
        regex.append(re.escape(char))
        if not parameters:
            prefix.append(char)
    return BlobPath(container, pattern, "".join(prefix), re.compile("".join(regex)))


@dataclass(frozen=True)
class StorageConnection:
    """Where a trigger's `connection` app setting points, resolved as Functions does: the setting
    itself, else `AzureWebJobs<name>`; its value is a connection string, or, for an identity,
    `<setting>__blobServiceUri` (or `__serviceUri`, with an optional `__clientId`)."""

    setting: str
    connection_string: str | None = None
    service_uri: str | None = None
    client_id: str | None = None

    def client(self) -> BlobServiceClient:
        from azure.storage.blob import BlobServiceClient

        if self.connection_string is not None:
            return BlobServiceClient.from_connection_string(self.connection_string)
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential(managed_identity_client_id=self.client_id)
        return BlobServiceClient(str(self.service_uri), credential=credential)


def resolve_storage_connection(connection: str, env: Mapping[str, str]) -> StorageConnection:
    name = connection or DEFAULT_STORAGE_CONNECTION
    candidates = [name] if name.startswith("AzureWebJobs") else [name, f"AzureWebJobs{name}"]
    for setting in candidates:
        if env.get(setting):
            return StorageConnection(setting, connection_string=env[setting])
        uri = env.get(f"{setting}__blobServiceUri") or env.get(f"{setting}__serviceUri")
        if uri:
            return StorageConnection(setting, service_uri=uri, client_id=env.get(f"{setting}__clientId"))
    raise ValueError(
        f"the storage connection {name!r} is not configured: set the app setting {name} "
        f"(a connection string) or {name}__blobServiceUri"
    )


@dataclass(frozen=True)
class Delivery:
    """One call of a blob-triggered function (or a failure to read the blob for it)."""

    function: str
    blob: str  # `<container>/<blob name>`, the InputStream's name
    etag: str
    attempt: int  # 1 to BLOB_MAX_ATTEMPTS for this (blob name, ETag)
    outcome: str  # SUCCEEDED, FAILED (retried later) or POISONED (failed on its last attempt)


BlobKey = tuple[str, str]  # (blob name, ETag without quotes)


@dataclass(eq=False)
class BlobWatch:
    """One blob trigger at run time: where it looks, and what this host process has done."""

    function: BlobTriggerFunction
    path: BlobPath
    container: ContainerClient
    finished: set[BlobKey] = field(default_factory=set)  # delivered, or given up as poison
    attempts: dict[BlobKey, int] = field(default_factory=dict)  # failed attempts so far
    busy: set[str] = field(default_factory=set)  # blob names being delivered right now
    lock: threading.Lock = field(default_factory=threading.Lock)  # guards the three above
    scan_lock: threading.Lock = field(default_factory=threading.Lock)  # one listing at a time
    container_ready: bool = False
    scan_error: str | None = None  # the last listing failure the poller reported


def _iso_or_none(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def blob_properties(properties: Any) -> dict[str, Any]:
    """The blob's properties under the names the host sends the worker (.NET BlobProperties)."""
    settings = properties.content_settings
    md5 = settings.content_md5
    return {
        "BlobType": enum_text(properties.blob_type),
        "ContentType": settings.content_type,
        "ContentLength": properties.size,
        "ContentEncoding": settings.content_encoding,
        "ContentLanguage": settings.content_language,
        "ContentDisposition": settings.content_disposition,
        "CacheControl": settings.cache_control,
        "ContentHash": base64.b64encode(bytes(md5)).decode() if md5 else None,
        "ETag": properties.etag,
        "LastModified": _iso_or_none(properties.last_modified),
        "CreatedOn": _iso_or_none(properties.creation_time),
    }


class _Workers:
    """A few daemon threads running queued deliveries: daemon, as the timers' threads, so a hung
    function cannot keep the process from exiting."""

    def __init__(self, size: int, name: str, stopping: threading.Event):
        self._jobs: queue.SimpleQueue[Callable[[], object] | None] = queue.SimpleQueue()
        self._stopping = stopping
        self.threads = [
            threading.Thread(target=self._run, name=f"{name}-{number}", daemon=True) for number in range(size)
        ]
        for thread in self.threads:
            thread.start()

    def submit(self, job: Callable[[], object]) -> None:
        self._jobs.put(job)

    def close(self) -> None:
        for _ in self.threads:
            self._jobs.put(None)

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            if self._stopping.is_set():
                continue  # queued deliveries are dropped at shutdown: the next host delivers them
            try:
                job()
            except Exception:
                log.exception("The local host failed delivering a blob")


class BlobTriggers:
    """The app's blob triggers, delivered by listing their containers (see the module docstring).

    Construction makes no network call. A trigger that cannot run (connection not configured,
    unsupported path or bindings) is logged and listed in `errors`, and the others run, as a
    function in error in Functions. `start()` starts one poller thread and BLOB_WORKERS delivery
    threads per trigger; `scan_once()` delivers in the calling thread instead. `deliveries` has
    every call in order, `scans` counts the listings done."""

    def __init__(
        self,
        functions: Sequence[BlobTriggerFunction],
        env: Mapping[str, str] | None = None,
        *,
        poll_seconds: float = DEFAULT_BLOB_POLL_SECONDS,
        workers: int = BLOB_WORKERS,
    ):
        if poll_seconds <= 0:
            raise ValueError(f"the blob poll interval must be positive, not {poll_seconds}")
        if workers < 1:
            raise ValueError(f"blob triggers need at least one worker, not {workers}")
        self.poll_seconds = poll_seconds
        self.workers = workers
        self.watches: list[BlobWatch] = []
        self.errors: dict[str, str] = {}
        self.deliveries: list[Delivery] = []
        self.scans = 0
        self._lock = threading.Lock()  # guards deliveries and scans
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pools: list[_Workers] = []
        settings = os.environ if env is None else env

        def binding(function: BlobTriggerFunction) -> tuple[BlobPath, StorageConnection]:
            return parse_blob_path(function.path), resolve_storage_connection(function.connection, settings)

        clients: dict[StorageConnection, BlobServiceClient] = {}
        for function, (path, connection) in runnable(
            functions, binding, "the trigger's InputStream", self.errors
        ):
            if connection not in clients:
                clients[connection] = connection.client()
            container = clients[connection].get_container_client(path.container)
            self.watches.append(BlobWatch(function, path, container))

    @classmethod
    def from_app(
        cls, app: func.FunctionApp, env: Mapping[str, str] | None = None, **options: Any
    ) -> BlobTriggers:
        return cls(blob_trigger_functions(app), env, **options)

    # -- listing and claiming

    def _claim(self, watch: BlobWatch) -> list[BlobKey]:
        """List the trigger's blobs and mark the pending ones busy; the caller delivers them."""
        from azure.core.exceptions import ResourceExistsError

        with watch.scan_lock:  # a listing older than another scan's must not prune its records
            if not watch.container_ready:
                with contextlib.suppress(ResourceExistsError):
                    watch.container.create_container()
                watch.container_ready = True
            listed = {
                (blob.name, blob.etag.strip('"'))
                for blob in watch.container.list_blobs(name_starts_with=watch.path.prefix or None)
                if watch.path.matches(blob.name)
            }
            with watch.lock:
                # Versions no longer listed can never come back (a new upload has a new ETag).
                watch.finished &= listed
                watch.attempts = {key: count for key, count in watch.attempts.items() if key in listed}
                claimed = [
                    key for key in sorted(listed) if key not in watch.finished and key[0] not in watch.busy
                ]
                watch.busy.update(name for name, _ in claimed)
            with self._lock:
                self.scans += 1
            return claimed

    def _release(self, watch: BlobWatch, keys: Sequence[BlobKey]) -> None:
        with watch.lock:
            watch.busy.difference_update(name for name, _ in keys)

    # -- delivery

    def _deliver(self, watch: BlobWatch, key: BlobKey) -> Delivery | None:
        """Call the function with the blob `key` (claimed by `_claim`) and record the outcome;
        None when the blob changed or went away since it was listed (the next scan sees it as
        it is now). Never raises for a failure of the function or of storage."""
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError

        name, etag = key
        blob = f"{watch.path.container}/{name}"
        trigger = watch.function
        try:
            error: Exception | None = None
            try:
                client = watch.container.get_blob_client(name)
                download = client.download_blob(
                    etag=f'"{etag}"', match_condition=MatchConditions.IfNotModified
                )
                stream = InputStream(
                    data=download.readall(),
                    name=blob,
                    uri=client.url,
                    length=download.properties.size,
                    metadata=dict(download.properties.metadata or {}),
                    blob_properties=blob_properties(download.properties),
                )
            except (ResourceModifiedError, ResourceNotFoundError):
                log.debug("Blob %s changed or went away before %s got it", blob, trigger.name)
                return None
            except Exception as exc:  # counts as a failed attempt, as a binding failure in Functions
                error = exc
            else:
                try:
                    call_function(trigger.function, trigger.arg_name, stream)
                except Exception as exc:
                    error = exc
            return self._record(watch, key, blob, error)
        finally:
            self._release(watch, [key])

    def _record(self, watch: BlobWatch, key: BlobKey, blob: str, error: Exception | None) -> Delivery:
        with watch.lock:
            attempt = watch.attempts.pop(key, 0) + 1
            if error is None:
                outcome = SUCCEEDED
                watch.finished.add(key)
            elif attempt >= BLOB_MAX_ATTEMPTS:
                outcome = POISONED
                watch.finished.add(key)  # given up until the blob changes (a new ETag)
            else:
                outcome = FAILED
                watch.attempts[key] = attempt
        delivery = Delivery(watch.function.name, blob, key[1], attempt, outcome)
        with self._lock:
            self.deliveries.append(delivery)
        name = watch.function.name
        if outcome == SUCCEEDED:
            log.info("Blob trigger %s processed %s (attempt %d)", name, blob, attempt)
        elif outcome == FAILED:
            log.error(
                "Blob trigger %s failed on %s (attempt %d of %d); retried on a later poll",
                name,
                blob,
                attempt,
                BLOB_MAX_ATTEMPTS,
                exc_info=error,
            )
        else:
            log.error(
                "Blob trigger %s failed on %s %d times: poison blob, given up until it changes (ETag %s)",
                name,
                blob,
                attempt,
                key[1],
                exc_info=error,
            )
        return delivery

    # -- entry points

    def scan_once(self) -> list[str]:
        """List every trigger's container and deliver each pending blob in the calling thread, one
        after the other; returns the blobs (`<container>/<name>`) whose function succeeded. A
        failing function is recorded (see `deliveries`), not raised; a listing failure is raised.
        Blobs the background poller is delivering right now are skipped."""
        succeeded: list[str] = []
        for watch in self.watches:
            claimed = self._claim(watch)
            for index, key in enumerate(claimed):
                try:
                    delivery = self._deliver(watch, key)
                except BaseException:
                    self._release(watch, claimed[index + 1 :])
                    raise
                if delivery is not None and delivery.outcome == SUCCEEDED:
                    succeeded.append(delivery.blob)
        return succeeded

    def start(self) -> None:
        """Poll in the background (once; `stop()` ends it for good)."""
        if self._threads or self._stop.is_set():
            return
        for watch in self.watches:
            name = f"local-blob-{watch.function.name}"
            pool = _Workers(self.workers, name, self._stop)
            self._pools.append(pool)
            thread = threading.Thread(target=self._poll, args=(watch, pool), name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for pool in self._pools:
            pool.close()
        deadline = time.monotonic() + BLOB_STOP_WAIT
        for thread in self._threads + [t for pool in self._pools for t in pool.threads]:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _poll(self, watch: BlobWatch, pool: _Workers) -> None:
        while not self._stop.is_set():
            try:
                claimed = self._claim(watch)
            except Exception as exc:
                # Once per distinct failure, not every poll (e.g. while Azurite is down).
                if str(exc) != watch.scan_error:
                    log.warning(
                        "Blob trigger %s cannot list %s: %s", watch.function.name, watch.path.container, exc
                    )
                    watch.scan_error = str(exc)
            else:
                if watch.scan_error is not None:
                    log.info("Blob trigger %s lists %s again", watch.function.name, watch.path.container)
                    watch.scan_error = None
                for key in claimed:
                    pool.submit(lambda key=key: self._deliver(watch, key))
            self._stop.wait(self.poll_seconds)


def deliver_new_blobs(app: func.FunctionApp, env: Mapping[str, str] | None = None) -> list[str]:
    """One scan of every blob trigger of `app`, in the calling thread, by a fresh registry: every
    blob matching a trigger is new to it, so each is delivered (once, however its function fares).
    Returns the blobs whose function succeeded; raises ValueError if a blob trigger cannot run.
    `env` holds the app settings (default: os.environ)."""
    triggers = BlobTriggers.from_app(app, env)
    if triggers.errors:
        raise ValueError("; ".join(f"{name}: {why}" for name, why in triggers.errors.items()))
    return triggers.scan_once()
