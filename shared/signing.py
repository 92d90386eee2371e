"""Signing passports: one interface, a local EC P-256 key file or Azure Key Vault behind it.

A signer signs the JWS signing input (RFC 7515 section 5.1) with ES256 and answers with the exact
key version it used (the JWS `kid`) and the raw 64-byte r||s signature JWS wants.
"""

from __future__ import annotations

from typing import Any, Protocol


class Signer(Protocol):
    def sign(self, signing_input: bytes) -> tuple[str, bytes]:
        """(kid of the exact key version used, raw 64-byte r||s ES256 signature)."""
        ...

    def public_jwk(self) -> dict[str, Any]:
        """Public JWK of the key version `sign` uses now: kty EC, crv P-256, x, y, kid, alg, use."""
        ...
