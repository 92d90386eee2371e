"""Cosmos DB triggers in the local Functions host, against the session's Cosmos stand-in.

Each test builds a tiny FunctionApp whose Cosmos DB-triggered function records what it received,
over a container of its own, and polls synchronously (`poll_once()`), or lets the background
poller run and waits with `caught_up()`.
"""

from __future__ import annotations

import uuid
from typing import Any

import azure.functions as func
import pytest

from local.host.cosmos_triggers import CosmosTriggers, expand_settings, resolve_cosmos_connection

CONNECTION = "LocalHostCosmosTest"


@pytest.fixture
def container(stack: Any) -> Any:
    """A container of its own, and the app settings naming it."""
    from azure.cosmos import CosmosClient, PartitionKey

    env = stack.env()
    client = CosmosClient(env["COSMOS_ENDPOINT"], env["COSMOS_KEY"], enable_endpoint_discovery=False)
    name = f"host-{uuid.uuid4().hex[:8]}"
    items = client.create_database_if_not_exists(name).create_container_if_not_exists(
        "items", PartitionKey("/pk")
    )
    items.settings = {
        CONNECTION: f"AccountEndpoint={env['COSMOS_ENDPOINT']};AccountKey={env['COSMOS_KEY']};",
        "TOY_DATABASE": name,
    }
    return items


def _toy(
    container: Any, received: list[list[dict[str, Any]]], fail: list[bool]
) -> tuple[func.FunctionApp, dict]:
    app = func.FunctionApp()

    @app.cosmos_db_trigger(
        arg_name="docs",
        connection=CONNECTION,
        database_name="%TOY_DATABASE%",
        container_name="items",
        lease_container_name="leases",
        max_items_per_invocation=2,
    )
    def changed(docs: func.DocumentList) -> None:
        if fail and fail.pop():
            raise RuntimeError("the function failed")
        received.append([doc.to_dict() for doc in docs])

    return app, dict(container.settings)


def _ids(received: list[list[dict[str, Any]]]) -> list[tuple[str, Any]]:
    return [(doc["id"], doc.get("n")) for batch in received for doc in batch]


def test_changes_are_delivered_once_per_state_in_batches_and_again_after_a_failure(container):
    received: list[list[dict[str, Any]]] = []
    fail: list[bool] = []
    app, env = _toy(container, received, fail)
    triggers = CosmosTriggers.from_app(app, env)
    assert triggers.errors == {}
    for n in range(3):
        container.create_item({"id": f"i{n}", "pk": "a", "n": 0})
    assert triggers.poll_once() is True
    assert [len(batch) for batch in received] == [2, 1]  # max_items_per_invocation
    assert sorted(_ids(received)) == [("i0", 0), ("i1", 0), ("i2", 0)]
    assert triggers.poll_once() is True and len(received) == 2  # nothing new: nothing delivered
    # A change within the same second is a new state (a new _etag): delivered again.
    container.upsert_item({"id": "i1", "pk": "a", "n": 1})
    fail.append(True)
    assert triggers.poll_once() is False  # the function failed: the same items come again
    assert triggers.failures == 1 and len(received) == 2
    assert triggers.poll_once() is True
    assert _ids(received)[3:] == [("i1", 1)]


def test_the_background_poller_catches_up_and_stops(container):
    received: list[list[dict[str, Any]]] = []
    app, env = _toy(container, received, [])
    triggers = CosmosTriggers.from_app(app, env, poll_seconds=0.05)
    triggers.start()
    try:
        container.create_item({"id": "x", "pk": "b", "n": 7})
        assert triggers.caught_up(10.0)
        assert _ids(received) == [("x", 7)]
    finally:
        triggers.stop()
    assert triggers.caught_up(0.1) is False  # a stopped host never catches up


def test_a_trigger_whose_connection_or_database_setting_is_missing_is_in_error(container):
    app, env = _toy(container, [], [])
    assert CONNECTION in CosmosTriggers.from_app(app, {}).errors["changed"]
    no_database = {CONNECTION: env[CONNECTION]}
    assert "TOY_DATABASE" in CosmosTriggers.from_app(app, no_database).errors["changed"]


def test_connections_resolve_as_functions_resolves_them():
    keyed = resolve_cosmos_connection("C", {"C": "AccountEndpoint=https://a.example/;AccountKey=k;"})
    assert (keyed.endpoint, keyed.key) == ("https://a.example/", "k")
    identity = resolve_cosmos_connection(
        "C", {"C__accountEndpoint": "https://b.example/", "C__clientId": "id-1"}
    )
    assert (identity.endpoint, identity.key, identity.client_id) == ("https://b.example/", None, "id-1")
    with pytest.raises(ValueError, match="AccountKey"):
        resolve_cosmos_connection("C", {"C": "AccountEndpoint=https://a.example/"})
    assert expand_settings("%A%-x", {"A": "db"}) == "db-x"
