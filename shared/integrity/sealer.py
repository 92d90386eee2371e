"""The sealer: hashes and signs a version's document on write, with the key ring's signer."""

from __future__ import annotations

from typing import Any

from shared.integrity.keyring import KeyRing
from shared.integrity.signatures import Seal, sign_document
from shared.integrity.signers import Signer
from shared.platform.errors import ErrorCode, ServiceUnavailable


class Sealer:
    """Hashes and signs a version's document on write (never on read)."""

    def __init__(self, keyring: KeyRing):
        self.keyring = keyring

    @property
    def signer(self) -> Signer | None:
        return self.keyring.signer

    def seal(self, document: dict[str, Any], seal: Seal) -> dict[str, Any]:
        signer = self.signer
        if signer is None:
            raise ServiceUnavailable(
                "Signing is not configured (DPP_SIGNING_KEY_ID or DPP_SIGNING_KEY_FILE); nothing was stored",
                code=ErrorCode.SIGNER_NOT_CONFIGURED,
            )
        jwk = signer.public_jwk()
        used: list[str] = []

        def sign(data: bytes) -> bytes:
            kid, signature = signer.sign(data)
            used.append(kid)
            return signature

        sealed = sign_document(document, seal, jwk["kid"], sign)
        if used != [jwk["kid"]]:
            # The key rotated between naming it and signing: the signature would not verify.
            raise ServiceUnavailable(
                "Signing key rotated mid-write; retry",
                code=ErrorCode.SIGNER_ROTATED,
                headers={"Retry-After": "1"},
            )
        return sealed
