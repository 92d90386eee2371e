"""The sealer: issues a version's SD-JWT on write (never on read), with the key ring's signer."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from shared.integrity.keyring import KeyRing
from shared.integrity.sd_jwt import ClaimPath, Issued, compact_jws, issue
from shared.integrity.signers import Signer, jwk_thumbprint
from shared.platform.errors import ErrorCode, ServiceUnavailable

T = TypeVar("T")


class Sealer:
    """Signs each version once, as an SD-JWT (one signer call per version)."""

    def __init__(self, keyring: KeyRing):
        self.keyring = keyring

    @property
    def signer(self) -> Signer | None:
        return self.keyring.signer

    def _signer(self) -> Signer:
        signer = self.signer
        if signer is None:
            raise ServiceUnavailable(
                "Signing is not configured (DPP_SIGNING_KEY_ID or DPP_SIGNING_KEY_FILE); nothing was stored",
                code=ErrorCode.SIGNER_NOT_CONFIGURED,
            )
        return signer

    def kid(self) -> str:
        return str(self._signer().public_jwk()["kid"])

    def _signed_once(self, make: Callable[[str, Callable[[bytes], bytes]], T]) -> T:
        """`make(kid, sign)`, refused when the key rotated between naming it and signing."""
        signer = self._signer()
        kid = signer.public_jwk()["kid"]
        used: list[str] = []

        def sign(data: bytes) -> bytes:
            signed_with, signature = signer.sign(data)
            used.append(signed_with)
            return signature

        made = make(kid, sign)
        if used != [kid]:
            # The key rotated between naming it and signing: the signature would not verify.
            raise ServiceUnavailable(
                "Signing key rotated mid-write; retry",
                code=ErrorCode.SIGNER_ROTATED,
                headers={"Retry-After": "1"},
            )
        return made

    def issue(self, claims: dict[str, Any], disclosable: Iterable[ClaimPath]) -> Issued:
        return self._signed_once(lambda kid, sign: issue(claims, disclosable, {"kid": kid}, sign))

    def compact_jws(self, payload: dict[str, Any], typ: str) -> str:
        """A compact JWS (ES256) over `payload`: for tokens that must stay small (core data)."""
        return self._signed_once(lambda kid, sign: compact_jws(payload, {"kid": kid, "typ": typ}, sign))

    def jws_under_did(self, payload: dict[str, Any], did: str, header: dict[str, Any]) -> str:
        """A compact JWS (ES256) whose `kid` is the DID URL of the signing key's verification
        method in `did`'s document (`did#<RFC 7638 thumbprint>`, as `shared.integrity.did` names
        it): for credentials a verifier resolves through did:web (VC-JOSE-COSE)."""

        def make(kid: str, sign: Callable[[bytes], bytes]) -> str:
            jwk = self._signer().public_jwk()
            if jwk["kid"] != kid:  # rotated between naming the key and reading it
                raise ServiceUnavailable(
                    "Signing key rotated mid-write; retry",
                    code=ErrorCode.SIGNER_ROTATED,
                    headers={"Retry-After": "1"},
                )
            return compact_jws(payload, {**header, "kid": f"{did}#{jwk_thumbprint(jwk)}"}, sign)

        return self._signed_once(make)
