"""What a version's SD-JWT says: the claims it is issued with, and which of them are disclosable.

    {"iss": <the operator's DID under the service's>, "iat": <seconds>, "_sd_alg": "sha-256",
     "dpp": {"id", "version", "previousDigest", "operation", "writer", "issuedAt", "deleted",
             "operator", "productId", "lifecycle", "labels",
             "artifacts": {<type>: disclosable reference}, "accessPolicy": disclosable},
     "document": {<header fields>, "_sd": [<a digest per content section>]}}

Header fields and the envelope are plain claims; each content section, each element a policy
restricts on its own, each artifact reference and the passport's own policy is its own salted
disclosure. `iss` names the economic operator the service attests (`shared.integrity.did`).
"""

from __future__ import annotations

from typing import Any, Protocol

from shared.access.authorization import AccessControl
from shared.access.policy import DOCUMENT_CLAIM, ENVELOPE_CLAIM, POLICY_CLAIM
from shared.integrity.did import operator_did
from shared.integrity.sd_jwt import Issued, compact_jws_length, version_digest
from shared.integrity.sealer import Sealer
from shared.passports import core_data
from shared.platform.clock import parse_ts

ENVELOPE_FIELDS: tuple[str, ...] = (
    "id",
    "version",
    "previousDigest",
    "operation",
    "writer",
    "issuedAt",
    "deleted",
    "operator",
    "productId",
    "lifecycle",
    "labels",
    "artifacts",
)


def envelope(record: dict[str, Any]) -> dict[str, Any]:
    """The envelope claims of a version record (a stored item or one being written)."""
    document = record["document"]
    claims: dict[str, Any] = {
        "id": record["dppId"],
        "version": record["version"],
        "previousDigest": record["previousDigest"],
        "operation": record["operation"],
        "writer": record["writer"],
        "issuedAt": record["ts"],
        "deleted": record["deleted"],
        "operator": document["economicOperatorId"],
        "productId": document["uniqueProductIdentifier"],
        "lifecycle": record["lifecycle"],
        "labels": record["labels"],
        "artifacts": record["artifacts"],
    }
    if record.get("accessPolicy") is not None:
        claims[POLICY_CLAIM] = record["accessPolicy"]
    return claims


def claims(record: dict[str, Any], issuer: str) -> dict[str, Any]:
    return {
        "iss": issuer,
        "iat": int(parse_ts(record["ts"], "ts").timestamp()),
        ENVELOPE_CLAIM: envelope(record),
        DOCUMENT_CLAIM: record["document"],
    }


class Credentials(Protocol):
    """Further credentials a version is issued with on write (the UNTP credential and its status
    entry: shared.publication.untp), given by the composition root: the members to store."""

    def issue(self, record: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]: ...


class Issuance:
    """Issues versions for the operators the service signs for, under their DIDs, their offline
    core data (shared.passports.core_data) for carriers on the resolver at `public_url`, and the
    `credentials` given (none: only those two)."""

    def __init__(
        self,
        sealer: Sealer,
        access: AccessControl,
        service_did: str,
        public_url: str,
        credentials: Credentials | None = None,
    ):
        self.sealer = sealer
        self.access = access
        self.service_did = service_did
        self.public_url = public_url
        self.credentials = credentials

    def issuer(self, operator_id: str) -> str:
        return operator_did(self.service_did, operator_id)

    def sealed(self, record: dict[str, Any], previous: dict[str, Any] | None = None) -> dict[str, Any]:
        """`record` with its SD-JWT, every disclosure by claim path, its digest, its core token
        and the further credentials given."""
        issued = self.issue(record)
        further = self.credentials.issue(record, previous) if self.credentials is not None else {}
        return {
            **record,
            "sdJwt": issued.jwt,
            "disclosures": [{"path": list(d.path), "disclosure": d.encoded} for d in issued.disclosures],
            "versionDigest": version_digest(issued.jwt),
            "coreToken": self.core_token(record, previous),
            **further,
        }

    def core_token(self, record: dict[str, Any], previous: dict[str, Any] | None) -> str:
        """The version's core data token: the previous version's when its claims are unchanged."""
        public = self.access.public_document(record["document"], record.get("accessPolicy"))
        full = core_data.claims(record, public, self.public_url)
        header = {"kid": self.sealer.kid(), "typ": core_data.TYP}
        uri = full["u"]
        budget = core_data.token_budget(uri)
        variants = core_data.fit(full, budget)
        now = int(parse_ts(record["ts"], "ts").timestamp())
        chosen = next(
            (v for v in variants if compact_jws_length({**v, "iat": now}, header) <= budget), variants[-1]
        )
        old = (previous or {}).get("coreToken")
        if old and {k: v for k, v in core_data.payload_of(old).items() if k != "iat"} == chosen:
            return str(old)
        return self.sealer.compact_jws({**chosen, "iat": now}, core_data.TYP)

    def issue(self, record: dict[str, Any]) -> Issued:
        """Sign the version `record` (document, envelope members, place in the history) once."""
        disclosable = self.access.disclosable(
            record["document"], record["artifacts"], record.get("accessPolicy")
        )
        return self.sealer.issue(
            claims(record, self.issuer(record["document"]["economicOperatorId"])), disclosable
        )
