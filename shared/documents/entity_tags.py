"""Strong entity tags for passports (RFC 9110 section 8.8.3) and the If-Match / If-None-Match rules."""

from __future__ import annotations

import hashlib
import json
from typing import Any

COMPRESSED, FULL = "compressed", "full"


def content_etag(value: Any) -> str:
    """A strong validator of a JSON value's content, independent of key order."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def entity_tag(content_etag: str, representation: str = COMPRESSED) -> str:
    # Each representation is a different body, so each gets its own strong tag.
    suffix = "" if representation == COMPRESSED else f"-{representation}"
    return f'"{content_etag}{suffix}"'


def _tags(header: str) -> list[str]:
    return [part.strip().removeprefix("W/") for part in header.split(",") if part.strip()]


def if_match_holds(header: str | None, content_etag: str | None) -> bool:
    """If-Match uses strong comparison; any representation's tag of the current version matches."""
    if header is None or header.strip() == "":
        return True
    if content_etag is None:
        return False
    if header.strip() == "*":
        return True
    current = {entity_tag(content_etag, COMPRESSED), entity_tag(content_etag, FULL)}
    return any(tag in current for tag in (part.strip() for part in header.split(",")))


def not_modified(header: str | None, tag: str) -> bool:
    """If-None-Match uses weak comparison (RFC 9110 13.1.2): true means answer 304."""
    if header is None or header.strip() == "":
        return False
    if header.strip() == "*":
        return True
    return tag in _tags(header)
