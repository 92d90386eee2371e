"""No job left hanging (issue 14): a killed import, an abandoned export and one that never
started are taken over by the sweeper; a job every worker died on is failed with its reason."""

from __future__ import annotations

import contextlib
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.onboarding.imports import LEASE, MAX_DELIVERIES
from shared.onboarding.jobs import load_job, save_job
from shared.platform.clock import format_ts
from tests.onboarding.test_imports import (
    documents,
    importer,
    jsonl,
    passport,
    status,
    upload,
)
from tests.support.documents import OWNER


class _DiesMidway(io.RawIOBase):
    """An upload stream that breaks after its first bytes: the worker reading it dies."""

    def __init__(self, data: bytes):
        self.data = data
        self.read_once = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.read_once:
            raise ConnectionResetError("the host was recycled")
        self.read_once = True
        return self.data[: len(self.data) // 2]


def _sweeper(root: Any, moment: datetime) -> Any:
    from shared.onboarding.sweeper import JobSweeper

    return JobSweeper(root.store, importer(root, clock=lambda: moment), root.exports, clock=lambda: moment)


def test_a_killed_import_is_taken_over_after_its_lease_and_finishes(api, http, auth, root, new_import):
    items = documents(4)
    data = jsonl(items)
    grant = new_import("passports.jsonl")
    upload(http, grant, data)
    blob = grant["importId"] + "/" + grant["fileName"]
    with contextlib.suppress(ConnectionResetError):
        root.imports.run(blob, _DiesMidway(data))
    stuck = status(http, api, auth, grant["importId"])
    assert stuck["state"] == "running"
    job = load_job(root.store, grant["importId"], "import")
    assert job is not None and "ConnectionResetError" in job["lastError"]
    # While the lease holds nothing happens; after it, the sweeper hands the job back.
    assert _sweeper(root, datetime.now(UTC)).sweep().get("done", 0) == 0
    counts = _sweeper(root, datetime.now(UTC) + LEASE + timedelta(seconds=1)).sweep()
    assert counts.get("done", 0) >= 1
    finished = status(http, api, auth, grant["importId"])
    assert (finished["state"], finished["failed"]) == ("done", 0)
    assert all(passport(http, api, item["uniqueProductIdentifier"]) for item in items)


def test_an_import_every_worker_died_on_is_failed_with_the_reason_in_its_report(
    api, http, auth, root, new_import
):
    grant = new_import("passports.jsonl")
    upload(http, grant, jsonl(documents(1)))
    job = load_job(root.store, grant["importId"], "import")
    assert job is not None
    expired = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    save_job(
        root.store,
        job,
        format_ts(datetime.now(UTC)),
        state="running",
        leaseUntil=expired,
        deliveries=MAX_DELIVERIES,
        lastError="MemoryError: out of memory",
    )
    _sweeper(root, datetime.now(UTC)).sweep()
    failed = status(http, api, auth, grant["importId"])
    assert failed["state"] == "failed" and "Abandoned after 3 attempts" in failed["reason"]
    assert "MemoryError" in failed["reason"]
    report = http.get(failed["report"]["json"]).json()
    assert report["state"] == "failed" and "Abandoned" in report["reason"]


def _operator_headers(token: Any, namespaced: Any) -> tuple[str, dict[str, str]]:
    import uuid

    name = namespaced(f"did:example:sweeper:{uuid.uuid4().hex[:8]}")
    return name, {"Authorization": f"Bearer {token('operator', operator=name)}"}


def test_an_export_that_never_started_or_whose_worker_died_is_run_by_the_sweeper(
    api, http, root, token, namespaced
):
    from tests.support.documents import make_passport

    name, headers = _operator_headers(token, namespaced)
    assert (
        http.post(f"{api}/v1/dpps", json=make_passport(economicOperatorId=name), headers=headers).status_code
        == 201
    )
    never = http.post(f"{api}/v1/exports", json={}, headers=headers).json()  # its trigger is lost
    died = http.post(f"{api}/v1/exports", json={}, headers=headers).json()
    job = load_job(root.store, died["exportId"], "export")
    assert job is not None
    expired = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    save_job(root.store, job, format_ts(datetime.now(UTC)), state="running", leaseUntil=expired, deliveries=1)
    _sweeper(root, datetime.now(UTC) + timedelta(minutes=6)).sweep()
    for export in (never, died):
        done = http.get(export["statusUrl"], headers=headers).json()
        assert done["state"] == "done", done
        exported = http.get(done["downloads"]["passports"]).text
        assert [json.loads(line)["economicOperatorId"] for line in exported.splitlines()] == [name]
    assert name != OWNER


def test_an_import_that_meets_a_storage_outage_waits_it_out_and_finishes(
    api, http, auth, root, new_import, monkeypatch
):
    """bench/load.py's fault run: Azurite stopped for 10 s while an import wrote its report left the
    import `running` until the sweeper (up to ten minutes); the worker now goes on by itself."""
    import shared.onboarding.imports as imports_module
    from shared.platform.errors import ErrorCode, ServiceUnavailable

    items = documents(3)
    data = jsonl(items)
    grant = new_import("passports.jsonl")
    upload(http, grant, data)
    worker = importer(root)
    monkeypatch.setattr(imports_module, "OUTAGE_WAITS", (0.0, 0.0))
    write_report, written = worker._write_stream, []

    def storage_down_once(name: str, *args: Any) -> None:
        written.append(name)
        if len(written) == 1:
            raise ServiceUnavailable("down", code=ErrorCode.STORAGE_UNAVAILABLE, headers={"Retry-After": "5"})
        write_report(name, *args)

    monkeypatch.setattr(worker, "_write_stream", storage_down_once)
    blob = grant["importId"] + "/" + grant["fileName"]
    assert worker.run(blob, io.BytesIO(data)) == "done"
    finished = status(http, api, auth, grant["importId"])
    assert (finished["state"], finished["created"], finished["failed"]) == ("done", 3, 0)
    assert written == [f"{blob}.json", f"{blob}.json"]  # the report, again once storage was back
    assert http.get(finished["report"]["json"]).json()["state"] == "done"
    assert all(passport(http, api, item["uniqueProductIdentifier"]) for item in items)
