"""The local backing services (local/stack.py), driven with the real Azure SDKs."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from local import stack as stack_module
from local.stack import (
    AZURITE_KEY,
    COSMOS_EMULATOR_KEY,
    Stack,
    StackError,
    port_in_use,
    start_stack,
)

# These tests start (and stop) the local servers themselves.
pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    started = start_stack(tmp_path_factory.mktemp("own-stack"))
    yield started
    started.stop()


def test_env_points_the_app_at_the_stack(running: Stack) -> None:
    ports = [running.cosmos_port, running.blob_port, running.queue_port, running.table_port]
    assert len(set(ports)) == 4
    assert all(port_in_use(port) for port in ports)
    connection = running.storage_connection_string
    assert running.env() == {
        "DPP_ENVIRONMENT": "local",
        "COSMOS_ENDPOINT": f"http://127.0.0.1:{running.cosmos_port}",
        "COSMOS_KEY": COSMOS_EMULATOR_KEY,
        "COSMOS_VERIFY_TLS": "false",
        "AzureWebJobsStorage": connection,
    }
    assert connection.startswith("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;")
    assert f"AccountKey={AZURITE_KEY};" in connection
    assert f"BlobEndpoint=http://127.0.0.1:{running.blob_port}/devstoreaccount1;" in connection
    assert f"QueueEndpoint=http://127.0.0.1:{running.queue_port}/devstoreaccount1;" in connection
    assert f"TableEndpoint=http://127.0.0.1:{running.table_port}/devstoreaccount1;" in connection


def test_cosmos_round_trip(running: Stack) -> None:
    from azure.cosmos import CosmosClient, PartitionKey
    from azure.cosmos.exceptions import CosmosResourceNotFoundError

    client = CosmosClient(
        running.cosmos_endpoint, COSMOS_EMULATOR_KEY, enable_endpoint_discovery=False, connection_verify=False
    )
    database = client.create_database(f"db-{uuid.uuid4().hex[:8]}")
    container = database.create_container("passports", partition_key=PartitionKey(path="/pk"))
    item = {"id": "urn:x:1", "pk": "urn:x:1", "nameplate": {"ManufacturerName": "ACME"}}
    container.create_item(item)
    stored = container.read_item("urn:x:1", partition_key="urn:x:1")
    assert {key: stored[key] for key in item} == item
    assert stored["_etag"]
    # Real Cosmos DB answers 404 here; the launcher's fix makes the local server do the same.
    with pytest.raises(CosmosResourceNotFoundError):
        container.read_item("missing", partition_key="missing")


def test_blob_round_trip(running: Stack) -> None:
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(running.storage_connection_string)
    container = service.create_container(f"c-{uuid.uuid4().hex[:8]}")
    payload = bytes(range(256)) * 64
    container.upload_blob("passports/urn-x-1.json", payload, overwrite=True)
    assert container.download_blob("passports/urn-x-1.json").readall() == payload
    assert [blob.name for blob in container.list_blobs()] == ["passports/urn-x-1.json"]


def test_logs_and_data_land_in_the_data_dir(running: Stack) -> None:
    assert (running.data_dir / "cosmosdb-server.log").exists()
    assert (running.data_dir / "azurite.log").exists()
    assert (running.data_dir / "azurite").is_dir()


def test_stop_frees_every_port_and_is_idempotent(tmp_path: Path) -> None:
    with start_stack(tmp_path) as started:
        ports = [started.cosmos_port, started.blob_port, started.queue_port, started.table_port]
        processes = list(started.processes)
        assert all(port_in_use(port) for port in ports)
    assert all(process.poll() is not None for process in processes)
    assert not any(port_in_use(port) for port in ports)
    started.stop()  # a second stop is harmless
    assert started.processes == []
    # Freed for real: a new stack can listen on exactly the same ports.
    with start_stack(tmp_path / "again", *ports) as again:
        assert [again.cosmos_port, again.blob_port, again.queue_port, again.table_port] == ports
        assert all(port_in_use(port) for port in ports)


def test_taken_port_fails_clearly_before_starting_anything(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(StackError, match=rf"already in use.*{port}"):
            start_stack(tmp_path, cosmos_port=port)
    assert not (tmp_path / "cosmosdb-server.log").exists()


def test_missing_node_modules_says_to_run_npm_ci(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stack_module, "NODE_BIN", tmp_path / "node_modules" / ".bin")
    with pytest.raises(StackError, match="npm ci"):
        start_stack(tmp_path / "data")
