"""The extension point: what a connector's source gives the sync (docs/connectors.md).

A `Source` lists the products changed since a moment, page by page, each page with an opaque
`resume` string from which the listing goes on after an interruption; it flattens each product
into `values` named like the PIM's own CSV export (so the shipped file-import mapping applies
unchanged), and downloads media files. The sync (`shared.connectors.sync`) does everything else
(jobs, leases, checkpoints, writes, reports, removals), whatever the PIM.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol


class SourceError(Exception):
    """The PIM refused or failed a request; `reason` is safe to report (never a credential)."""

    def __init__(self, reason: str, status: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class Media:
    attribute: str  # the attribute holding the file
    code: str  # the PIM's file code
    artifact_type: str  # what the passport stores it as


@dataclass(frozen=True)
class SourceProduct:
    identifier: str
    updated: str | None
    values: dict[str, Any]
    media: tuple[Media, ...] = ()
    # Set when the product cannot be flattened (its values are then empty).
    error: str | None = None


@dataclass(frozen=True)
class Page:
    products: list[SourceProduct]
    # Where the listing goes on after this page (None: this was the last page).
    resume: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


class Source(Protocol):
    def changed(self, since: str | None, resume: str | None) -> Iterator[Page]:
        """Products changed after `since` (UTC, ISO 8601; None: every product), from `resume`
        (a page's `resume`) or the start."""
        ...

    def download(self, media: Media) -> tuple[bytes, str]:
        """The file's bytes and media type."""
        ...
