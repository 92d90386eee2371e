"""What one reader is shown of a stored version, and the SD-JWT presentation that proves it.

A version is issued once, on write, as an SD-JWT whose disclosures are listed with their claim
paths (`{"path": [...], "disclosure": "..."}`). A read decides which disclosures the reader may
have (`policy.withheld`), removes exactly those parts from the document and the envelope, and
presents the issuer-signed JWT with the remaining disclosures: what the response shows and what
the presentation discloses are the same by construction, and a withheld part leaves only its
salted digest behind, inside the signed JWT.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.access.policy import (
    ARTIFACTS_CLAIM,
    DOCUMENT_CLAIM,
    ENVELOPE_CLAIM,
    POLICY_CLAIM,
    AccessPolicy,
    ClaimPath,
    Viewer,
    is_withheld,
    prune,
    withheld,
)
from shared.integrity.sd_jwt import present
from shared.integrity.signatures import content_hash


@dataclass(frozen=True)
class Shown:
    """A version as one reader may see it."""

    document: dict[str, Any]
    artifacts: dict[str, Any]
    access_policy: dict[str, Any] | None
    complete: bool
    # Every disclosure the reader may have, by claim path (the presentation picks from these).
    disclosures: tuple[tuple[ClaimPath, str], ...]
    jwt: str
    # The version's own digest: what `content_hash` is when nothing was withheld.
    stored_hash: str | None = None

    @property
    def content_hash(self) -> str:
        """The digest of the document as shown (docs/integrity.md says how to check it)."""
        if self.complete and self.stored_hash:
            return self.stored_hash
        return content_hash(self.document)

    def presentation(self, under: ClaimPath = ()) -> str:
        """The SD-JWT presentation of what is shown; with `under`, only of the part at that claim
        path (its enclosing disclosures and those inside it)."""
        chosen = [
            encoded
            for path, encoded in self.disclosures
            if path[: len(under)] == under or under[: len(path)] == path
        ]
        return present(self.jwt, chosen)


def stored_disclosures(version: Mapping[str, Any]) -> list[tuple[ClaimPath, str]]:
    return [(tuple(entry["path"]), entry["disclosure"]) for entry in version.get("disclosures", [])]


def complete_presentation(version: Mapping[str, Any]) -> str:
    """The presentation disclosing everything: for the owner's own copies (exports)."""
    return present(version["sdJwt"], [encoded for _, encoded in stored_disclosures(version)])


def show(version: Mapping[str, Any], viewer: Viewer, deployment: AccessPolicy) -> Shown:
    """`version` (a stored version or head item) as `viewer` may see it."""
    disclosures = stored_disclosures(version)
    own_policy = version.get("accessPolicy")
    refused = withheld([path for path, _ in disclosures], viewer, deployment, own_policy, version["document"])
    document = prune(version["document"], (DOCUMENT_CLAIM,), refused)
    artifacts = prune(version.get("artifacts") or {}, (ENVELOPE_CLAIM, ARTIFACTS_CLAIM), refused)
    policy_shown = None if is_withheld((ENVELOPE_CLAIM, POLICY_CLAIM), refused) else own_policy
    return Shown(
        document=document,
        artifacts=artifacts,
        access_policy=policy_shown,
        complete=not any(path in refused for path, _ in disclosures),
        disclosures=tuple((path, encoded) for path, encoded in disclosures if not is_withheld(path, refused)),
        jwt=version["sdJwt"],
        stored_hash=version.get("contentHash"),
    )
