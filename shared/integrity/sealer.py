"""The sealer: issues a version's SD-JWT on write (never on read), with the key ring's signer."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shared.integrity.keyring import KeyRing
from shared.integrity.sd_jwt import ClaimPath, Issued, issue
from shared.integrity.signers import Signer
from shared.platform.errors import ErrorCode, ServiceUnavailable


class Sealer:
    """Signs each version once, as an SD-JWT (one signer call per version)."""

    def __init__(self, keyring: KeyRing):
        self.keyring = keyring

    @property
    def signer(self) -> Signer | None:
        return self.keyring.signer

    def issue(self, claims: dict[str, Any], disclosable: Iterable[ClaimPath]) -> Issued:
        signer = self.signer
        if signer is None:
            raise ServiceUnavailable(
                "Signing is not configured (DPP_SIGNING_KEY_ID or DPP_SIGNING_KEY_FILE); nothing was stored",
                code=ErrorCode.SIGNER_NOT_CONFIGURED,
            )
        kid = signer.public_jwk()["kid"]
        used: list[str] = []

        def sign(data: bytes) -> bytes:
            signed_with, signature = signer.sign(data)
            used.append(signed_with)
            return signature

        issued = issue(claims, disclosable, {"kid": kid}, sign)
        if used != [kid]:
            # The key rotated between naming it and signing: the signature would not verify.
            raise ServiceUnavailable(
                "Signing key rotated mid-write; retry",
                code=ErrorCode.SIGNER_ROTATED,
                headers={"Retry-After": "1"},
            )
        return issued
