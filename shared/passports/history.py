"""A passport's signed history: every version's record with its SD-JWT presentation, and
verification of a presentation a reader holds or of the stored chain up to a version."""

from __future__ import annotations

from typing import Any

from shared.access.authentication import Principal
from shared.access.authorization import AccessControl, Action, authorize
from shared.access.disclosure import complete_presentation
from shared.access.policy import DOCUMENT_CLAIM, ENVELOPE_CLAIM
from shared.documents.members import INLINE, sections
from shared.documents.model import require_object
from shared.integrity.did import operator_of
from shared.integrity.keyring import KeyRing
from shared.integrity.sd_jwt import version_digest
from shared.integrity.signatures import INTEGRITY_FIELDS, content_hash
from shared.integrity.verification import (
    Check,
    JwkLookup,
    report,
    verify_current,
    verify_head,
    verify_presentation,
)
from shared.passports.issuance import envelope
from shared.passports.records import PassportItem
from shared.passports.repository import PassportRepository
from shared.passports.service import not_found
from shared.platform.clock import Clock, utcnow
from shared.platform.cursors import decode_cursor, encode_cursor
from shared.platform.errors import BadRequest, ErrorCode
from shared.platform.parameters import bounded_int

# Versions per page of history: records are small, documents are not.
DEFAULT_PAGE, MAX_PAGE, MAX_PAGE_WITH_DOCUMENTS = 50, 200, 20
# Versions one verification request checks at most (each is an ES256 verification and more).
MAX_VERIFIED = 100
RECORD_FIELDS = ("version", "ts", "operation", "writer", "versionDigest", "previousDigest", "deleted")


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

    def history(
        self,
        dpp_id: str,
        principal: Principal,
        documents: bool = False,
        limit: str | None = None,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        """One page of version records, oldest first, each with its presentation: of the envelope
        alone, or with `documents`, of the version as the caller may see it; `cursor` names the
        next page when there is one."""
        head = self._readable_head(dpp_id, principal)
        most = MAX_PAGE_WITH_DOCUMENTS if documents else MAX_PAGE
        size = bounded_int(
            limit, "limit", low=1, high=most, default=min(DEFAULT_PAGE, most), code=ErrorCode.INVALID_LIMIT
        )
        fingerprint = [dpp_id, "documents" if documents else "records"]
        after = decode_cursor(cursor, fingerprint, "this history")
        if after is None:
            after = 0
        elif isinstance(after, bool) or not isinstance(after, int) or not 0 < after < head["version"]:
            raise BadRequest("'cursor' is not a cursor this service issued", code=ErrorCode.INVALID_CURSOR)
        last = min(after + size, head["version"])
        records = []
        for item in self.passports.version_range(dpp_id, after + 1, last):
            shown = self.access.shown(principal, item)
            record: dict[str, Any] = {name: item.get(name) for name in RECORD_FIELDS}
            record.update(
                label=item["label"],
                lastUpdate=item["document"].get("lastUpdate"),
                lifecycle=item["lifecycle"],
                contentHash=shown.content_hash,
            )
            if documents:
                record.update(document=shown.document, complete=shown.complete)
                record["signature"] = shown.presentation((DOCUMENT_CLAIM,))
            else:
                record["signature"] = shown.presentation((ENVELOPE_CLAIM, "lifecycle"))
            records.append(record)
        page: dict[str, Any] = {"digitalProductPassportId": dpp_id, "versions": records}
        if last < head["version"]:
            page["cursor"] = encode_cursor(last, fingerprint)
        return page

    def verify(self, body: Any, principal: Principal) -> dict[str, Any]:
        """Verify a response a reader holds (anything with a `signature`), or a stored version
        together with the history up to it."""
        body = require_object(body, "verification request")
        if "signature" in body:
            return self._verify_response(body)
        dpp_id = body.get("dppId")
        if not isinstance(dpp_id, str) or not dpp_id.strip():
            raise BadRequest(
                'Send a response carrying a "signature", or {"dppId": ..., "version": n (optional)}',
                code=ErrorCode.INVALID_BODY,
            )
        head = self._readable_head(dpp_id, principal)
        wanted = _version_number(body.get("version", head["version"]), "version", 1, head["version"])
        # Bounded work: at most MAX_VERIFIED versions per request, the newest ones by default;
        # a chain starting later is anchored on its predecessor's digest (verified too).
        first = _version_number(
            body.get("fromVersion", max(1, wanted - MAX_VERIFIED + 1)),
            "fromVersion",
            max(1, wanted - MAX_VERIFIED + 1),
            wanted,
        )
        versions = [dict(v) for v in self.passports.version_range(dpp_id, max(first - 1, 1), wanted)]
        checks: list[Check] = []
        predecessor = None
        if first > 1:
            if versions and versions[0].get("version") == first - 1:
                predecessor = versions.pop(0)
            else:
                checks.append(
                    Check("sequence", False, f"version {first - 1}, the anchor, is not stored", first - 1)
                )
        checks.extend(verify_chain(dpp_id, versions, self.keyring.jwk, predecessor))
        # What readers are served must be the newest version as stored, whatever N is asked for.
        # The head's version is the window's last when the head itself is verified (the default).
        if versions and versions[-1].get("version") == head["version"]:
            stored: dict[str, Any] | None = versions[-1]
        else:
            found = self.passports.version(dpp_id, head["version"])
            stored = dict(found) if found is not None else None
        checks.append(verify_head(dict(head), stored))
        later = self.passports.versions_after(head, self.clock())
        checks.append(verify_current(dict(head), [dict(v) for v in later]))
        result = report(checks)
        result["fromVersion"] = first
        result.update({"dppId": dpp_id, "version": wanted, "headVersion": head["version"]})
        return result

    def _verify_response(self, body: dict[str, Any]) -> dict[str, Any]:
        return verify_response(body, self.keyring.jwk)


def verify_response(body: dict[str, Any], jwk_for: JwkLookup) -> dict[str, Any]:
    """The report on a response a reader holds: its presentation, issuer, contentHash, and for
    an EN 18222 read that its body is what the presentation discloses (`disclosed`: the claims)."""
    checks, _, claims = verify_presentation(body["signature"], jwk_for)
    if claims is None:
        return report(checks)
    document = claims.get(DOCUMENT_CLAIM, {})
    checks.append(_issuer(claims, document))
    if "contentHash" in body:
        actual = content_hash(document)
        checks.append(
            Check(
                "contentHash",
                body["contentHash"] == actual,
                "the disclosed document hashes to it"
                if body["contentHash"] == actual
                else f"the disclosed document hashes to {actual}, the response claims "
                f"{body['contentHash']!r}",
            )
        )
    shown: dict[str, Any] | None = None
    if "uniqueProductIdentifier" in body and "economicOperatorId" in body:
        # An EN 18222 read: its body is the disclosed document itself.
        shown = {name: value for name, value in body.items() if name not in INTEGRITY_FIELDS}
        expected: dict[str, Any] = document
    elif "@context" in body and any(name.endswith(INLINE) for name in body):
        # A JSON-LD view: each `<section>Inline` is a disclosed content section, and every one is shown.
        shown = {name[: -len(INLINE)]: value for name, value in body.items() if name.endswith(INLINE)}
        expected = sections(document)
    if shown is not None:
        same = shown == expected
        checks.append(
            Check(
                "content",
                same,
                "the body is what the presentation discloses"
                if same
                else "the body differs from what the presentation discloses",
            )
        )
    result = report(checks)
    result["disclosed"] = claims
    return result


def _issuer(claims: dict[str, Any], document: dict[str, Any]) -> Check:
    named = operator_of(str(claims.get("iss", "")))
    operator = document.get("economicOperatorId")
    if named is None or named != operator:
        return Check("issuer", False, f"the JWT is issued as {claims.get('iss')!r}, not for {operator!r}")
    return Check("issuer", True, f"issued for {operator}")


def verify_chain(
    dpp_id: str,
    versions: list[dict[str, Any]],
    jwk_for: JwkLookup,
    predecessor: dict[str, Any] | None = None,
) -> list[Check]:
    """Every stored version verified on its own, its claims against its record, then linked to
    its predecessor: from version 1, or from the one after `predecessor` (itself verified, the
    anchor of a chain checked in parts)."""
    checks: list[Check] = []
    previous: dict[str, Any] | None = predecessor
    start = 1
    if predecessor is not None:
        checks.extend(verify_version(predecessor, jwk_for))
        start = int(predecessor.get("version", 0)) + 1
    for expected, item in enumerate(versions, start=start):
        number = item.get("version")
        checks.extend(verify_version(item, jwk_for))
        checks.append(
            Check(
                "sequence",
                number == expected,
                "in sequence" if number == expected else f"expected version {expected}, found {number}",
                number,
            )
        )
        previous_digest = previous.get("versionDigest") if previous else None
        linked = item.get("previousDigest") == previous_digest
        checks.append(
            Check(
                "chain",
                linked,
                "linked to its predecessor"
                if linked
                else f"previousDigest {item.get('previousDigest')!r} but the predecessor's digest is "
                f"{previous_digest!r}",
                number,
            )
        )
        checks.append(_owner(item, predecessor or versions[0], number))
        previous = item
    return checks


def _version_number(value: Any, name: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise BadRequest(f"'{name}' must be an integer from {low} to {high}", code=ErrorCode.INVALID_VERSION)
    return value


def verify_version(item: dict[str, Any], jwk_for: JwkLookup) -> list[Check]:
    """One stored version: its SD-JWT with every disclosure, and what it says against the record."""
    number = item.get("version")
    if "sdJwt" not in item:
        return [
            Check(
                "signatureFormat",
                False,
                "stored before SD-JWT issuance: re-issue it with the migration (docs/integrity.md)",
                number,
            )
        ]
    checks, _, claims = verify_presentation(complete_presentation(item), jwk_for, number)
    digest_ok = item.get("versionDigest") == version_digest(item["sdJwt"])
    checks.append(
        Check(
            "chain",
            digest_ok,
            "versionDigest is the JWT's digest"
            if digest_ok
            else "versionDigest is not the digest of the stored JWT",
            number,
        )
    )
    document = item.get("document", {})
    hashed = item.get("contentHash") == content_hash(document)
    checks.append(
        Check(
            "contentHash",
            hashed,
            "matches the document"
            if hashed
            else f"the document hashes to {content_hash(document)}, the record claims "
            f"{item.get('contentHash')!r}",
            number,
        )
    )
    if claims is None:
        return checks
    signed_envelope = claims.get(ENVELOPE_CLAIM, {})
    header = ("id", "version", "previousDigest", "operation")
    signed = tuple(signed_envelope.get(name) for name in header)
    wanted = (item.get("dppId"), number, item.get("previousDigest"), item.get("operation"))
    checks.append(
        Check(
            "header",
            signed == wanted,
            "the signed envelope names this version and its predecessor"
            if signed == wanted
            else f"the signed envelope says {signed}, the record {wanted}",
            number,
        )
    )
    record = envelope(item)
    differing = sorted(
        name for name in {*record, *signed_envelope} if record.get(name) != signed_envelope.get(name)
    )
    if claims.get(DOCUMENT_CLAIM) != document:
        differing.insert(0, "document")
    checks.append(
        Check(
            "claims",
            not differing,
            "the signed claims are the record's"
            if not differing
            else f"the record differs from its signed claims in {', '.join(differing)}",
            number,
        )
    )
    checks.append(_issuer(claims, document) if claims else Check("issuer", False, "no claims", number))
    return checks


def _owner(item: dict[str, Any], first: dict[str, Any], number: int | None) -> Check:
    """The signed document's operator is the first version's, and the record says the same."""
    owner = first.get("document", {}).get("economicOperatorId")
    signed = item.get("document", {}).get("economicOperatorId")
    recorded = item.get("economicOperatorId")
    if signed != owner:
        return Check("owner", False, f"signed for {signed!r}, but the passport belongs to {owner!r}", number)
    if recorded != signed:
        return Check("owner", False, f"record names {recorded!r}, its signed document {signed!r}", number)
    return Check("owner", True, "the same economic operator as version 1", number)
