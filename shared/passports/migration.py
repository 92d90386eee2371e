"""Re-issuing versions stored before SD-JWT issuance (a one-off, run by `python -m local.migrate`).

Versions written before selective disclosure carry their lifecycle, artifact references and own
access policy inside the document, and a detached JWS over it. The migration re-issues every such
passport, oldest version first:

1. each legacy version is verified under the old rules (content hash, JWS with a key the signer
   holds, signed header naming this passport, version and predecessor): a passport with any
   version that fails is left untouched and reported, never re-signed;
2. the document is split into the operator's part and the envelope (`shared.documents.members`),
   and the version is issued anew as an SD-JWT chained to its re-issued predecessor; the old hash
   and JWS stay on the item under `legacy` for audit;
3. the head is replaced by a copy of the newest re-issued version (If-Match, so a concurrent
   write makes the passport be reported for a second run rather than overwritten).

It scans the passports container across partitions: an operations command, never a request path.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, cast

from shared.documents.lifecycle import ARTIFACTS, DEFAULT_LABEL, LIFECYCLE, VALID
from shared.documents.members import ACCESS_POLICY, split_write
from shared.integrity.keyring import KeyRing
from shared.integrity.signatures import content_hash
from shared.integrity.verification import verify_legacy_document
from shared.passports.issuance import Issuance
from shared.passports.records import PassportItem
from shared.passports.repository import HEAD_ID, PassportRepository
from shared.storage.cosmos import PASSPORTS, ItemChanged, without_system


@dataclass
class MigrationReport:
    reissued: list[str] = field(default_factory=list)
    current: int = 0
    refused: dict[str, str] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {"reissued": len(self.reissued), "alreadyCurrent": self.current, "refused": self.refused}


def _legacy_lifecycle(document: dict[str, Any]) -> dict[str, Any]:
    stored = document.get(LIFECYCLE)
    if isinstance(stored, dict) and "versionLabel" in stored:
        return stored
    return {
        "versionLabel": DEFAULT_LABEL,
        "status": VALID,
        "validFrom": document.get("lastUpdate"),
        "validTo": None,
        "supersedes": None,
        "revokedAt": None,
        "revocationReason": None,
    }


def legacy_problem(item: dict[str, Any], previous: dict[str, Any] | None, keyring: KeyRing) -> str | None:
    """Why a legacy version may not be re-issued, or None when it verifies under the old rules."""
    document = item.get("document", {})
    checks, header = verify_legacy_document(document, keyring.jwk, item.get("version"))
    failed = [check for check in checks if not check.passed]
    if failed:
        return f"version {item.get('version')}: {failed[0].check}: {failed[0].detail}"
    signed = (
        (header or {}).get("dppId"),
        (header or {}).get("dppVersion"),
        (header or {}).get("dppPreviousHash"),
    )
    wanted = item.get("dppId"), item.get("version"), (previous or {}).get("document", {}).get("contentHash")
    if signed != wanted:
        return f"version {item.get('version')}: header: signed {signed}, stored {wanted}"
    return None


class Migration:
    def __init__(self, passports: PassportRepository, issuance: Issuance, keyring: KeyRing):
        self.passports = passports
        self.store = passports.store
        self.issuance = issuance
        self.keyring = keyring

    def _passport_ids(self) -> Iterator[str]:
        for row in self.store.iterate_background(
            PASSPORTS, "SELECT c.dppId FROM c WHERE c.type = 'head'", {}
        ):
            yield row["dppId"]

    def run(self) -> MigrationReport:
        report = MigrationReport()
        for dpp_id in self._passport_ids():
            self.migrate(dpp_id, report)
        return report

    def migrate(self, dpp_id: str, report: MigrationReport) -> None:
        head = self.passports.head(dpp_id)
        if head is None:
            return
        if "sdJwt" in head:
            report.current += 1
            return
        versions: list[dict[str, Any]] = [dict(item) for item in self.passports.history(dpp_id, head)]
        previous: dict[str, Any] | None = None
        for item in versions:
            problem = legacy_problem(item, previous, self.keyring) if "sdJwt" not in item else None
            if problem:
                report.refused[dpp_id] = problem
                return
            previous = item
        reissued: PassportItem | None = None
        for item in versions:
            reissued = self._reissue(item, reissued) if "sdJwt" not in item else cast(PassportItem, item)
        assert reissued is not None
        new_head = {**without_system(dict(reissued)), "id": HEAD_ID, "type": "head"}
        assert "_etag" in head
        try:
            self.store.replace(PASSPORTS, new_head, head["_etag"])
        except ItemChanged:
            report.refused[dpp_id] = "written to while migrating; run the migration again"
            return
        report.reissued.append(dpp_id)

    def _reissue(self, item: dict[str, Any], previous: PassportItem | None) -> PassportItem:
        legacy = item["document"]
        document, envelope = split_write(legacy)
        record: dict[str, Any] = {
            **without_system(dict(item)),
            "document": document,
            "lifecycle": _legacy_lifecycle(legacy),
            "artifacts": envelope.get(ARTIFACTS) or {},
            "accessPolicy": envelope.get(ACCESS_POLICY),
            "contentHash": content_hash(document),
            "previousDigest": previous["versionDigest"] if previous else None,
            "legacy": {"contentHash": legacy.get("contentHash"), "signature": legacy.get("signature")},
        }
        for stale in ("signature", "previousHash"):
            record.pop(stale, None)
        # With its predecessor: the passport's status entry and unchanged tokens carry over.
        sealed = self.issuance.sealed(record, cast(dict[str, Any] | None, previous))
        self.store.replace(PASSPORTS, sealed, item["_etag"])
        return cast(PassportItem, sealed)
