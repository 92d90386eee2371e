"""JSON export: jobs, progress, downloads, access, and a round trip into an empty store."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from local.run import assign_namespaces as assign
from tests.support.documents import enc, make_passport, namespace


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture
def operator(api, http, token, namespaced) -> tuple[str, dict[str, str]]:
    """A fresh economic operator, so an export holds exactly this test's passports."""
    name = namespaced(f"did:example:exporter:{uuid.uuid4().hex[:8]}")
    return name, bearer(token("operator", operator=name))


@pytest.fixture
def export(root: Any) -> Callable[..., dict[str, Any]]:
    """Request an export through the API, run it as its blob trigger would, and read the result."""

    def run(api: str, http: Any, headers: dict[str, str], body: Any = None) -> dict[str, Any]:
        return _export(root, api, http, headers, body)

    return run


def _export(root: Any, api: str, http: Any, headers: dict[str, str], body: Any) -> dict[str, Any]:
    response = http.post(f"{api}/v1/exports", json=body, headers=headers)
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["state"] == "queued"
    assert response.headers["Location"] == job["statusUrl"]
    # What the blob trigger does when the request blob lands (the trigger is tested elsewhere).
    assert root.exports.run(f"requests/{job['exportId']}.json") == "done"
    done = http.get(job["statusUrl"], headers=headers)
    assert done.status_code == 200, done.text
    return done.json()


def make_some(api, http, name: str, headers: dict[str, str], n: int) -> list[dict[str, Any]]:
    made = []
    for _ in range(n):
        document = make_passport(economicOperatorId=name)
        assert http.post(f"{api}/v1/dpps", json=document, headers=headers).status_code == 201
        made.append(document)
    return made


def test_export_holds_every_current_passport_of_the_operator_and_nothing_else(
    export, api, http, auth, operator
):
    name, headers = operator
    made = make_some(api, http, name, headers, 3)
    first = made[0]["digitalProductPassportId"]
    http.patch(f"{api}/v1/dpps/{enc(first)}", json={"nameplate": {"ManufacturerName": "v2"}}, headers=headers)
    gone = make_some(api, http, name, headers, 1)[0]["digitalProductPassportId"]
    assert http.delete(f"{api}/v1/dpps/{enc(gone)}", headers=headers).status_code == 204
    job = export(api, http, headers)
    assert (job["state"], job["total"], job["exported"]) == ("done", 3, 3)
    exported = lines(http.get(job["downloads"]["passports"]).text)
    current = {
        item["digitalProductPassportId"]: http.get(
            f"{api}/v1/dpps/{enc(item['digitalProductPassportId'])}"
        ).json()
        for item in made
    }
    assert {doc["digitalProductPassportId"]: doc for doc in exported} == current
    assert "history" not in job["downloads"]


def test_export_with_history_carries_every_signed_version(export, api, http, operator):
    name, headers = operator
    [document] = make_some(api, http, name, headers, 1)
    dpp_id = document["digitalProductPassportId"]
    http.patch(
        f"{api}/v1/dpps/{enc(dpp_id)}", json={"nameplate": {"ManufacturerName": "v2"}}, headers=headers
    )
    job = export(api, http, headers, {"history": True})
    records = lines(http.get(job["downloads"]["history"]).text)
    assert [(r["dppId"], r["version"], r["operation"]) for r in records] == [
        (dpp_id, 1, "create"),
        (dpp_id, 2, "update"),
    ]
    for record in records:
        checked = http.post(f"{api}/v1/verify", json=record["document"]).json()
        assert checked["valid"] is True
        assert record["contentHash"] == record["document"]["contentHash"]
    assert records[1]["previousHash"] == records[0]["contentHash"]


def test_export_refusals(export, api, http, auth, token, operator):
    assert http.post(f"{api}/v1/exports", json={}).status_code == 401
    assert http.post(f"{api}/v1/exports", json={}, headers=bearer(token("authority"))).status_code == 403
    bad = http.post(f"{api}/v1/exports", json={"history": "yes"}, headers=auth)
    assert (bad.status_code, bad.json()["messages"][0]["code"]) == (400, "InvalidExport")
    _, headers = operator
    job = export(api, http, headers)
    url = f"{api}/v1/exports/{job['exportId']}"
    assert http.get(url, headers=auth).status_code == 404  # another operator
    assert http.get(url).status_code == 404
    assert http.get(url, headers=bearer(token("authority", operator=None))).status_code == 200


def test_export_then_import_into_an_empty_store_round_trips_every_document(api, http, operator, export, root):
    """The export file, imported into a new, empty database, yields the same documents (apart from
    what every deployment writes itself: lastUpdate, the integrity fields, the lifecycle's link to
    the label it superseded)."""
    from shared.composition import Root

    name, headers = operator
    made = make_some(api, http, name, headers, 4)
    relabelled = made[1]["digitalProductPassportId"]
    http.post(f"{api}/v1/dpps/{enc(relabelled)}/publish", json={"versionLabel": "2026.2"}, headers=headers)
    job = export(api, http, headers)
    data = http.get(job["downloads"]["passports"]).content

    # Another deployment: its own database (and its own root), the same blob account and key.
    other = Root(replace(root.settings, cosmos_database=f"roundtrip-{uuid.uuid4().hex[:8]}"))
    from shared.access.authentication import Principal
    from shared.access.roles import OPERATOR
    from shared.onboarding.imports import IMPORTS_CONTAINER

    owner = Principal("round-trip", frozenset({OPERATOR}), name)
    assign(other, name, [namespace(name)])  # the other deployment's registry knows the operator too
    job_record = other.imports.grant({"fileName": "export.jsonl"}, owner)
    other.blobs.container(IMPORTS_CONTAINER).upload_blob(job_record["blobName"], data)
    assert other.imports.run(job_record["blobName"]) == "done"
    imported = other.store.read("jobs", "job", job_record["jobId"])
    assert (imported["created"], imported["failed"]) == (4, 0)

    def comparable(document: dict[str, Any]) -> dict[str, Any]:
        kept = {k: v for k, v in document.items() if k not in ("lastUpdate", "contentHash", "signature")}
        # The label, validity and status travel; `supersedes` points into the old history.
        kept["dppLifecycle"] = {
            k: document["dppLifecycle"][k] for k in ("versionLabel", "validFrom", "validTo", "status")
        }
        return kept

    exported = lines(data.decode())
    assert len(exported) == 4
    for line in exported:
        assert comparable(other.service.read(line["digitalProductPassportId"])["document"]) == comparable(
            line
        )
    assert other.service.read(relabelled)["document"]["dppLifecycle"]["versionLabel"] == "2026.2"
