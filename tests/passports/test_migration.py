"""Versions stored before SD-JWT issuance are re-issued by the one-off migration, and only when
they verify under the old rules (detached JWS over the JCS document, chained by content hash)."""

from __future__ import annotations

import uuid
from typing import Any

from shared.integrity.signatures import Seal, sign_document
from shared.passports.migration import Migration, MigrationReport
from shared.storage.cosmos import PASSPORTS
from tests.support.documents import OWNER, enc, make_passport, namespace

POLICY = {"sections": {"nameplate": ["authority"]}}


def _legacy_passport(root: Any, *, tamper_first: bool = False) -> str:
    """Two versions and a head in the shape the service wrote before issue 11."""
    signer = root.signer
    kid = signer.public_jwk()["kid"]
    dpp_id = f"urn:test:legacy:{uuid.uuid4().hex[:10]}"
    product = f"{namespace(OWNER)}legacy/{uuid.uuid4().hex[:10]}"
    previous_hash = None
    for number, (label, status) in enumerate([("v1", "Active"), ("v2", "Inactive")], start=1):
        ts = f"2026-01-0{number}T00:00:00.000Z"
        document = {
            **make_passport(
                digitalProductPassportId=dpp_id, uniqueProductIdentifier=product, dppStatus=status
            ),
            "lastUpdate": ts,
            "dppLifecycle": {
                "versionLabel": label,
                "status": "Valid",
                "validFrom": ts,
                "validTo": None,
                "supersedes": "v1" if number == 2 else None,
                "revokedAt": None,
                "revocationReason": None,
            },
            "dppAccessPolicy": POLICY,
        }
        sealed = sign_document(
            document,
            Seal(dpp_id, number, "create" if number == 1 else "update", previous_hash),
            kid,
            lambda data: signer.sign(data)[1],
        )
        if tamper_first and number == 1:
            sealed = {**sealed, "nameplate": {"ManufacturerName": "Rewritten"}}
        item = {
            "id": f"v{number:010d}",
            "dppId": dpp_id,
            "type": "version",
            "version": number,
            "ts": ts,
            "operation": "create" if number == 1 else "update",
            "writer": "legacy-writer",
            "writeId": uuid.uuid4().hex,
            "deleted": False,
            "productId": product,
            "economicOperatorId": OWNER,
            "createdAt": "2026-01-01T00:00:00.000Z",
            "etag": uuid.uuid4().hex,
            "contentHash": sealed["contentHash"],
            "signature": sealed["signature"],
            "previousHash": previous_hash,
            "label": label,
            "labels": [
                {"label": "v1", "version": 1, "publishedAt": "2026-01-01T00:00:00.000Z"},
                *([{"label": "v2", "version": 2, "publishedAt": ts}] if number == 2 else []),
            ],
            "document": sealed,
        }
        root.store.create(PASSPORTS, item)
        previous_hash = sealed["contentHash"]
    root.store.create(PASSPORTS, {**item, "id": "head", "type": "head"})
    return dpp_id


def test_a_legacy_passport_is_re_issued_and_then_verifies(api, http, auth, root):
    dpp_id = _legacy_passport(root)
    before = http.post(f"{api}/v1/verify", json={"dppId": dpp_id}).json()
    assert before["valid"] is False and "signatureFormat" in before["failedChecks"]
    old = root.store.read(PASSPORTS, "v0000000002", dpp_id)

    report = MigrationReport()
    Migration(root.passports, root.issuance, root.keyring).migrate(dpp_id, report)
    assert report.reissued == [dpp_id] and report.refused == {}

    after = http.post(f"{api}/v1/verify", json={"dppId": dpp_id}).json()
    assert (after["valid"], after["failedChecks"]) == (True, [])
    read = http.get(f"{api}/v1/dpps/{enc(dpp_id)}", headers=auth).json()
    assert not {"dppLifecycle", "dppAccessPolicy"} & set(read)
    assert read["dppStatus"] == "Inactive"
    lifecycle = http.get(f"{api}/v1/dpps/{enc(dpp_id)}/lifecycle").json()
    assert (lifecycle["lifecycle"]["versionLabel"], lifecycle["lifecycle"]["supersedes"]) == ("v2", "v1")
    policy = http.get(f"{api}/v1/dpps/{enc(dpp_id)}/accessPolicy", headers=auth).json()
    assert policy["accessPolicy"] == POLICY
    # The policy moved with it: the anonymous reader no longer gets the nameplate.
    assert "nameplate" not in http.get(f"{api}/v1/dpps/{enc(dpp_id)}").json()
    reissued = root.store.read(PASSPORTS, "v0000000002", dpp_id)
    assert reissued["legacy"] == {"contentHash": old["contentHash"], "signature": old["signature"]}
    assert reissued["ts"] == old["ts"] and reissued["writer"] == old["writer"]
    # Each re-issued version has its UNTP credential, all naming the passport's one status entry.
    first = root.store.read(PASSPORTS, "v0000000001", dpp_id)
    assert first["untpCredential"] and reissued["untpCredential"]
    assert first["credentialStatus"] == reissued["credentialStatus"]

    again = MigrationReport()
    Migration(root.passports, root.issuance, root.keyring).migrate(dpp_id, again)
    assert (again.reissued, again.current) == ([], 1)


def test_a_legacy_version_that_fails_the_old_rules_is_never_re_signed(api, http, root):
    dpp_id = _legacy_passport(root, tamper_first=True)
    untouched = root.store.read(PASSPORTS, "v0000000001", dpp_id)
    report = Migration(root.passports, root.issuance, root.keyring).run()
    assert dpp_id in report.refused and "contentHash" in report.refused[dpp_id]
    assert dpp_id not in report.reissued
    assert root.store.read(PASSPORTS, "v0000000001", dpp_id)["_etag"] == untouched["_etag"]
    assert http.post(f"{api}/v1/verify", json={"dppId": dpp_id}).json()["valid"] is False
