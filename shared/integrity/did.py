"""The issuer's did:web document, listing every key version that has signed a passport.

did:web resolves `did:web:<host>:<p1>:<p2>` to `https://<host>/<p1>/<p2>/did.json` (the path
form). The issuer's DID names the Functions route prefix as its path, because a host whose every
route starts with that prefix cannot serve the root form, `https://<host>/.well-known/did.json`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from shared.integrity.signers import jwk_thumbprint

CONTEXT = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/jws-2020/v1"]


def did_for(host: str, route_prefix: str) -> str:
    # A port's colon is percent-encoded in did:web; path segments become colon-separated.
    parts = [quote(host, safe="")] + [
        quote(part, safe="") for part in route_prefix.strip("/").split("/") if part
    ]
    return "did:web:" + ":".join(parts)


def did_document(did: str, jwks: dict[str, Any]) -> dict[str, Any]:
    methods = [
        {
            # Fragments must be URL-safe; kids may be URLs, so the key's thumbprint names it.
            "id": f"{did}#{jwk_thumbprint(key)}",
            "type": "JsonWebKey2020",
            "controller": did,
            "publicKeyJwk": key,
        }
        for key in jwks["keys"]
    ]
    ids = [method["id"] for method in methods]
    return {
        "@context": CONTEXT,
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": ids,
        "authentication": ids,
    }
