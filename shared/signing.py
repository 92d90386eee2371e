"""Signing passports: one interface, a local EC P-256 key file or Azure Key Vault behind it.

A signer names the exact key version it signs with (the JWS `kid`, which is itself signed, so it
must be known before signing) and signs the JWS signing input with ES256, answering the raw
64-byte r||s that JWS wants. Every key version that ever signed is published (`KeyRing`) before
the first version it signed is stored, so the JWKS endpoint can verify everything ever written.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import threading
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from shared.config import Settings, settings
from shared.errors import ServiceUnavailable
from shared.integrity import Seal, b64url, sign_document
from shared.store import SIGNING_KEYS, ItemExists, Store, get_store

log = logging.getLogger(__name__)
KEY_SET = "jwks"


class Signer(Protocol):
    def public_jwk(self) -> dict[str, Any]:
        """Public JWK (kty EC, crv P-256, x, y, kid, alg ES256, use sig) of the key `sign` uses."""
        ...

    def sign(self, signing_input: bytes) -> tuple[str, bytes]:
        """(kid of the exact key version used, raw 64-byte r||s ES256 signature)."""
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
    """An EC P-256 key in a PEM file; its kid is `local:` + the key's RFC 7638 thumbprint."""

    def __init__(self, key_file: Path):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        key = serialization.load_pem_private_key(Path(key_file).read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise ValueError(f"{key_file} is not an EC P-256 private key")
        self._key = key
        anonymous = ec_public_jwk(key.public_key(), "")
        self._jwk = {**anonymous, "kid": f"local:{jwk_thumbprint(anonymous)}"}

    def public_jwk(self) -> dict[str, Any]:
        return dict(self._jwk)

    def sign(self, signing_input: bytes) -> tuple[str, bytes]:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        r, s = decode_dss_signature(self._key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        return self._jwk["kid"], r.to_bytes(32, "big") + s.to_bytes(32, "big")


class KeyRing:
    """Every public key version that has signed, kept in one partition of the store."""

    def __init__(self, store: Store):
        self.store = store
        self._published: set[str] = set()
        self._lock = threading.Lock()

    @staticmethod
    def item_id(kid: str) -> str:
        # kids are URLs (Key Vault) and may hold characters Cosmos forbids in ids.
        return hashlib.sha256(kid.encode("utf-8")).hexdigest()

    def publish(self, jwk: dict[str, Any]) -> None:
        kid = jwk["kid"]
        if kid in self._published:
            return
        item = {
            "id": self.item_id(kid),
            "keySet": KEY_SET,
            "kid": kid,
            "jwk": jwk,
            "publishedAt": datetime.now(UTC).isoformat(),
        }
        # ItemExists: published by another instance, or by this one before a restart.
        with contextlib.suppress(ItemExists):
            self.store.create(SIGNING_KEYS, item)
        with self._lock:
            self._published.add(kid)

    def jwk(self, kid: str) -> dict[str, Any] | None:
        item = self.store.read(SIGNING_KEYS, self.item_id(kid), KEY_SET)
        return item["jwk"] if item else None

    def jwks(self) -> dict[str, Any]:
        rows = self.store.query_partition(
            SIGNING_KEYS,
            "SELECT c.jwk, c.publishedAt FROM c WHERE c.keySet = @set",
            {"@set": KEY_SET},
            KEY_SET,
        )
        return {"keys": [row["jwk"] for row in sorted(rows, key=lambda row: row["publishedAt"])]}


class Sealer:
    """Hashes and signs a version's document on write (never on read)."""

    def __init__(self, signer: Signer | None, keyring: KeyRing):
        self.signer = signer
        self.keyring = keyring

    def seal(self, document: dict[str, Any], seal: Seal) -> dict[str, Any]:
        if self.signer is None:
            raise ServiceUnavailable(
                "Signing is not configured (DPP_SIGNING_KEY_ID or DPP_SIGNING_KEY_FILE); nothing was stored",
                code="SignerNotConfigured",
            )
        jwk = self.signer.public_jwk()
        self.keyring.publish(jwk)
        used: list[str] = []

        def sign(data: bytes) -> bytes:
            kid, signature = self.signer.sign(data)  # type: ignore[union-attr]
            used.append(kid)
            return signature

        sealed = sign_document(document, seal, jwk["kid"], sign)
        if used != [jwk["kid"]]:
            # The key rotated between naming it and signing: the signature would not verify.
            raise ServiceUnavailable(
                "Signing key rotated mid-write; retry", code="SignerRotated", headers={"Retry-After": "1"}
            )
        return sealed


def make_signer(config: Settings) -> Signer | None:
    if config.signing_key_id:
        from azure.identity import DefaultAzureCredential

        from shared.keyvault_signer import KeyVaultSigner

        credential = DefaultAzureCredential(managed_identity_client_id=config.managed_identity_client_id)
        return KeyVaultSigner(config.signing_key_id, credential)
    if config.signing_key_file:
        return LocalSigner(Path(config.signing_key_file))
    log.warning("No signing key configured: every write will be refused")
    return None


@lru_cache(maxsize=1)
def get_sealer() -> Sealer:
    """The process-wide sealer (one signer client per process)."""
    return Sealer(make_signer(settings()), KeyRing(get_store()))
