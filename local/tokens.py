"""A local development token issuer: an EC P-256 key, its JWKS, and bearer tokens signed with it.

Only for local runs and tests. In Azure, tokens come from Entra ID and this module is not deployed
(.funcignore excludes `local/`).

    python -m local.tokens --dir .local/dev-issuer --role operator --operator <economicOperatorId>
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

ISSUER = "urn:dpp:local-dev-issuer"
AUDIENCE = "api://dpp-service"
KEY_FILE = "issuer-key.pem"
JWKS_FILE = "jwks.json"


def ensure_issuer(directory: Path) -> Path:
    """Create the issuer key and JWKS once; returns the JWKS file's path."""
    directory.mkdir(parents=True, exist_ok=True)
    key_path, jwks_path = directory / KEY_FILE, directory / JWKS_FILE
    if not key_path.exists():
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        key_path.write_bytes(pem)
        key_path.chmod(0o600)
    if not jwks_path.exists():
        jwks_path.write_text(json.dumps({"keys": [_public_jwk(_private_key(directory))]}, indent=2))
    return jwks_path


def _private_key(directory: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key((directory / KEY_FILE).read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def _public_jwk(key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    jwk = json.loads(ECAlgorithm.to_jwk(key.public_key()))
    jwk.update({"use": "sig", "alg": "ES256", "kid": _kid(key)})
    return jwk


def _kid(key: ec.EllipticCurvePrivateKey) -> str:
    numbers = key.public_key().public_numbers()
    return f"local-{numbers.x:x}"[:22]


def mint(
    directory: Path,
    *,
    roles: list[str],
    operator: str | None = None,
    subject: str | None = None,
    ttl_seconds: int = 3600,
    operator_claim: str = "economicOperatorId",
    issuer: str = ISSUER,
    audience: str = AUDIENCE,
) -> str:
    key = _private_key(directory)
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": subject or f"local-user-{uuid.uuid4().hex[:8]}",
        "iat": now,
        "nbf": now,
        "exp": now + ttl_seconds,
        "roles": roles,
    }
    if operator:
        claims[operator_claim] = operator
    return jwt.encode(claims, key, algorithm="ES256", headers={"kid": _kid(key)})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Print a bearer token from the local dev issuer")
    parser.add_argument("--dir", default=".local/dev-issuer", type=Path)
    parser.add_argument("--role", default="operator", help="comma-separated app roles")
    parser.add_argument("--operator", default=None, help="economicOperatorId the token acts for")
    parser.add_argument("--subject", default=None)
    parser.add_argument("--ttl", default=3600, type=int)
    args = parser.parse_args(argv)
    ensure_issuer(args.dir)
    roles = [role.strip() for role in args.role.split(",") if role.strip()]
    print(mint(args.dir, roles=roles, operator=args.operator, subject=args.subject, ttl_seconds=args.ttl))


if __name__ == "__main__":
    main()
