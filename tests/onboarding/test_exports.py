"""JSON export: jobs, progress, downloads, access, and a round trip into an empty store."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from local.run import assign_namespaces as assign
from tests.support.documents import enc, make_passport, namespace
from tests.support.presentations import verified
from tests.support.results import assert_result


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


INTEGRITY = ("contentHash", "signature")
ENVELOPE = ("dppLifecycle", "dppArtifacts", "dppAccessPolicy")
# A passport's own access policy: its nameplate for authorities only.
OWN_POLICY = {"sections": {"nameplate": ["authority"]}}


def document_of(line: dict[str, Any]) -> dict[str, Any]:
    """An export line without the envelope members and the integrity members: the document."""
    return {key: value for key, value in line.items() if key not in (*ENVELOPE, *INTEGRITY)}


def b64url_sha256(data: bytes) -> str:
    return "sha256-" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def independent_hash(document: dict[str, Any]) -> str:
    # JCS equals sorted, compact JSON for these documents (RFC 8785 section 3.2.3).
    return b64url_sha256(
        json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    )


def jwt_digest(presentation: str) -> str:
    """The digest of the issuer-signed JWT a presentation starts with (what versionDigest names)."""
    return b64url_sha256(presentation.split("~", maxsplit=1)[0].encode("ascii"))


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
    """Each line: the current document as the owner reads it, its envelope members under the names
    a write body takes (artifacts and own policy only where there are some), its contentHash and
    the complete presentation of that version."""
    name, headers = operator
    made = make_some(api, http, name, headers, 3)
    first, guarded, documented = (item["digitalProductPassportId"] for item in made)
    http.patch(f"{api}/v1/dpps/{enc(first)}", json={"nameplate": {"ManufacturerName": "v2"}}, headers=headers)
    policy_set = http.put(f"{api}/v1/dpps/{enc(guarded)}/accessPolicy", json=OWN_POLICY, headers=headers)
    assert policy_set.status_code == 200, policy_set.text
    upload = http.put(
        f"{api}/v1/dpps/{enc(documented)}/artifacts/repair",
        data=b"%PDF-1.7 manual",
        headers={**headers, "Content-Type": "application/pdf"},
    )
    assert upload.status_code == 201, upload.text
    gone = make_some(api, http, name, headers, 1)[0]["digitalProductPassportId"]
    assert http.delete(f"{api}/v1/dpps/{enc(gone)}", headers=headers).status_code == 204
    job = export(api, http, headers)
    assert (job["state"], job["total"], job["exported"]) == ("done", 3, 3)
    assert "history" not in job["downloads"]
    exported = {
        line["digitalProductPassportId"]: line for line in lines(http.get(job["downloads"]["passports"]).text)
    }
    assert sorted(exported) == sorted([first, guarded, documented])
    assert {dpp_id: [m for m in ENVELOPE if m in line] for dpp_id, line in exported.items()} == {
        first: ["dppLifecycle"],
        guarded: ["dppLifecycle", "dppAccessPolicy"],
        documented: ["dppLifecycle", "dppArtifacts"],
    }

    keys = http.get(f"{api}/v1/keys").json()
    for dpp_id, line in exported.items():
        url = f"{api}/v1/dpps/{enc(dpp_id)}"
        current = http.get(url, headers=headers).json()  # the owner's complete view
        lifecycle = http.get(f"{url}/lifecycle", headers=headers).json()
        artifacts = http.get(f"{url}/artifacts", headers=headers).json()["artifacts"]
        own_policy = http.get(f"{url}/accessPolicy", headers=headers).json()["accessPolicy"]
        document = {key: value for key, value in current.items() if key not in INTEGRITY}
        envelope: dict[str, Any] = {"dppLifecycle": lifecycle["lifecycle"]}
        if artifacts:
            envelope["dppArtifacts"] = artifacts
        if own_policy is not None:
            envelope["dppAccessPolicy"] = own_policy
        assert document_of(line) == document
        assert list(line) == [*document, *envelope, *INTEGRITY]
        assert {key: line[key] for key in envelope} == envelope
        assert line["contentHash"] == current["contentHash"] == independent_hash(document)
        # the signature discloses everything the line holds, as the current version's issuer signed it
        claims = verified(line["signature"], keys)
        assert claims["document"] == document
        signed = claims["dpp"]
        assert (signed["id"], signed["version"]) == (dpp_id, lifecycle["version"])
        assert signed["lifecycle"] == lifecycle["lifecycle"]
        assert signed["artifacts"] == artifacts
        assert signed.get("accessPolicy") == own_policy
    assert exported[guarded]["dppAccessPolicy"] == OWN_POLICY
    assert set(exported[documented]["dppArtifacts"]) == {"repair"}


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
    keys = http.get(f"{api}/v1/keys").json()
    for record in records:
        # the service verifies each record's presentation and digest ...
        body = {"signature": record["signature"], "contentHash": record["contentHash"]}
        checked = http.post(f"{api}/v1/verify", json=body).json()
        assert (checked["valid"], checked["failedChecks"]) == (True, []), checked
        # ... and so does anyone with the published keys: it signs exactly what the record holds
        claims = verified(record["signature"], keys)
        assert claims["document"] == record["document"]
        assert record["contentHash"] == independent_hash(record["document"])
        signed = claims["dpp"]
        assert (signed["id"], signed["version"], signed["operation"], signed["previousDigest"]) == (
            record["dppId"],
            record["version"],
            record["operation"],
            record["previousDigest"],
        )
        assert (signed["lifecycle"], signed["artifacts"], signed.get("accessPolicy")) == (
            record["lifecycle"],
            record["artifacts"],
            record["accessPolicy"],
        )
        assert record["versionDigest"] == jwt_digest(record["signature"])
    # the versions chain up: each names its predecessor's digest
    assert records[0]["previousDigest"] is None
    assert records[1]["previousDigest"] == records[0]["versionDigest"]
    assert records[1]["document"]["nameplate"]["ManufacturerName"] == "v2"
    stored = http.get(f"{api}/v1/dpps/{enc(dpp_id)}/history", headers=headers).json()["versions"]
    assert [r["versionDigest"] for r in records] == [v["versionDigest"] for v in stored]


def test_export_refusals(export, api, http, auth, token, operator):
    assert_result(http.post(f"{api}/v1/exports", json={}), 401, "AuthenticationRequired")
    assert_result(
        http.post(f"{api}/v1/exports", json={}, headers=bearer(token("authority"))), 403, "RoleRequired"
    )
    bad = http.post(f"{api}/v1/exports", json={"history": "yes"}, headers=auth)
    assert (bad.status_code, bad.json()["messages"][0]["code"]) == (400, "InvalidExport")
    _, headers = operator
    job = export(api, http, headers)
    url = f"{api}/v1/exports/{job['exportId']}"
    assert_result(http.get(url, headers=auth), 404, "ExportNotFound")  # another operator
    assert_result(http.get(url), 404, "ExportNotFound")
    assert http.get(url, headers=bearer(token("authority", operator=None))).status_code == 200


def test_export_then_import_into_an_empty_store_round_trips_every_document(api, http, operator, export, root):
    """The export file, imported into a new, empty database, yields the same documents, labels and
    own access policies (apart from what every deployment writes itself: lastUpdate, the integrity
    members, the lifecycle's link to the label it superseded, artifact references into its own
    storage)."""
    from shared.composition import Root

    name, headers = operator
    made = make_some(api, http, name, headers, 4)
    relabelled = made[1]["digitalProductPassportId"]
    guarded = made[2]["digitalProductPassportId"]
    published = http.post(
        f"{api}/v1/dpps/{enc(relabelled)}/publish", json={"versionLabel": "2026.2"}, headers=headers
    )
    assert published.status_code == 200, published.text
    policy_set = http.put(f"{api}/v1/dpps/{enc(guarded)}/accessPolicy", json=OWN_POLICY, headers=headers)
    assert policy_set.status_code == 200, policy_set.text
    # An artifact reference points into this deployment's storage: exported, but not taken over.
    documented = made[3]["digitalProductPassportId"]
    upload = http.put(
        f"{api}/v1/dpps/{enc(documented)}/artifacts/repair",
        data=b"%PDF-1.7 manual",
        headers={**headers, "Content-Type": "application/pdf"},
    )
    assert upload.status_code == 201, upload.text
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

    def without_last_update(document: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in document.items() if key != "lastUpdate"}

    # The label, validity and status travel; `supersedes` points into the old history.
    travelling = ("versionLabel", "validFrom", "validTo", "status")
    exported = lines(data.decode())
    assert sorted(line["digitalProductPassportId"] for line in exported) == sorted(
        item["digitalProductPassportId"] for item in made
    )
    assert [line["digitalProductPassportId"] for line in exported if "dppArtifacts" in line] == [documented]
    for line in exported:
        head = other.service.read(line["digitalProductPassportId"])
        assert without_last_update(head["document"]) == without_last_update(document_of(line))
        assert {k: head["lifecycle"][k] for k in travelling} == {
            k: line["dppLifecycle"][k] for k in travelling
        }
        assert head["label"] == line["dppLifecycle"]["versionLabel"]
        assert head.get("accessPolicy") == line.get("dppAccessPolicy")
        assert head["artifacts"] == {}
    assert other.service.read(relabelled)["lifecycle"]["versionLabel"] == "2026.2"
    assert other.service.read(guarded)["accessPolicy"] == OWN_POLICY
