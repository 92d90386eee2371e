"""The issuer's did:web document, listing every key version that has signed a passport.

did:web resolves `did:web:<host>:api` to `https://<host>/api/did.json` (the path form), which the
Functions host can serve under its `api` route prefix; `/.well-known/did.json` at the root cannot
be served by a host whose routes all start with `api/`.
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
