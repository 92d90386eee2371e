"""Blob triggers in the local Functions host, against the session's Azurite.

Each test builds a tiny FunctionApp whose blob-triggered functions record what they received,
on a container of its own, and drives the host synchronously (`scan_once()`) where it counts
calls, or lets the background poller run where that is the point (waiting with a generous
deadline, never asserting on timing)."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest
import requests
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobServiceClient, ContainerClient, ContentSettings

from local.host.blob_triggers import (
    BLOB_MAX_ATTEMPTS,
    FAILED,
    POISONED,
    SUCCEEDED,
    BlobTriggers,
    deliver_new_blobs,
    parse_blob_path,
    resolve_storage_connection,
)
from local.host.cli import cli_server
from local.host.server import LocalHTTPServer, make_server, start_in_thread

REPO = Path(__file__).resolve().parents[3]
DEADLINE = 30.0  # generous: a wait for something that should happen within a second or two
CONNECTION = "LocalHostBlobTestStorage"  # the app setting the toy apps name; Azurite's string
ANONYMOUS = func.AuthLevel.ANONYMOUS
FAST_POLL = 0.05


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def storage(stack: Any, monkeypatch: pytest.MonkeyPatch) -> BlobServiceClient:
    """A client of the session's Azurite; the toy apps' connection setting points there too."""
    monkeypatch.setenv(CONNECTION, stack.storage_connection_string)
    return BlobServiceClient.from_connection_string(stack.storage_connection_string)


@pytest.fixture
def container(storage: BlobServiceClient) -> Iterator[ContainerClient]:
    """A container name of its own (not created: the host creates it when missing)."""
    client = storage.get_container_client(f"in{uuid.uuid4().hex[:8]}")
    yield client
    with contextlib.suppress(ResourceNotFoundError):
        client.delete_container()


def upload(container: ContainerClient, name: str, data: bytes, **options: Any) -> str:
    """Upload (overwriting; creating the container if need be) and return the new ETag."""
    with contextlib.suppress(ResourceExistsError):
        container.create_container()
    result = container.get_blob_client(name).upload_blob(data, overwrite=True, **options)
    return result["etag"]


@dataclass(frozen=True)
class Received:
    name: str | None
    data: bytes
    length: int | None
    uri: str | None
    metadata: dict[str, str] | None
    properties: dict[str, Any] | None

    @classmethod
    def of(cls, stream: func.InputStream) -> Received:
        return cls(
            stream.name, stream.read(), stream.length, stream.uri, stream.metadata, stream.blob_properties
        )


class Recorder:
    """A toy app: `ping` over HTTP, and a blob trigger on `path` that records every call and
    raises for blobs whose name `failing` accepts."""

    def __init__(self, path: str, failing: Callable[[str], bool] = lambda name: False) -> None:
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.failing = failing
        self.app = func.FunctionApp(http_auth_level=ANONYMOUS)

        @self.app.route(route="ping", methods=["GET"])
        def ping(req: func.HttpRequest) -> func.HttpResponse:
            return func.HttpResponse("pong")

        @self.app.blob_trigger(
            arg_name="upload", path=path, connection=CONNECTION, source=func.BlobSource.EVENT_GRID
        )
        def on_upload(upload: func.InputStream) -> None:
            self.record(upload)

    def record(self, upload: func.InputStream) -> None:
        with self.lock:
            self.received.append(Received.of(upload))
        if upload.name is not None and self.failing(upload.name):
            raise RuntimeError(f"cannot import {upload.name}")

    def names(self) -> list[str | None]:
        with self.lock:
            return [received.name for received in self.received]


def blob_server(app: func.FunctionApp) -> tuple[LocalHTTPServer, BlobTriggers]:
    """A host with blob triggers watched but not polling: the test drives `scan_once()`."""
    server = make_server(app, blob_triggers=True)
    assert server.blob_triggers is not None
    assert server.blob_triggers.errors == {}
    return server, server.blob_triggers


# -- paths and connections -------------------------------------------------------------------


def test_blob_paths_list_their_literal_prefix_and_match_the_whole_name() -> None:
    requests_path = parse_blob_path("imports/requests/{name}")
    assert (requests_path.container, requests_path.prefix) == ("imports", "requests/")
    assert requests_path.matches("requests/a.json")
    assert requests_path.matches("requests/deep/b.json")  # {name} takes slashes too
    assert not requests_path.matches("requestsX/a.json")
    assert not requests_path.matches("other/requests/a.json")
    assert not requests_path.matches("Requests/a.json")  # blob names are case-sensitive

    suffixed = parse_blob_path("c/{name}.json")
    assert suffixed.prefix == ""
    assert suffixed.matches("a.json")
    assert suffixed.matches("x/y.json")
    assert not suffixed.matches("a.jsonl")

    braces = parse_blob_path("c/{{v1}}/{name}")
    assert braces.prefix == "{v1}/"
    assert braces.matches("{v1}/a")
    assert not braces.matches("v1/a")

    literal = parse_blob_path("c/exact.txt")
    assert (literal.prefix, literal.matches("exact.txt"), literal.matches("exact.txt2")) == (
        "exact.txt",
        True,
        False,
    )


@pytest.mark.parametrize(
    ("path", "complaint"),
    [
        ("imports", "needs the form"),
        ("imports/", "needs the form"),
        ("/{name}", "needs the form"),
        ("{c}/{name}", "container name must be literal"),
        ("c/{name.ext}", "only {name} parameters"),
        ("c/{name}/{name}", "appears twice"),
        ("c/a}b", "single }"),
    ],
)
def test_unsupported_blob_paths_are_refused(path: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=re.escape(complaint)):
        parse_blob_path(path)


def test_connections_resolve_as_in_functions() -> None:
    direct = resolve_storage_connection("Mine", {"Mine": "UseDevelopmentStorage=true"})
    assert (direct.setting, direct.connection_string) == ("Mine", "UseDevelopmentStorage=true")
    # The AzureWebJobs prefix may be left out, and an empty connection is AzureWebJobsStorage.
    prefixed = resolve_storage_connection("Storage", {"AzureWebJobsStorage": "cs"})
    assert (prefixed.setting, prefixed.connection_string) == ("AzureWebJobsStorage", "cs")
    assert resolve_storage_connection("", {"AzureWebJobsStorage": "cs"}).setting == "AzureWebJobsStorage"
    identity = resolve_storage_connection(
        "AzureWebJobsStorage",
        {
            "AzureWebJobsStorage__blobServiceUri": "https://acct.blob.core.windows.net",
            "AzureWebJobsStorage__clientId": "client-1",
        },
    )
    assert (identity.connection_string, identity.service_uri, identity.client_id) == (
        None,
        "https://acct.blob.core.windows.net",
        "client-1",
    )
    with pytest.raises(ValueError, match="AzureWebJobsStorage__blobServiceUri"):
        resolve_storage_connection("AzureWebJobsStorage", {})


# -- delivery --------------------------------------------------------------------------------


def test_an_upload_is_delivered_once_with_its_bytes_name_metadata_and_properties(
    container: ContainerClient,
) -> None:
    subject = Recorder(f"{container.container_name}/{{name}}")
    server, blobs = blob_server(subject.app)
    try:
        assert not container.exists()
        assert blobs.scan_once() == []  # an empty container: nothing to deliver
        assert container.exists()  # ...but created, as Azurite starts empty

        data = b'{"rows": [1, 2, 3]}\n\x00\xff binary too'
        etag = upload(
            container,
            "batch 1/doc.json",
            data,
            metadata={"uploadedBy": "alice", "batch": "7"},
            content_settings=ContentSettings(content_type="application/json"),
        )
        blob = f"{container.container_name}/batch 1/doc.json"
        assert blobs.scan_once() == [blob]

        [received] = subject.received
        assert received.name == blob
        assert received.data == data
        assert received.length == len(data)
        assert received.metadata == {"uploadedBy": "alice", "batch": "7"}
        assert received.uri == container.get_blob_client("batch 1/doc.json").url
        assert received.uri is not None and received.uri.endswith("/batch%201/doc.json")
        properties = received.properties
        assert properties is not None
        assert properties["ContentType"] == "application/json"
        assert properties["ContentLength"] == len(data)
        assert properties["ETag"] == etag
        assert properties["BlobType"] == "BlockBlob"
        assert isinstance(datetime.fromisoformat(properties["LastModified"]), datetime)

        assert [(d.blob, d.attempt, d.outcome) for d in blobs.deliveries] == [(blob, 1, SUCCEEDED)]
        # Nothing new: nothing delivered, however often the host looks.
        assert blobs.scan_once() == []
        assert blobs.scan_once() == []
        assert len(subject.received) == 1
        assert blobs.scans == 4
    finally:
        server.server_close()


def test_a_new_etag_delivers_the_blob_again(container: ContainerClient) -> None:
    subject = Recorder(f"{container.container_name}/{{name}}")
    server, blobs = blob_server(subject.app)
    blob = f"{container.container_name}/report.csv"
    try:
        first = upload(container, "report.csv", b"v1")
        assert blobs.scan_once() == [blob]
        second = upload(container, "report.csv", b"v2")  # a re-upload: same name, new ETag
        assert second != first
        assert blobs.scan_once() == [blob]
        assert [received.data for received in subject.received] == [b"v1", b"v2"]
        assert blobs.scan_once() == []
        # Any change of ETag counts, a metadata change included (Event Grid would not fire).
        container.get_blob_client("report.csv").set_blob_metadata({"checked": "yes"})
        assert blobs.scan_once() == [blob]
        assert subject.received[-1].metadata == {"checked": "yes"}
        assert [d.etag for d in blobs.deliveries][:2] == [first.strip('"'), second.strip('"')]
    finally:
        server.server_close()


def test_a_prefix_pattern_only_delivers_matching_blobs(container: ContainerClient) -> None:
    name = container.container_name
    subject = Recorder(f"{name}/requests/{{name}}")
    csv_calls: list[str | None] = []

    @subject.app.blob_trigger(arg_name="sheet", path=f"{name}/{{name}}.csv", connection=CONNECTION)
    def on_csv(sheet: func.InputStream) -> None:  # a second trigger on the same container
        csv_calls.append(sheet.name)

    server, blobs = blob_server(subject.app)
    try:
        assert [watch.path.prefix for watch in blobs.watches] == ["requests/", ""]
        for blob_name in (
            "requests/a.json",
            "requests/deep/b.csv",
            "requestsX.json",
            "other/requests/c.json",
        ):
            upload(container, blob_name, blob_name.encode())
        delivered = blobs.scan_once()
        assert sorted(delivered) == sorted(
            [f"{name}/requests/a.json", f"{name}/requests/deep/b.csv", f"{name}/requests/deep/b.csv"]
        )
        assert sorted(subject.names()) == [f"{name}/requests/a.json", f"{name}/requests/deep/b.csv"]
        assert csv_calls == [f"{name}/requests/deep/b.csv"]
        assert all(
            f"{name}/".encode() + received.data == received.name.encode() for received in subject.received
        )
    finally:
        server.server_close()


def test_blobs_present_before_the_host_starts_are_delivered_on_the_first_scan(
    container: ContainerClient,
) -> None:
    upload(container, "old-1.txt", b"one")
    upload(container, "old-2.txt", b"two")
    subject = Recorder(f"{container.container_name}/{{name}}")
    server, blobs = blob_server(subject.app)
    try:
        expected = [f"{container.container_name}/old-1.txt", f"{container.container_name}/old-2.txt"]
        assert sorted(blobs.scan_once()) == expected
        assert sorted(received.data for received in subject.received) == [b"one", b"two"]
        assert blobs.scan_once() == []
    finally:
        server.server_close()


def test_a_failing_function_is_retried_five_times_then_given_up_while_http_keeps_serving(
    container: ContainerClient, caplog: pytest.LogCaptureFixture
) -> None:
    fixed = threading.Event()
    subject = Recorder(
        f"{container.container_name}/{{name}}",
        failing=lambda name: name.endswith("bad.bin") and not fixed.is_set(),
    )
    server, blobs = blob_server(subject.app)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/api"
    bad = f"{container.container_name}/bad.bin"
    good = f"{container.container_name}/good.bin"
    try:
        upload(container, "bad.bin", b"broken")
        upload(container, "good.bin", b"fine")
        with caplog.at_level(logging.INFO, logger="local.host"):
            assert blobs.scan_once() == [good]  # a failure does not hold the other blobs up
            for _ in range(BLOB_MAX_ATTEMPTS - 1):
                assert requests.get(f"{base}/ping", timeout=10).text == "pong"
                assert blobs.scan_once() == []
            # Given up: later scans leave it alone.
            for _ in range(3):
                assert blobs.scan_once() == []
        bad_calls = [d for d in blobs.deliveries if d.blob == bad]
        assert [(d.attempt, d.outcome) for d in bad_calls] == [(n, FAILED) for n in range(1, 5)] + [
            (5, POISONED)
        ]
        assert subject.names().count(bad) == BLOB_MAX_ATTEMPTS
        assert subject.names().count(good) == 1
        failures = [r for r in caplog.records if r.exc_info and "cannot import" in str(r.exc_info[1])]
        assert len(failures) == BLOB_MAX_ATTEMPTS
        assert sum("retried on a later poll" in r.getMessage() for r in failures) == BLOB_MAX_ATTEMPTS - 1
        assert "poison" in failures[-1].getMessage()
        assert requests.get(f"{base}/ping", timeout=10).text == "pong"

        # A new version of the poison blob is a new blob, with attempts of its own.
        fixed.set()
        upload(container, "bad.bin", b"repaired")
        assert blobs.scan_once() == [bad]
        assert subject.received[-1].data == b"repaired"
        assert (blobs.deliveries[-1].attempt, blobs.deliveries[-1].outcome) == (1, SUCCEEDED)
    finally:
        server.shutdown()


def test_an_async_function_is_awaited(container: ContainerClient, storage: BlobServiceClient) -> None:
    calls: list[bytes] = []
    app = func.FunctionApp(http_auth_level=ANONYMOUS)

    @app.blob_trigger(arg_name="upload", path=f"{container.container_name}/{{name}}", connection=CONNECTION)
    async def on_upload(upload: func.InputStream) -> None:
        calls.append(upload.read())

    server, blobs = blob_server(app)
    try:
        blobs.scan_once()
        upload(container, "a", b"async")
        assert blobs.scan_once() == [f"{container.container_name}/a"]
        assert calls == [b"async"]
    finally:
        server.server_close()


# -- the background poller -------------------------------------------------------------------


def test_the_poller_delivers_without_being_asked_and_gives_failures_up(container: ContainerClient) -> None:
    subject = Recorder(f"{container.container_name}/{{name}}", failing=lambda name: name.endswith(".bad"))
    server, base = start_in_thread(subject.app, blob_triggers=True, blob_poll_seconds=FAST_POLL)
    blobs = server.blob_triggers
    good, bad = f"{container.container_name}/a.txt", f"{container.container_name}/b.bad"
    try:
        assert blobs is not None
        wait_for(container.exists, "the poller to create the container")
        upload(container, "a.txt", b"polled")
        upload(container, "b.bad", b"broken")
        wait_for(lambda: good in subject.names(), "the poller to deliver a.txt")
        assert requests.get(f"{base}/api/ping", timeout=10).text == "pong"
        wait_for(
            lambda: any(d.blob == bad and d.outcome == POISONED for d in blobs.deliveries),
            "the failing blob to be given up",
        )
        after = blobs.scans
        wait_for(lambda: blobs.scans >= after + 3, "three more polls")
        assert subject.names().count(bad) == BLOB_MAX_ATTEMPTS
        assert subject.names().count(good) == 1
        assert requests.get(f"{base}/api/ping", timeout=10).text == "pong"
    finally:
        server.shutdown()


def test_a_blob_is_never_processed_twice_at_once_and_two_are_processed_in_parallel(
    container: ContainerClient,
) -> None:
    release = threading.Event()
    running: list[str | None] = []
    most_at_once = 0
    subject = Recorder(f"{container.container_name}/{{name}}")
    app = func.FunctionApp(http_auth_level=ANONYMOUS)

    @app.blob_trigger(arg_name="upload", path=f"{container.container_name}/{{name}}", connection=CONNECTION)
    def slow(upload: func.InputStream) -> None:
        nonlocal most_at_once
        with subject.lock:
            running.append(upload.name)
            most_at_once = max(most_at_once, len(running))
        subject.record(upload)
        release.wait(DEADLINE)
        with subject.lock:
            running.remove(upload.name)

    for blob_name in ("1", "2", "3"):
        upload(container, blob_name, blob_name.encode())
    server, _ = start_in_thread(app, blob_triggers=True, blob_poll_seconds=FAST_POLL)
    blobs = server.blob_triggers
    try:
        assert blobs is not None
        wait_for(lambda: len(running) == 2, "two blobs in process")
        after = blobs.scans
        wait_for(lambda: blobs.scans >= after + 3, "three polls while both are in process")
        # The third waits for a worker; none is started twice while in process or queued.
        assert blobs.scan_once() == []
        assert len(subject.received) == 2
        release.set()
        wait_for(lambda: len([d for d in blobs.deliveries if d.outcome == SUCCEEDED]) == 3, "all three")
        after = blobs.scans
        wait_for(lambda: blobs.scans >= after + 3, "three polls after all were processed")
        assert sorted(subject.names()) == [f"{container.container_name}/{n}" for n in ("1", "2", "3")]
        assert most_at_once == 2
    finally:
        release.set()
        server.shutdown()


# -- configuration ---------------------------------------------------------------------------


def test_blob_triggers_are_off_unless_asked_for(container: ContainerClient) -> None:
    subject = Recorder(f"{container.container_name}/{{name}}")
    server, base = start_in_thread(subject.app)
    try:
        assert server.blob_triggers is None
        assert requests.get(f"{base}/api/ping", timeout=10).text == "pong"
    finally:
        server.shutdown()
    plain = make_server(subject.app)
    try:
        assert plain.blob_triggers is None
    finally:
        plain.server_close()


def test_a_trigger_that_cannot_run_is_in_error_and_the_others_run(container: ContainerClient) -> None:
    subject = Recorder(f"{container.container_name}/{{name}}")

    @subject.app.blob_trigger(arg_name="upload", path="elsewhere/{name}", connection="NoSuchSettingAnywhere")
    def unconfigured(upload: func.InputStream) -> None:
        return None

    @subject.app.blob_trigger(arg_name="upload", path="elsewhere/{name}", connection=CONNECTION)
    @subject.app.blob_output(arg_name="copy", path="copies/{name}", connection=CONNECTION)
    def copier(upload: func.InputStream, copy: func.Out[bytes]) -> None:
        return None

    server, base = start_in_thread(subject.app, blob_triggers=True, blob_poll_seconds=FAST_POLL)
    blobs = server.blob_triggers
    try:
        assert blobs is not None
        assert set(blobs.errors) == {"unconfigured", "copier"}
        assert "NoSuchSettingAnywhere" in blobs.errors["unconfigured"]
        assert "blob copy" in blobs.errors["copier"]
        assert [watch.function.name for watch in blobs.watches] == ["on_upload"]
        assert requests.get(f"{base}/api/ping", timeout=10).text == "pong"
        wait_for(container.exists, "the working trigger's container")
        upload(container, "x", b"x")
        wait_for(lambda: subject.names() == [f"{container.container_name}/x"], "the working trigger")
    finally:
        server.shutdown()
    with pytest.raises(ValueError, match=r"unconfigured: .*NoSuchSettingAnywhere"):
        deliver_new_blobs(subject.app)


def test_deliver_new_blobs_scans_once_with_a_fresh_registry(container: ContainerClient, stack: Any) -> None:
    class CountingApp(func.FunctionApp):
        calls = 0

        def get_functions(self) -> list[Any]:
            CountingApp.calls += 1
            return super().get_functions()

    received: list[bytes] = []
    app = CountingApp(http_auth_level=ANONYMOUS)
    connection = "OnlyInTheEnvGiven"

    @app.blob_trigger(arg_name="upload", path=f"{container.container_name}/{{name}}", connection=connection)
    def on_upload(upload: func.InputStream) -> None:
        received.append(upload.read())

    env = {connection: stack.storage_connection_string}
    assert connection not in os.environ
    assert deliver_new_blobs(app, env) == []
    upload(container, "n", b"new")
    assert deliver_new_blobs(app, env) == [f"{container.container_name}/n"]
    # A fresh registry each time: the blob is new to it again.
    assert deliver_new_blobs(app, env) == [f"{container.container_name}/n"]
    assert received == [b"new", b"new"]
    assert CountingApp.calls == 1  # a second get_functions() would raise in azure-functions 1.26


BLOB_APP = """
from pathlib import Path
import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

@app.route(route="ping", methods=["GET"])
def ping(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("pong")

@app.blob_trigger(arg_name="upload", path="{container}/incoming/{{name}}", connection="{connection}",
                  source=func.BlobSource.EVENT_GRID)
def on_upload(upload: func.InputStream) -> None:
    Path({marker!r}).write_bytes(upload.name.encode() + b"=" + upload.read())
"""


def write_blob_app(directory: Path, module: str, container: str, marker: Path) -> None:
    source = BLOB_APP.format(container=container, connection=CONNECTION, marker=str(marker))
    (directory / f"{module}.py").write_text(textwrap.dedent(source))


def test_cli_arguments_turn_blob_triggers_on_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, storage: BlobServiceClient
) -> None:
    module = f"cli_blob_app_{uuid.uuid4().hex[:8]}"
    write_blob_app(tmp_path, module, "unused", tmp_path / "marker")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        for argv, expected in (
            ([], 2.0),
            (["--blob-poll-seconds", "0.25"], 0.25),
            (["--no-blob-triggers"], None),
        ):
            server = cli_server(["--port", "0", "--app", f"{module}:app", *argv])
            try:
                blobs = server.blob_triggers
                assert (blobs.poll_seconds if blobs is not None else None) == expected, argv
                assert server.timer_runner is not None  # timers stay on
            finally:
                server.server_close()
        with pytest.raises(SystemExit):
            cli_server(["--port", "0", "--app", f"{module}:app", "--blob-poll-seconds", "0"])
    finally:
        sys.modules.pop(module, None)


@pytest.mark.parametrize("enabled", [True, False], ids=["default", "no-blob-triggers"])
def test_cli_host_delivers_blobs_unless_told_not_to(
    tmp_path: Path, storage: BlobServiceClient, container: ContainerClient, enabled: bool
) -> None:
    """`python -m local.host` (what `make run` uses without Core Tools) polls blob triggers."""
    marker = tmp_path / "delivered"
    write_blob_app(tmp_path, "blob_app", container.container_name, marker)
    upload(container, "incoming/before.txt", b"was there first")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)])}
    flags = [] if enabled else ["--no-blob-triggers"]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "local.host",
            "--port",
            "0",
            "--app",
            "blob_app:app",
            "--blob-poll-seconds",
            "0.1",
            *flags,
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = []
        while not (line := process.stdout.readline()).startswith("Serving"):
            assert line, "the host exited:\n" + "".join(lines)
            lines.append(line)
        found = re.fullmatch(r"Serving 1 routes at (http://127\.0\.0\.1:\d+/api)\n", line)
        assert found, line
        log_text = "".join(lines)
        if enabled:
            assert f"blob trigger on_upload: {container.container_name}/incoming/{{name}}" in log_text
            wait_for(marker.exists, "the CLI host to deliver the blob")
            assert (
                marker.read_bytes()
                == f"{container.container_name}/incoming/before.txt=was there first".encode()
            )
        else:
            assert "not served (no HTTP trigger, blob triggers off): on_upload" in log_text
            assert requests.get(f"{found[1]}/ping", timeout=10).text == "pong"
            assert not marker.exists()
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
