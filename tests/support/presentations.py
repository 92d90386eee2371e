"""How a third party checks a response: the RFC 9901 reference implementation (PyPI `sd-jwt`, on
jwcrypto), which the service does not use, with the published keys alone; and a JCS digest."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from jwcrypto.jwk import JWK
from sd_jwt.verifier import SDJWTVerifier


def verified(presentation: str, keys: dict[str, Any]) -> dict[str, Any]:
    """The claims a presentation discloses, verified with the JWKS `keys` (GET /v1/keys)."""

    def issuer_key(issuer: str, header: dict[str, Any]) -> JWK:
        found = [key for key in keys["keys"] if key["kid"] == header["kid"]]
        assert found, f"kid {header['kid']} is not published"
        return JWK.from_json(json.dumps(found[0]))

    return SDJWTVerifier(presentation, issuer_key).get_verified_payload()


def jcs_hash(document: dict[str, Any]) -> str:
    """`sha256-` + base64url(SHA-256(JCS(document))). JCS (RFC 8785) is sorted, compact JSON for
    the documents tests use: ASCII names, and numbers Python and ECMAScript print alike."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode("utf-8")).digest()
    return "sha256-" + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def b64json(part: str) -> Any:
    """A base64url (unpadded) JSON part of a JWT, decoded: a header or a payload."""
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
