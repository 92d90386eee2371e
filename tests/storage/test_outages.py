"""Outages of the stores, on a stack of this module's own (the session's shared one is never
stopped): a hung Cosmos server (SIGSTOP), a hung Azurite, and a stopped and restarted one.

Every call that meets an outage ends within the clients' timeout as a 503 Result with Retry-After,
readiness says so, nothing acknowledged is lost, and everything answers again without restarting
the app. (bench/load.py measures the same at full scale.) The only time bound asserted is the
timeout itself: the SDKs' defaults waited 84 s for a stopped Azurite and over 250 s for a hung
store.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.load import LOAD_OPERATOR, Connection, Fault, Workload, load, soak, verify
from shared.platform.errors import ServiceUnavailable

pytestmark = pytest.mark.stack

# What a client waits for an answer (bench/load.py's default): no call may take longer.
TIMEOUT = 10.0


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from local.stack import start_stack

    running = start_stack(tmp_path_factory.mktemp("outage-stack"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def served(own: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str, Path]]:
    """The app on `own`, served by the local host: (root, base URL, issuer directory)."""
    from functions import app_root, create_app
    from functions.routes import ROUTE_PREFIX
    from local.host.server import start_in_thread
    from local.run import dev_environment
    from shared.platform.settings import load_settings
    from tests.support.ports import free_port

    issuer = tmp_path_factory.mktemp("outage-issuer")
    port = free_port()
    env = {
        **dev_environment(own.env(), issuer),
        "COSMOS_DATABASE": f"outage-{uuid.uuid4().hex[:8]}",
        "DPP_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    root = app_root(load_settings(env))
    server, base = start_in_thread(create_app(root), port=port, route_prefix=ROUTE_PREFIX)
    yield root, base, issuer
    server.shutdown()


def within_timeout(*calls: Callable[[], Any], thaw: Callable[[], None]) -> list[Any]:
    """Run the calls at once; what each returned or raised, or a failure if any is still waiting
    after TIMEOUT. `thaw` runs in any case, so calls still hanging finish."""
    outcomes: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            outcomes[index] = call()
        except Exception as exc:
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i, call), daemon=True) for i, call in enumerate(calls)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(TIMEOUT)
        waiting = [i for i, thread in enumerate(threads) if thread.is_alive()]
        assert not waiting, f"calls {waiting} still waiting after {TIMEOUT} s"
    finally:
        thaw()
    return outcomes


def assert_retryable(outcome: Any, code: str) -> None:
    assert isinstance(outcome, ServiceUnavailable), outcome
    assert outcome.code == code
    assert outcome.headers.get("Retry-After")


def test_a_hung_store_is_a_503_within_the_timeout_and_readiness_says_so(served: Any, own: Any) -> None:
    root = served[0]
    root.store.read("passports", "head", "warm-up")  # the client exists before the outage
    own.freeze("cosmos")
    read, write, ready = within_timeout(
        lambda: root.store.read("passports", "head", "any"),
        lambda: root.store.create("jobs", {"id": uuid.uuid4().hex, "jobId": "x"}),
        root.readiness.check,
        thaw=lambda: own.thaw("cosmos"),
    )
    assert_retryable(read, "StoreUnavailable")
    assert_retryable(write, "StoreUnavailable")
    assert ready == {"status": "degraded", "checks": {"cosmos": "StoreUnavailable"}}
    assert root.readiness.check()["status"] == "ok"  # the same client, once the store is back


def test_hung_and_stopped_blob_storage_is_a_503_within_the_timeout(served: Any, own: Any) -> None:
    from shared.storage.blobs import translated

    root = served[0]
    container = root.blobs.container("outage-test")

    def upload() -> None:
        with translated():
            container.upload_blob(uuid.uuid4().hex, b"x")

    own.freeze("azurite")
    (hung,) = within_timeout(upload, thaw=lambda: own.thaw("azurite"))
    assert_retryable(hung, "StorageUnavailable")
    own.stop_azurite()
    (stopped,) = within_timeout(upload, thaw=own.start_azurite)
    assert_retryable(stopped, "StorageUnavailable")
    upload()  # the same client, once storage is back


def test_clients_through_both_outages_get_503_results_and_lose_no_update(served: Any, own: Any) -> None:
    from local.tokens import mint

    root, base, issuer = served
    passports = load(root, uuid.uuid4().hex[:8], 24, workers=4)
    token = mint(issuer, roles=["operator"], operator=LOAD_OPERATOR)
    mix = (("read", 0.4), ("readByProduct", 0.5), ("patch", 0.9), ("artifact", 1.0))
    workload = Workload(
        base, token, passports, [p[0] for p in passports[:4]], TIMEOUT, mix=mix, phase="outages"
    )
    # Longer than one SDK call may wait (5 s), so calls do fail rather than only wait.
    faults = [
        Fault("cosmos", 1.5, 6.5, lambda: own.freeze("cosmos"), lambda: own.thaw("cosmos")),
        Fault("azurite", 9.0, 2.0, own.stop_azurite, own.start_azurite),
    ]
    run = soak(workload, seconds=14, clients=4, faults=faults)

    assert all(fault.window is not None for fault in faults)
    failed = [s.outcome for s in run.samples if not s.ok]
    assert "503 StoreUnavailable" in failed and "503 StorageUnavailable" in failed  # the outages were real
    assert not [s for s in run.samples if s.bad], "a 5xx other than a 503 Result with Retry-After"
    assert not [s for s in run.samples if s.end - s.start > TIMEOUT]
    verdict = verify(workload, run.writes)
    assert verdict.acknowledged > 0
    assert verdict.lost == [] and verdict.unreadable == []
    # Everything answers again, from the same app.
    client = Connection(base, TIMEOUT)
    dpp_id, product_id = passports[0]
    auth = {"Authorization": f"Bearer {token}"}
    from urllib.parse import quote

    path = f"/api/v1/dpps/{quote(dpp_id, safe='')}"
    calls = [
        client.send("health", "GET", "/api/health")[0],
        client.send("read", "GET", path)[0],
        client.send("readByProduct", "GET", f"/api/v1/dppsByProductId/{quote(product_id, safe='')}")[0],
        client.send(
            "patch",
            "PATCH",
            path,
            b'{"nameplate": {"After": true}}',
            {**auth, "Content-Type": "application/merge-patch+json"},
        )[0],
        client.send(
            "artifact",
            "PUT",
            f"{path}/artifacts/composition",
            b'{"after": 1}',
            {**auth, "Content-Type": "application/json"},
        )[0],
    ]
    assert [(s.op, s.outcome) for s in calls] == [
        ("health", "200"),
        ("read", "200"),
        ("readByProduct", "200"),
        ("patch", "200"),
        ("artifact", "201"),
    ]
