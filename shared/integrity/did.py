"""The issuer's did:web documents: the service's, and one per economic operator it issues for.

Each lists every key version the signer holds. A passport's SD-JWT names as `iss` its operator's
DID under the service's (`did:web:<host>:api:v1:operators:<operator id>`); that document names the
operator id in `alsoKnownAs` and the service as its controller, so a verifier goes from a view's
`issuer` to the key that signed it.

did:web resolves `did:web:<host>:<p1>:<p2>` to `https://<host>/<p1>/<p2>/did.json` (the path
form). The service's DID names the API's first path segment (`api`) as its path: the root form,
`https://<host>/.well-known/did.json`, would sit beside the GS1 resolver's own well-known entry.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from shared.integrity.signers import jwk_thumbprint

CONTEXT = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/jws-2020/v1"]
# The API's first path segment, which the service's DID names (functions.routes.API; a test keeps them equal).
API_PREFIX = "api"
# Below the service's DID, each economic operator the service issues for has its own.
OPERATORS_PATH = ("v1", "operators")


def service_did(public_url: str) -> str:
    """The service's DID for its public base URL (`https://dpp.example.com` → did:web:dpp.example.com:api)."""
    host = urlsplit(public_url).netloc or public_url
    return did_for(host, API_PREFIX)


def operator_did(service: str, operator_id: str) -> str:
    """The DID the service issues an operator's passports under; it resolves to
    `<service's base>/v1/operators/<operator id>/did.json`, which names the operator."""
    return ":".join([service, *OPERATORS_PATH, quote(operator_id, safe="")])


def operator_of(did: str, service: str | None = None) -> str | None:
    """The operator id an operator DID names (optionally: only under `service`), else None."""
    marker = ":" + ":".join(OPERATORS_PATH) + ":"
    base, found, tail = did.rpartition(marker)
    if not found or not tail or ":" in tail or (service is not None and base != service):
        return None
    return unquote(tail)


def did_for(host: str, route_prefix: str) -> str:
    # A port's colon is percent-encoded in did:web; path segments become colon-separated.
    parts = [quote(host, safe="")] + [
        quote(part, safe="") for part in route_prefix.strip("/").split("/") if part
    ]
    return "did:web:" + ":".join(parts)


def did_document(
    did: str, jwks: dict[str, Any], *, controller: str | None = None, also_known_as: list[str] | None = None
) -> dict[str, Any]:
    methods = [
        {
            # Fragments must be URL-safe; kids may be URLs, so the key's thumbprint names it.
            "id": f"{did}#{jwk_thumbprint(key)}",
            "type": "JsonWebKey2020",
            "controller": controller or did,
            "publicKeyJwk": key,
        }
        for key in jwks["keys"]
    ]
    ids = [method["id"] for method in methods]
    document: dict[str, Any] = {"@context": CONTEXT, "id": did}
    if controller:
        document["controller"] = controller
    if also_known_as:
        document["alsoKnownAs"] = also_known_as
    return {
        **document,
        "verificationMethod": methods,
        "assertionMethod": ids,
        "authentication": ids,
    }


def did_web_url(did: str, scheme: str = "https") -> tuple[str, str]:
    """(host, URL of the DID document) a did:web DID resolves to; ValueError when it is not one.
    `scheme` is https but for local development, where a provider may be served over http."""
    if not isinstance(did, str) or not did.startswith("did:web:"):
        raise ValueError("the issuer is not a did:web DID")
    raw_host, *path = did[len("did:web:") :].split(":")
    host = unquote(raw_host)
    # Segments stay percent-encoded, as they are in the URL: an operator id may hold a `/`.
    if not _HOST.fullmatch(host) or not all(_SEGMENT.fullmatch(part) for part in path):
        raise ValueError("the did:web DID is malformed")
    where = "/".join(path) if path else ".well-known"
    return host, f"{scheme}://{host}/{where}/did.json"


_HOST = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")
_SEGMENT = re.compile(r"[A-Za-z0-9._~%-]+")
