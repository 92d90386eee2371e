"""The stored shapes of a passport, as they cross module boundaries (Cosmos items, typed).

A passport is a partition of the `passports` container: immutable version items and one `head`
item holding the current version's copy (same fields, `id` "head", `type` "head"). Which
members are the operator's and which the service's: `shared.documents.members`. A product's
`lookup` item in `products` names its current passport and the ones it had before.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

from shared.documents.lifecycle import LabelEntry


class StoredDisclosure(TypedDict):
    path: list[str]
    disclosure: str


class PassportItem(TypedDict):
    """A version item (`v0000000001`, ...) or the head (a copy of the current version)."""

    id: str
    dppId: str
    type: Literal["version", "head"]
    version: int
    ts: str
    operation: str
    writer: str
    writeId: str
    deleted: bool
    productId: str
    economicOperatorId: str
    createdAt: str
    etag: str
    label: str
    labels: list[LabelEntry]
    # The operator's document, and beside it the service's data (the signed envelope).
    document: dict[str, Any]
    lifecycle: dict[str, Any]
    artifacts: dict[str, Any]
    accessPolicy: dict[str, Any] | None
    # Integrity: the document's digest, the issuer-signed JWT and every disclosure with its claim
    # path; `versionDigest` is what the next version names as `previousDigest`.
    contentHash: str
    sdJwt: str
    disclosures: list[StoredDisclosure]
    versionDigest: str
    previousDigest: str | None
    # The offline core data a carrier's URI carries (shared.passports.core_data).
    coreToken: NotRequired[str]
    # The UNTP credential (a compact vc+jwt) and the passport's Bitstring Status List entry
    # (`{"list", "index"}`, the same in every version): shared.publication.untp.
    untpCredential: NotRequired[str]
    credentialStatus: NotRequired[dict[str, Any]]
    # Cosmos DB's optimistic concurrency token; present on items read from the store.
    _etag: NotRequired[str]


class ProductLookup(TypedDict):
    """The product's current passport, and every passport it had before (oldest first)."""

    id: str
    productId: str
    dppId: str
    previous: list[str]
    updatedAt: str
    _etag: NotRequired[str]
