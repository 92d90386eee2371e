"""A passport's signed history: every version's integrity record, and verification of a posted
document or of the stored chain up to a version."""

from __future__ import annotations

from typing import Any

from shared.access.authentication import Principal
from shared.access.authorization import AccessControl, Action, authorize
from shared.documents.model import require_object
from shared.integrity.keyring import KeyRing
from shared.integrity.verification import (
    report,
    verify_current,
    verify_document,
    verify_head,
    verify_history,
)
from shared.passports.records import PassportItem
from shared.passports.repository import PassportRepository
from shared.passports.service import not_found
from shared.platform.clock import Clock, utcnow
from shared.platform.errors import BadRequest, ErrorCode

RECORD_FIELDS = (
    "version",
    "ts",
    "operation",
    "writer",
    "contentHash",
    "signature",
    "previousHash",
    "deleted",
)


class PassportHistory:
    def __init__(
        self, passports: PassportRepository, keyring: KeyRing, access: AccessControl, clock: Clock = utcnow
    ):
        self.passports = passports
        self.keyring = keyring
        self.access = access
        self.clock = clock

    def _readable_head(self, dpp_id: str, principal: Principal) -> PassportItem:
        head = self.passports.head(dpp_id)
        if head is None:
            raise not_found(f"id '{dpp_id}'")
        if head["deleted"]:
            authorize(Action.READ_ARCHIVE, principal, head["document"])
        return head

    def history(self, dpp_id: str, principal: Principal, documents: bool = False) -> dict[str, Any]:
        """Every version's integrity record; with `documents`, each version as the caller may see it."""
        head = self._readable_head(dpp_id, principal)
        records = []
        for item in self.passports.history(dpp_id, head):
            record: dict[str, Any] = {name: item.get(name) for name in RECORD_FIELDS}
            record["lastUpdate"] = item["document"].get("lastUpdate")
            if documents:
                shown = self.access.disclosure(principal, item["document"])
                record.update(document=shown.document, complete=shown.complete)
            records.append(record)
        return {"digitalProductPassportId": dpp_id, "versions": records}

    def verify(self, body: Any, principal: Principal) -> dict[str, Any]:
        """Verify a submitted document, or a stored version together with the history up to it."""
        body = require_object(body, "verification request")
        if "signature" in body or "contentHash" in body:
            checks, _ = verify_document(body, self.keyring.jwk)
            return report(checks)
        dpp_id = body.get("dppId")
        if not isinstance(dpp_id, str) or not dpp_id.strip():
            raise BadRequest(
                'Send a passport document, or {"dppId": ..., "version": n (optional)}',
                code=ErrorCode.INVALID_BODY,
            )
        head = self._readable_head(dpp_id, principal)
        versions = self.passports.history(dpp_id, head)
        wanted = body.get("version", head["version"])
        if not isinstance(wanted, int) or isinstance(wanted, bool) or not 1 <= wanted <= head["version"]:
            raise BadRequest(
                f"'version' must be an integer from 1 to {head['version']}", code=ErrorCode.INVALID_VERSION
            )
        # Version N is authentic when versions 1..N verify and link up; later ones do not bear on it.
        # What readers are served must be the newest version as stored, whatever N is asked for.
        chain = [dict(v) for v in versions if v["version"] <= wanted]
        stored = next((dict(v) for v in versions if v["version"] == head["version"]), None)
        checks = verify_history(dpp_id, chain, self.keyring.jwk)
        checks.append(verify_head(dict(head), stored))
        later = self.passports.versions_after(head, self.clock())
        checks.append(verify_current(dict(head), [dict(v) for v in later]))
        result = report(checks)
        result.update({"dppId": dpp_id, "version": wanted, "headVersion": head["version"]})
        return result
