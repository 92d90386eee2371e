"""The seed API contract: passports as JSON-LD `dpp:Passport` views, by product and version label.

`GET /api/v1/dpp/{productId}/{version}` names a product (its `uniqueProductIdentifier`) and a
published version label (`dppLifecycle.versionLabel`, e.g. `v1.2.0`; `latest` means the current
one). A label covers every write made while it was current, so the view of a label is its last
version; an older label answers `Superseded`. The product's lookup and the passport's head are
point reads; only an older label costs one query, inside the passport's own partition.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from shared.access_policy import POLICY_MEMBER
from shared.artifacts import ARTIFACT_TYPES, get_artifact_store, parse_artifact_type
from shared.auth import Action, Principal, authorize, disclosure, element_access
from shared.document import HEADER_FIELDS
from shared.errors import BadRequest, Gone, NotFound
from shared.integrity import INTEGRITY_FIELDS
from shared.lifecycle import (
    ARTIFACTS,
    LATEST,
    LIFECYCLE,
    REVOKED,
    SUPERSEDED,
    VALID,
    label_of,
    lifecycle_of,
    validate_label,
)
from shared.search import parse_query
from shared.service import LOOKUP_POOL, PassportService
from shared.timestamps import format_ts

CONTEXT_PATH = "v1/contexts/dpp.jsonld"
PASSPORT_TYPE = "dpp:Passport"
# Members that are the passport's machinery, not content: never shown as `<section>Inline`.
NOT_CONTENT = frozenset({*HEADER_FIELDS, *INTEGRITY_FIELDS, LIFECYCLE, ARTIFACTS, POLICY_MEMBER})


def context_document() -> dict[str, Any]:
    """The JSON-LD context every view names (served at CONTEXT_PATH).

    Terms map into one vocabulary; content sections (`<section>Inline`) fall under `@vocab`.
    """
    return {
        "@context": {
            "@version": 1.1,
            "@vocab": "urn:dpp:vocab:",
            "dpp": "urn:dpp:vocab:",
            "xsd": "http://www.w3.org/2001/XMLSchema#",
            "type": "@type",
            "subject": {"@id": "dpp:subject", "@type": "@id"},
            "issuer": {"@id": "dpp:issuer", "@type": "@id"},
            "issuedAt": {"@id": "dpp:issuedAt", "@type": "xsd:dateTime"},
            "validFrom": {"@id": "dpp:validFrom", "@type": "xsd:dateTime"},
            "validTo": {"@id": "dpp:validTo", "@type": "xsd:dateTime"},
            "revokedAt": {"@id": "dpp:revokedAt", "@type": "xsd:dateTime"},
            "supersededBy": {"@id": "dpp:supersededBy", "@type": "@id"},
            "status": "dpp:status",
            "contentHash": "dpp:contentHash",
            "signature": "dpp:signature",
            "uri": "dpp:uri",
            "hash": "dpp:hash",
            "mediaType": "dpp:mediaType",
            "size": {"@id": "dpp:size", "@type": "xsd:integer"},
            "downloadUrl": {"@id": "dpp:downloadUrl", "@type": "@id"},
            "litePreview": {"@id": "dpp:litePreview", "@type": "@json"},
            "disclosure": {"@id": "dpp:disclosure", "@type": "@json"},
        }
    }


def subject(product_id: str, label: str) -> str:
    """`urn:...:product:x` + `:v1.2.0`; non-URN product ids take the label as a fragment."""
    separator = ":" if product_id.lower().startswith("urn:") else "#"
    return f"{product_id}{separator}{label}"


@dataclass(frozen=True)
class Release:
    """A version label of a passport: the passport's head and the version the label last had."""

    head: dict[str, Any]
    version: dict[str, Any]

    @property
    def document(self) -> dict[str, Any]:
        return self.version["document"]

    @property
    def label(self) -> str:
        return label_of(self.document)

    @property
    def subject(self) -> str:
        return subject(self.document["uniqueProductIdentifier"], self.label)

    def status(self) -> dict[str, Any]:
        """Status as the seed contract states it; a deleted passport reads as revoked (discontinued)."""
        current = lifecycle_of(self.head["document"])
        own = lifecycle_of(self.document)
        superseded_by = self._superseded_by()
        if self.head["deleted"]:
            status, revoked_at = REVOKED, self.head["ts"]
            reason = current["revocationReason"] or "Product discontinued: the passport was withdrawn"
        elif current["status"] == REVOKED:
            status, revoked_at, reason = REVOKED, current["revokedAt"], current["revocationReason"]
        else:
            status, revoked_at, reason = (SUPERSEDED if superseded_by else VALID), None, None
        return {
            "subject": self.subject,
            "status": status,
            "validFrom": own["validFrom"],
            "validTo": own["validTo"],
            "supersededBy": superseded_by,
            "revokedAt": revoked_at,
            "revocationReason": reason,
        }

    def _superseded_by(self) -> str | None:
        labels = [entry["label"] for entry in self.head.get("labels", [])]
        if self.label in labels and labels.index(self.label) + 1 < len(labels):
            following = labels[labels.index(self.label) + 1]
            return subject(self.document["uniqueProductIdentifier"], following)
        return None

    def refuse_if_gone(self) -> None:
        state = self.status()
        if state["status"] != REVOKED:
            return
        if self.head["deleted"]:
            raise Gone(
                f"Product discontinued: passport withdrawn at {state['revokedAt']}", code="PassportGone"
            )
        raise Gone(
            f"Passport revoked at {state['revokedAt']}: {state['revocationReason']}", code="PassportRevoked"
        )


def _view_label(raw: str) -> str:
    return LATEST if raw.lower() == LATEST else validate_label(raw)


class ContractService:
    def __init__(self, service: PassportService, artifacts: Callable[[], Any] = get_artifact_store):
        self.service = service
        self.passports = service.passports
        self.artifacts = artifacts

    def release(self, product_id: str, raw_label: str) -> Release:
        label = _view_label(raw_label)
        for dpp_id in self.passports.passport_ids_for_product(product_id):
            head = self.passports.head(dpp_id)
            if head is None:
                continue
            if label in (LATEST, label_of(head["document"])):
                return Release(head, head)
            if any(entry["label"] == label for entry in head.get("labels", [])):
                version = self.passports.version_with_label(dpp_id, head, label)
                if version is not None:
                    return Release(head, version)
        raise NotFound(
            f"No DPP found for product '{product_id}' version '{raw_label}'", code="PassportNotFound"
        )

    # -- views ------------------------------------------------------------------------------

    def passport(self, release: Release, principal: Principal, lite: bool, urls: Urls) -> dict[str, Any]:
        release.refuse_if_gone()
        document = release.document
        if lite:
            shown = self.service.public_document(document)
            complete = shown == document and ARTIFACTS not in document
        else:
            authorize(Action.READ_FULL, principal, document)
            view = disclosure(principal, document, self.service.config)
            shown, complete = view.document, view.complete
        body = {
            "@context": urls.context,
            "type": PASSPORT_TYPE,
            "subject": release.subject,
            "issuer": document["economicOperatorId"],
            "issuedAt": release.version["ts"],
            "status": release.status()["status"],
            "contentHash": document.get("contentHash"),
            "signature": document.get("signature"),
            **_sections(shown, with_references=not lite),
        }
        body["disclosure"] = {
            "view": "lite" if lite else "full",
            "complete": complete,
            "signedDocument": urls.signed_document(release),
            "verification": "contentHash and signature cover the complete EN 18222 document "
            "(signedDocument, read with a role that sees every section), not this view",
        }
        return body

    def status(self, release: Release, urls: Urls) -> dict[str, Any]:
        return {"@context": urls.context, **release.status()}

    def artifact(self, release: Release, raw_type: str, principal: Principal, urls: Urls) -> dict[str, Any]:
        artifact_type = parse_artifact_type(raw_type)
        release.refuse_if_gone()
        reference = release.document.get(ARTIFACTS, {}).get(artifact_type)
        if reference is None:
            raise NotFound(f"No '{artifact_type}' artifact for {release.subject}", code="ArtifactNotFound")
        element_access(
            principal, release.document, (ARTIFACTS, artifact_type), reference, self.service.config
        )
        minutes = self.service.config.artifact_sas_minutes
        return {
            "@context": urls.context,
            **reference,
            "downloadUrl": self.artifacts().download_url(reference),
            "downloadUrlExpiresAt": format_ts(datetime.now(UTC) + timedelta(minutes=minutes)),
        }

    def search(self, params: dict[str, str | None], urls: Urls) -> tuple[list[dict[str, Any]], str | None]:
        """Lite previews of the current passports that match, and the cursor of the next page."""
        query = parse_query(
            params.get("issuer"), params.get("status"), params.get("keyword"), params.get("limit")
        )
        index = self.service.search_index
        rows, cursor = index.find(query, params.get("cursor"))
        heads = LOOKUP_POOL.map(self.passports.head, [row["dppId"] for row in rows])
        previews = []
        for head in heads:
            if head is None or head["deleted"]:
                continue
            public = self.service.public_document(head["document"])
            if index.still_matches(query, head, public):
                previews.append(self._preview(head, public, urls))
        return previews, cursor

    def _preview(self, head: dict[str, Any], public: dict[str, Any], urls: Urls) -> dict[str, Any]:
        release = Release(head, head)
        return {
            "@context": urls.context,
            "subject": release.subject,
            "issuer": head["document"]["economicOperatorId"],
            "status": release.status()["status"],
            "issuedAt": head["ts"],
            "litePreview": _sections(public, with_references=False),
        }


def _sections(document: dict[str, Any], *, with_references: bool) -> dict[str, Any]:
    """`<section>Inline` for each content section; with references, `<type>ByRef` beside it."""
    references = document.get(ARTIFACTS, {}) if with_references else {}
    shown: dict[str, Any] = {}
    for key, value in document.items():
        if key in NOT_CONTENT or not isinstance(value, dict):
            continue
        shown[f"{key}Inline"] = value
        if key in references:
            shown[f"{key}ByRef"] = references[key]
    for artifact_type in ARTIFACT_TYPES:
        if artifact_type in references and f"{artifact_type}ByRef" not in shown:
            shown[f"{artifact_type}ByRef"] = references[artifact_type]
    return shown


@dataclass(frozen=True)
class Urls:
    """Absolute URLs of this deployment, from the request's base (`https://host/api`)."""

    base: str

    @property
    def context(self) -> str:
        return f"{self.base}/{CONTEXT_PATH}"

    def signed_document(self, release: Release) -> str:
        dpp_id = quote(release.version["dppId"], safe="")
        if release.version["version"] == release.head["version"]:
            return f"{self.base}/v1/dpps/{dpp_id}"
        return f"{self.base}/v1/dppsByIdAndDate/{dpp_id}?date={quote(release.version['ts'], safe='')}"


def parse_lite(raw: str | None) -> bool:
    if raw is None or raw == "":
        return False
    if raw.lower() in {"true", "false"}:
        return raw.lower() == "true"
    raise BadRequest("'lite' must be true or false", code="InvalidParameter")
