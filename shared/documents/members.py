"""Which members of a passport are the operator's product data, and which are the service's.

The one place that says so. A stored version holds:
- the *document*: exactly what the operator wrote (EN 18223 header fields and content sections)
  plus the server's `lastUpdate`;
- beside it, in the signed version envelope: the lifecycle (`dppLifecycle`), the artifact
  references (`dppArtifacts`) and the passport's own access policy (`dppAccessPolicy`).

A write body may carry `dppLifecycle` (its client part) and `dppAccessPolicy`; they are taken
out of the document before it is validated and go to the envelope. `dppArtifacts` only ever
changes through an artifact upload. A response adds `contentHash` and `signature`.
"""

from __future__ import annotations

from typing import Any

from shared.documents.lifecycle import ARTIFACTS, LIFECYCLE
from shared.documents.model import HEADER_FIELDS
from shared.integrity.signatures import INTEGRITY_FIELDS

ACCESS_POLICY = "dppAccessPolicy"
# Service data kept beside the document, in the order views and write bodies name them.
ENVELOPE_MEMBERS: tuple[str, ...] = (LIFECYCLE, ARTIFACTS, ACCESS_POLICY)
# What a write body may carry for the envelope (artifacts come from uploads only).
WRITABLE_ENVELOPE: tuple[str, ...] = (LIFECYCLE, ACCESS_POLICY)
HEADER: frozenset[str] = frozenset(HEADER_FIELDS)
# What the server alone writes: a client's value is replaced (lastUpdate, integrity) or refused.
SERVER_WRITTEN: tuple[str, ...] = ("lastUpdate", *INTEGRITY_FIELDS, ARTIFACTS)
NOT_PRODUCT_DATA: frozenset[str] = frozenset({*ENVELOPE_MEMBERS, *INTEGRITY_FIELDS})


def is_section(name: str, value: Any) -> bool:
    """A content section: a member that is neither a header field nor service data, holding an object."""
    return name not in HEADER and name not in NOT_PRODUCT_DATA and isinstance(value, dict)


# How the JSON-LD views name a content section: `<section>Inline`.
INLINE = "Inline"


def sections(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: value for name, value in document.items() if is_section(name, value)}


def split_write(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the document, the envelope members the body sets); integrity members are dropped."""
    document = {name: value for name, value in body.items() if name not in NOT_PRODUCT_DATA}
    envelope = {name: body[name] for name in ENVELOPE_MEMBERS if name in body}
    return document, envelope
