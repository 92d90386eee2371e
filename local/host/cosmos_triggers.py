"""Cosmos DB triggers, delivered by polling their containers (the local stand-in has no change feed).

In Azure a `cosmosDBTrigger` function gets the container's change feed: batches of changed items,
in order within a partition, at least once, with the latest state of each item. The local
Cosmos stand-in only fakes that feed (an `A-IM` request answers every item with ETag "1", then
304), so this host emulates the trigger from a cross-partition query instead, off the request
path: every poll (1 s, `--cosmos-poll-seconds`) asks for the items whose `_ts` is at or after the
last second already seen (`_ts` has a resolution of one second, so that second is read again)
and hands the function those not yet delivered at their `_etag`, oldest first, in batches of at
most `max_items_per_invocation` (100 by default, as in Functions), as the Python worker does: an
`azure.functions.DocumentList` under the trigger's `arg_name`.

A function that fails gets the same items again on the next poll, until it succeeds (the trigger's
retry policy in Azure). A host that starts delivers every item present (`start_from_beginning`,
whatever the trigger says): leases are not kept locally, so functions must be idempotent, as
change-feed consumers must be anyway. `caught_up(timeout)` waits for a poll that started after
the call to have delivered everything it found: what tests use instead of sleeping.

The trigger's `connection` app setting is resolved as Functions does: the setting itself (a
connection string `AccountEndpoint=...;AccountKey=...;`), else `<setting>__accountEndpoint` for
an identity (`__clientId` for a user-assigned one). `%NAME%` in the database or container name is
the app setting NAME, as in a binding expression.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import azure.functions as func

from local.host.functions_index import call_function, registered_functions, runnable, trigger_of

if TYPE_CHECKING:
    from azure.cosmos import ContainerProxy

log = logging.getLogger(__name__)

DEFAULT_COSMOS_POLL_SECONDS = 1.0
DEFAULT_MAX_ITEMS = 100  # the Functions host's maxItemsPerInvocation default
COSMOS_STOP_WAIT = 5.0
_SETTING = re.compile(r"%([^%]+)%")


@dataclass(frozen=True)
class CosmosTriggerFunction:
    name: str
    connection: str  # the app setting (or prefix) naming the account
    database: str  # as declared: literal, or with %SETTING% expressions
    container: str
    max_items: int
    function: Callable[..., Any]
    arg_name: str
    other_bindings: tuple[str, ...]


def cosmos_trigger_functions(app: func.FunctionApp) -> list[CosmosTriggerFunction]:
    """The app's Cosmos DB-triggered functions."""
    found = []
    for function in registered_functions(app):
        trigger = trigger_of(function, "cosmosDBTrigger")
        if trigger is None:
            continue
        found.append(
            CosmosTriggerFunction(
                name=function.get_function_name(),
                connection=str(trigger.connection or ""),
                database=str(trigger.database_name),
                container=str(trigger.container_name),
                max_items=int(trigger.max_items_per_invocation or DEFAULT_MAX_ITEMS),
                function=function.get_user_function(),
                arg_name=trigger.name,
                other_bindings=tuple(
                    f"{b.type} {b.name}" for b in function.get_bindings() if b is not trigger
                ),
            )
        )
    return found


def expand_settings(text: str, env: Mapping[str, str]) -> str:
    """`%NAME%` replaced by the app setting NAME (a binding expression)."""

    def setting(found: re.Match[str]) -> str:
        if not env.get(found[1]):
            raise ValueError(f"the app setting {found[1]} (named in {text!r}) is not set")
        return env[found[1]]

    return _SETTING.sub(setting, text)


@dataclass(frozen=True)
class CosmosConnection:
    setting: str
    endpoint: str
    key: str | None = None
    client_id: str | None = None

    def client(self) -> Any:
        from azure.cosmos import CosmosClient

        credential: Any = self.key
        if credential is None:
            from azure.identity import DefaultAzureCredential

            credential = DefaultAzureCredential(managed_identity_client_id=self.client_id)
        return CosmosClient(self.endpoint, credential, enable_endpoint_discovery=False)


def resolve_cosmos_connection(connection: str, env: Mapping[str, str]) -> CosmosConnection:
    if not connection:
        raise ValueError("a Cosmos DB trigger needs a connection")
    if env.get(connection):
        parts = dict(part.split("=", 1) for part in env[connection].split(";") if "=" in part)
        if not parts.get("AccountEndpoint") or not parts.get("AccountKey"):
            raise ValueError(
                f"the app setting {connection} is not an AccountEndpoint=...;AccountKey=... string"
            )
        return CosmosConnection(connection, parts["AccountEndpoint"], key=parts["AccountKey"])
    endpoint = env.get(f"{connection}__accountEndpoint")
    if endpoint:
        return CosmosConnection(connection, endpoint, client_id=env.get(f"{connection}__clientId"))
    raise ValueError(
        f"the Cosmos DB connection {connection!r} is not configured: set the app setting "
        f"{connection} (a connection string) or {connection}__accountEndpoint"
    )


ItemKey = tuple[str, str]  # (_rid, _etag): one state of one item


@dataclass(eq=False)
class CosmosWatch:
    """One Cosmos DB trigger at run time: its container and what this host has delivered."""

    function: CosmosTriggerFunction
    container: ContainerProxy
    since: int = 0  # the `_ts` second from which the next poll reads
    delivered: dict[ItemKey, int] = field(default_factory=dict)  # item state -> its `_ts`
    lock: threading.Lock = field(default_factory=threading.Lock)  # one poll at a time

    def changes(self) -> list[dict[str, Any]]:
        """Items changed since the last second seen and not yet delivered, oldest first."""
        rows = self.container.query_items(
            "SELECT * FROM c WHERE c._ts >= @since",
            parameters=[{"name": "@since", "value": self.since}],
            enable_cross_partition_query=True,
        )
        fresh = [row for row in rows if (row.get("_rid", ""), row.get("_etag", "")) not in self.delivered]
        return sorted(fresh, key=lambda row: row.get("_ts", 0))

    def record(self, batch: Sequence[dict[str, Any]]) -> None:
        for row in batch:
            self.delivered[(row.get("_rid", ""), row.get("_etag", ""))] = int(row.get("_ts", 0))
        if batch:
            self.since = max(self.since, *(int(row.get("_ts", 0)) for row in batch))
        # States older than the second read again can never be listed again.
        self.delivered = {key: ts for key, ts in self.delivered.items() if ts >= self.since}


class CosmosTriggers:
    """The app's Cosmos DB triggers, emulated by polling (see the module docstring).

    Construction makes no network call; a trigger that cannot run is logged and listed in
    `errors`, and the others run. `start()` polls each in a daemon thread; `poll_once()` polls in
    the calling thread; `caught_up()` waits for the pollers."""

    def __init__(
        self,
        functions: Sequence[CosmosTriggerFunction],
        env: Mapping[str, str] | None = None,
        *,
        poll_seconds: float = DEFAULT_COSMOS_POLL_SECONDS,
    ):
        if poll_seconds <= 0:
            raise ValueError(f"the Cosmos DB poll interval must be positive, not {poll_seconds}")
        self.poll_seconds = poll_seconds
        self.watches: list[CosmosWatch] = []
        self.errors: dict[str, str] = {}
        self.batches = 0  # batches delivered successfully
        self.failures = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._state = threading.Condition()
        self._started = 0  # polls started (all triggers), numbered from 1
        self._clean = 0  # the latest poll that delivered everything it found
        settings = os.environ if env is None else env

        def binding(function: CosmosTriggerFunction) -> tuple[CosmosConnection, str, str]:
            connection = resolve_cosmos_connection(function.connection, settings)
            return (
                connection,
                expand_settings(function.database, settings),
                expand_settings(function.container, settings),
            )

        clients: dict[CosmosConnection, Any] = {}
        for function, (connection, database, name) in runnable(
            functions, binding, "the trigger's documents", self.errors
        ):
            if connection not in clients:
                clients[connection] = connection.client()
            container = clients[connection].get_database_client(database).get_container_client(name)
            self.watches.append(CosmosWatch(function, container))

    @classmethod
    def from_app(
        cls, app: func.FunctionApp, env: Mapping[str, str] | None = None, **options: Any
    ) -> CosmosTriggers:
        return cls(cosmos_trigger_functions(app), env, **options)

    # -- one poll

    def _poll(self, watch: CosmosWatch) -> bool:
        """Deliver what changed in the watch's container; True when all of it was delivered."""
        with watch.lock:
            changes = watch.changes()
            size = watch.function.max_items
            for start in range(0, len(changes), size):
                batch = changes[start : start + size]
                if not self._deliver(watch, batch):
                    return False
                watch.record(batch)
            return True

    def _deliver(self, watch: CosmosWatch, batch: list[dict[str, Any]]) -> bool:
        trigger = watch.function
        documents = func.DocumentList([func.Document.from_dict(row) for row in batch])
        try:
            call_function(trigger.function, trigger.arg_name, documents)
        except Exception:
            log.exception(
                "Cosmos DB trigger %s failed on %d items; retried on the next poll", trigger.name, len(batch)
            )
            with self._state:
                self.failures += 1
            return False
        with self._state:
            self.batches += 1
        return True

    def poll_once(self) -> bool:
        """Poll every trigger in the calling thread; True when every change was delivered. A
        failing function is logged and counted, not raised; a failing query is raised."""
        number = self._begin()
        clean = False
        try:
            clean = all([self._poll(watch) for watch in self.watches])
        finally:
            self._end(number, clean)
        return clean

    def _begin(self) -> int:
        with self._state:
            self._started += 1
            return self._started

    def _end(self, number: int, clean: bool) -> None:
        with self._state:
            if clean:
                self._clean = max(self._clean, number)
            self._state.notify_all()

    def caught_up(self, timeout: float) -> bool:
        """Wait (at most `timeout` seconds) until a poll started after this call has delivered all
        it found: then every change made before the call has reached the functions."""
        deadline = time.monotonic() + timeout
        with self._state:
            after = self._started
            while self._clean <= after:
                left = deadline - time.monotonic()
                if left <= 0 or self._stop.is_set():
                    return False
                self._state.wait(left)
            return True

    # -- in the background

    def start(self) -> None:
        if self._threads or self._stop.is_set() or not self.watches:
            return
        thread = threading.Thread(target=self._run, name="local-cosmos-triggers", daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        with self._state:
            self._state.notify_all()
        for thread in self._threads:
            thread.join(COSMOS_STOP_WAIT)

    def _run(self) -> None:
        failing: str | None = None
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception as exc:
                # Once per distinct failure, not every poll (e.g. while the store is down).
                if str(exc) != failing:
                    log.warning("Cosmos DB triggers cannot read their containers: %s", exc)
                    failing = str(exc)
            else:
                failing = None
            self._stop.wait(self.poll_seconds)
