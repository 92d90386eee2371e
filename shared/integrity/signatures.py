"""Content hashes, detached JWS signatures and the hash chain of a passport's versions.

Formats (documented for third parties in docs/integrity.md):
- `contentHash` = "sha256-" + base64url(SHA-256(JCS(document without contentHash and signature))).
- `signature` = a JWS in compact serialization with a detached payload (RFC 7515 Appendix F):
  `BASE64URL(header) + ".." + BASE64URL(r||s)`. The payload is the JCS bytes above; the signing
  input is the usual `BASE64URL(header) + "." + BASE64URL(payload)`. The protected header is
  `{"alg": "ES256", "kid": <exact key version>, "cty": "application/json", "dppId": ...,
  "dppVersion": n, "dppOperation": ..., "dppPreviousHash": <contentHash of version n-1>}`, so the
  chain of versions is signed as well: a removed or reordered version breaks a signature.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.integrity.canonical import canonicalize
from shared.platform.encoding import b64url, b64url_decode
from shared.platform.json_input import read_json

INTEGRITY_FIELDS = ("contentHash", "signature")
ALGORITHM = "ES256"


def unsigned(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key not in INTEGRITY_FIELDS}


def signed_payload(document: dict[str, Any]) -> bytes:
    """What the hash and the signature cover: the JCS form of the document without them."""
    return canonicalize(unsigned(document))


def content_hash(document: dict[str, Any]) -> str:
    return "sha256-" + b64url(hashlib.sha256(signed_payload(document)).digest())


@dataclass(frozen=True)
class Seal:
    """Where a version sits in its passport's history; signed into the JWS header."""

    dpp_id: str
    version: int
    operation: str
    previous_hash: str | None


def protected_header(kid: str, seal: Seal) -> dict[str, Any]:
    header: dict[str, Any] = {
        "alg": ALGORITHM,
        "kid": kid,
        "cty": "application/json",
        "dppId": seal.dpp_id,
        "dppVersion": seal.version,
        "dppOperation": seal.operation,
    }
    if seal.previous_hash is not None:
        header["dppPreviousHash"] = seal.previous_hash
    return header


def signing_input(encoded_header: str, payload: bytes) -> bytes:
    return f"{encoded_header}.{b64url(payload)}".encode("ascii")


def sign_document(
    document: dict[str, Any], seal: Seal, kid: str, sign: Callable[[bytes], bytes]
) -> dict[str, Any]:
    """The document with `contentHash` and `signature` appended (any stale ones replaced)."""
    body = unsigned(document)
    payload = canonicalize(body)
    header = b64url(json.dumps(protected_header(kid, seal), separators=(",", ":")).encode("utf-8"))
    signature = sign(signing_input(header, payload))
    return {
        **body,
        "contentHash": "sha256-" + b64url(hashlib.sha256(payload).digest()),
        "signature": f"{header}..{b64url(signature)}",
    }


def parse_jws(compact: str) -> tuple[str, dict[str, Any], bytes]:
    """(encoded header, header, raw signature) of a detached compact JWS; ValueError if malformed."""
    if not isinstance(compact, str):
        raise ValueError("signature is not a string")
    parts = compact.split(".")
    if len(parts) != 3 or parts[1] != "":
        raise ValueError("signature is not a compact JWS with a detached payload")
    header = read_json(b64url_decode(parts[0]))
    if not isinstance(header, dict):
        raise ValueError("JWS header is not an object")
    return parts[0], header, b64url_decode(parts[2])
