"""Signers: one interface, a local EC P-256 key file or Azure Key Vault (`keyvault_signer`) behind it.

A signer names the exact key version it signs with (the JWS `kid`, which is itself signed, so it
must be known before signing) and signs the JWS signing input with ES256, answering the raw
64-byte r||s that JWS wants. It is also the trust anchor: `trusted_jwks` lists the public keys a
verifier should accept, read from where the private keys live (the vault's key versions, the local
key files), never from the service's data.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any, Protocol

from shared.platform.encoding import b64url

log = logging.getLogger(__name__)


class Signer(Protocol):
    def public_jwk(self) -> dict[str, Any]:
        """Public JWK (kty EC, crv P-256, x, y, kid, alg ES256, use sig) of the key `sign` uses."""
        ...

    def sign(self, signing_input: bytes) -> tuple[str, bytes]:
        """(kid of the exact key version used, raw 64-byte r||s ES256 signature)."""
        ...

    def trusted_jwks(self) -> list[dict[str, Any]]:
        """Every public key a verifier should trust (current and retired versions), oldest first."""
        ...


def ec_public_jwk(public_key: Any, kid: str) -> dict[str, Any]:
    numbers = public_key.public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": b64url(numbers.x.to_bytes(32, "big")),
        "y": b64url(numbers.y.to_bytes(32, "big")),
        "kid": kid,
        "alg": "ES256",
        "use": "sig",
    }


def jwk_thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 thumbprint of an EC public key."""
    members = {name: jwk[name] for name in ("crv", "kty", "x", "y")}
    return b64url(hashlib.sha256(json.dumps(members, separators=(",", ":")).encode()).digest())


def ensure_local_key(path: Path) -> Path:
    """Create the local signing key once (`make run` and the tests call this)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        path.chmod(0o600)
    return path


class LocalSigner:
    """An EC P-256 key in a PEM file; its kid is `local:` + the key's RFC 7638 thumbprint.

    The key files of the directory it sits in are the local key ring: after a rotation (a new file,
    named by DPP_SIGNING_KEY_FILE), the retired files stay beside it and keep old passports
    verifiable; deleting a file withdraws the trust in its key.
    """

    def __init__(self, key_file: Path):
        self._key_file = Path(key_file)
        self._key = _load_key(self._key_file)
        self._jwk = _local_jwk(self._key)

    def public_jwk(self) -> dict[str, Any]:
        return dict(self._jwk)

    def sign(self, signing_input: bytes) -> tuple[str, bytes]:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        r, s = decode_dss_signature(self._key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        return self._jwk["kid"], r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def trusted_jwks(self) -> list[dict[str, Any]]:
        files = sorted(
            self._key_file.parent.glob("*.pem"), key=lambda path: (path.stat().st_mtime, path.name)
        )
        keys = []
        for path in files:
            if path == self._key_file:
                continue
            try:
                keys.append(_local_jwk(_load_key(path)))
            except (ValueError, TypeError, OSError) as exc:
                # Not a key this service signs with: it is not trusted, and it breaks nothing else.
                log.warning("Ignoring %s in the local key ring: %s", path.name, exc)
        return [*keys, self.public_jwk()]


def _load_key(key_file: Path) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError(f"{key_file} is not an EC P-256 private key")
    return key


def _local_jwk(key: Any) -> dict[str, Any]:
    anonymous = ec_public_jwk(key.public_key(), "")
    return {**anonymous, "kid": f"local:{jwk_thumbprint(anonymous)}"}
