"""The local signer: ES256 with a PEM key, and the key files beside it as the local key ring."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from shared.integrity.signers import LocalSigner, ensure_local_key, jwk_thumbprint
from shared.platform.encoding import b64url_decode


def public_key(jwk: dict) -> ec.EllipticCurvePublicKey:
    x, y = (int.from_bytes(b64url_decode(jwk[name]), "big") for name in ("x", "y"))
    return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()


def test_signs_es256_with_a_kid_named_by_the_keys_thumbprint(tmp_path: Path) -> None:
    signer = LocalSigner(ensure_local_key(tmp_path / "signing-key.pem"))
    jwk = signer.public_jwk()
    assert jwk["kid"] == "local:" + jwk_thumbprint(jwk)
    kid, raw = signer.sign(b"input")
    assert kid == jwk["kid"] and len(raw) == 64
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public_key(jwk).verify(der, b"input", ec.ECDSA(hashes.SHA256()))  # raises if it does not verify


def test_the_key_files_beside_the_key_are_trusted_and_nothing_else(tmp_path: Path) -> None:
    retired = LocalSigner(ensure_local_key(tmp_path / "2025-key.pem"))
    os.utime(tmp_path / "2025-key.pem", (1_700_000_000, 1_700_000_000))  # older than the current key
    (tmp_path / "notes.pem").write_text("not a key")
    (tmp_path / "elsewhere.txt").write_text("ignored")
    current = LocalSigner(ensure_local_key(tmp_path / "signing-key.pem"))
    kids = [key["kid"] for key in current.trusted_jwks()]
    assert kids == [retired.public_jwk()["kid"], current.public_jwk()["kid"]]
    (tmp_path / "2025-key.pem").unlink()  # withdrawing trust in a key is deleting its file
    assert [key["kid"] for key in current.trusted_jwks()] == [current.public_jwk()["kid"]]
