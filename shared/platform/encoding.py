"""base64url without padding (RFC 4648 section 5), as JOSE and content hashes spell binary data."""

from __future__ import annotations

import base64


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
