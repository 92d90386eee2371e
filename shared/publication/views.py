"""The seed API contract: passports as JSON-LD `dpp:Passport` views, by product and version label.

A view is addressed by a product (its `uniqueProductIdentifier`) and a
published version label (`dppLifecycle.versionLabel`, e.g. `v1.2.0`; `latest` means the current
one). A label covers every write made while it was current, so the view of a label is its last
version; an older label answers `Superseded`. The product's lookup and the passport's head are
point reads; only an older label costs one query, inside the passport's own partition.
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from shared.access.authentication import Principal
from shared.access.authorization import AccessControl, Action, authorize, refuse_restricted
from shared.access.disclosure import Shown
from shared.access.policy import ARTIFACTS_CLAIM, DOCUMENT_CLAIM, ENVELOPE_CLAIM
from shared.documents.digital_link import canonical_uri, is_digital_link
from shared.documents.lifecycle import LATEST, REVOKED, SUPERSEDED, VALID, validate_label
from shared.documents.members import INLINE, sections
from shared.documents.relations import SECTION as RELATIONS
from shared.passports.artifacts import ARTIFACT_TYPES, ArtifactStore, parse_artifact_type
from shared.passports.records import PassportItem
from shared.passports.repository import PassportRepository
from shared.platform.clock import format_ts, utcnow
from shared.platform.errors import ErrorCode, Gone, NotFound
from shared.platform.parameters import parse_bool
from shared.platform.settings import Settings
from shared.publication.relations import RelationGraph
from shared.publication.search import SearchIndex, parse_query

PASSPORT_TYPE = "dpp:Passport"
LIFECYCLE_CLAIM = (ENVELOPE_CLAIM, "lifecycle")


def subject(product_id: str, label: str) -> str:
    """`urn:...:product:x` + `:v1.2.0`; other URLs take the label as a fragment; a GS1 Digital Link
    URI stays as it is (GS1 URIs take no suffix: the label is the view's `lifecycle.versionLabel`)."""
    if is_digital_link(product_id):
        return product_id
    separator = ":" if product_id.lower().startswith("urn:") else "#"
    return f"{product_id}{separator}{label}"


class Links(Protocol):
    """Absolute URLs of this deployment, as the HTTP layer builds them from its route table."""

    def context(self) -> str: ...

    def passport(self, dpp_id: str) -> str: ...

    def passport_at(self, dpp_id: str, date: str) -> str: ...

    def artifact_content(self, product_id: str, version: str, artifact_type: str) -> str: ...


@dataclass(frozen=True)
class Release:
    """A version label of a passport: the passport's head and the version the label last had."""

    head: PassportItem
    version: PassportItem

    @property
    def document(self) -> dict[str, Any]:
        return self.version["document"]

    @property
    def label(self) -> str:
        return str(self.version["lifecycle"]["versionLabel"])

    @property
    def subject(self) -> str:
        return subject(self.document["uniqueProductIdentifier"], self.label)

    def status(self) -> dict[str, Any]:
        """Status as the seed contract states it; a deleted passport reads as revoked (discontinued)."""
        current = self.head["lifecycle"]
        own = self.version["lifecycle"]
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
            "supersededByVersion": self._successor(),
            "revokedAt": revoked_at,
            "revocationReason": reason,
        }

    def _successor(self) -> str | None:
        """The label published after this one, if any."""
        labels = [entry["label"] for entry in self.head.get("labels", [])]
        if self.label in labels and labels.index(self.label) + 1 < len(labels):
            return labels[labels.index(self.label) + 1]
        return None

    def _superseded_by(self) -> str | None:
        following = self._successor()
        return None if following is None else subject(self.document["uniqueProductIdentifier"], following)

    def refuse_if_gone(self) -> None:
        state = self.status()
        if state["status"] != REVOKED:
            return
        if self.head["deleted"]:
            raise Gone(
                f"Product discontinued: passport withdrawn at {state['revokedAt']}",
                code=ErrorCode.PASSPORT_GONE,
            )
        raise Gone(
            f"Passport revoked at {state['revokedAt']}: {state['revocationReason']}",
            code=ErrorCode.PASSPORT_REVOKED,
        )


def _view_label(raw: str) -> str:
    return LATEST if raw.lower() == LATEST else validate_label(raw)


class PassportViews:
    def __init__(
        self,
        *,
        passports: PassportRepository,
        access: AccessControl,
        artifacts: ArtifactStore,
        search_index: SearchIndex,
        config: Settings,
        lookups: Executor,
        relations: RelationGraph,
    ):
        self.passports = passports
        self.access = access
        self.artifacts = artifacts
        self.search_index = search_index
        self.config = config
        self.lookups = lookups
        self.relations = relations

    def release(self, product_id: str, raw_label: str) -> Release:
        label = _view_label(raw_label)
        for dpp_id in self.passports.passport_ids_for_product(product_id):
            head = self.passports.head(dpp_id)
            if head is None:
                continue
            if label in (LATEST, head["lifecycle"]["versionLabel"]):
                return Release(head, head)
            if any(entry["label"] == label for entry in head.get("labels", [])):
                version = self.passports.version_with_label(dpp_id, head, label)
                if version is not None:
                    return Release(head, version)
        raise NotFound(
            f"No DPP found for product '{product_id}' version '{raw_label}'",
            code=ErrorCode.PASSPORT_NOT_FOUND,
        )

    # -- views ------------------------------------------------------------------------------

    def passport(self, release: Release, principal: Principal, lite: bool, links: Links) -> dict[str, Any]:
        release.refuse_if_gone()
        version = release.version
        if lite:
            shown = self.access.public(version)
            complete = shown.complete and not version["artifacts"]
            # The lite view shows no references, so its presentation discloses none.
            signature = shown.presentation((DOCUMENT_CLAIM,))
        else:
            authorize(Action.READ_FULL, principal, version["document"])
            shown = self.access.shown(principal, version)
            complete, signature = shown.complete, shown.presentation()
        body = {
            "@context": links.context(),
            "type": PASSPORT_TYPE,
            "subject": release.subject,
            **self._digital_link(version),
            "issuer": version["document"]["economicOperatorId"],
            "issuedAt": version["ts"],
            "status": release.status()["status"],
            "lifecycle": version["lifecycle"],
            **_sections(shown, with_references=not lite),
        }
        if RELATIONS in shown.document:
            # Not signed (it is not the operator's data): where each relation leads, and how its
            # target stands now; the signed `relationsInline` is what the operator wrote.
            body["relatedPassports"] = self.relations.named(shown.document, links.passport)
        if not lite and shown.access_policy is not None:
            body["accessPolicy"] = shown.access_policy
        body["contentHash"] = shown.content_hash
        body["signature"] = signature
        body["disclosure"] = {
            "view": "lite" if lite else "full",
            "complete": complete,
            "signedDocument": signed_document(release, links),
            "verification": "signature is an SD-JWT (RFC 9901) presentation of exactly what this view "
            "shows; contentHash is the digest of the document it discloses (docs/integrity.md)",
        }
        return body

    def status(self, release: Release, links: Links) -> dict[str, Any]:
        body = {"@context": links.context(), **release.status(), **self._digital_link(release.version)}
        body["signature"] = self.access.public(release.version).presentation(LIFECYCLE_CLAIM)
        if release.version["version"] != release.head["version"]:
            # Supersession and revocation are what the current version says.
            body["currentSignature"] = self.access.public(release.head).presentation(LIFECYCLE_CLAIM)
        return body

    def _digital_link(self, version: PassportItem) -> dict[str, str]:
        """`digitalLink`: the canonical GS1 Digital Link URI on this service's resolver, if any."""
        uri = canonical_uri(version["productId"], self.config.public_url)
        return {} if uri is None else {"digitalLink": uri}

    def artifact(self, release: Release, raw_type: str, principal: Principal, links: Links) -> dict[str, Any]:
        artifact_type, shown, reference = self._artifact(release, raw_type, principal)
        minutes = self.config.artifact_sas_minutes
        content_url = links.artifact_content(
            release.document["uniqueProductIdentifier"], release.label, artifact_type
        )
        return {
            "@context": links.context(),
            **reference,
            "downloadUrl": self.artifacts.download_url(reference, content_url),
            "downloadUrlExpiresAt": format_ts(utcnow() + timedelta(minutes=minutes)),
            "signature": shown.presentation((ENVELOPE_CLAIM, ARTIFACTS_CLAIM, artifact_type)),
        }

    def artifact_reference(self, release: Release, raw_type: str, principal: Principal) -> dict[str, Any]:
        """The reference of an artifact `principal` may read, refused exactly as the artifact view
        refuses it (what the content route serves)."""
        return self._artifact(release, raw_type, principal)[2]

    def _artifact(
        self, release: Release, raw_type: str, principal: Principal
    ) -> tuple[str, Shown, dict[str, Any]]:
        artifact_type = parse_artifact_type(raw_type)
        release.refuse_if_gone()
        if artifact_type not in release.version["artifacts"]:
            raise NotFound(
                f"No '{artifact_type}' artifact for {release.subject}", code=ErrorCode.ARTIFACT_NOT_FOUND
            )
        shown = self.access.shown(principal, release.version)
        reference = shown.artifacts.get(artifact_type)
        if reference is None:
            refuse_restricted(principal)
        return artifact_type, shown, reference

    def search(self, params: dict[str, str | None], links: Links) -> tuple[list[dict[str, Any]], str | None]:
        """Lite previews of the current passports that match, and the cursor of the next page."""
        query = parse_query(
            params.get("issuer"), params.get("status"), params.get("keyword"), params.get("limit")
        )
        index = self.search_index
        rows, cursor = index.find(query, params.get("cursor"))
        heads = self.lookups.map(self.passports.head, [row["dppId"] for row in rows])
        previews = []
        for head in heads:
            if head is None or head["deleted"]:
                continue
            public = self.access.public(head)
            if index.still_matches(query, head, public.document):
                previews.append(self._preview(head, public, links))
        return previews, cursor

    def _preview(self, head: PassportItem, public: Shown, links: Links) -> dict[str, Any]:
        release = Release(head, head)
        return {
            "@context": links.context(),
            "subject": release.subject,
            **self._digital_link(head),
            "issuer": head["document"]["economicOperatorId"],
            "status": release.status()["status"],
            "issuedAt": head["ts"],
            "litePreview": _sections(public, with_references=False),
            "contentHash": public.content_hash,
            "signature": public.presentation((DOCUMENT_CLAIM,)),
        }


def _sections(shown: Shown, *, with_references: bool) -> dict[str, Any]:
    """`<section>Inline` for each content section; with references, `<type>ByRef` beside it."""
    references = shown.artifacts if with_references else {}
    out: dict[str, Any] = {}
    for key, value in sections(shown.document).items():
        out[f"{key}{INLINE}"] = value
        if key in references:
            out[f"{key}ByRef"] = references[key]
    for artifact_type in ARTIFACT_TYPES:
        if artifact_type in references and f"{artifact_type}ByRef" not in out:
            out[f"{artifact_type}ByRef"] = references[artifact_type]
    return out


def signed_document(release: Release, links: Links) -> str:
    """Where the complete signed document of a release is read: ReadDPPById for the current label,
    ReadDPPVersionByIdAndDate for an older one."""
    dpp_id = release.version["dppId"]
    if release.version["version"] == release.head["version"]:
        return links.passport(dpp_id)
    return links.passport_at(dpp_id, release.version["ts"])


def parse_lite(raw: str | None) -> bool:
    return parse_bool(raw, "lite")
