"""CORS (the Fetch standard's CORS protocol) for every route, answered by the app itself.

- A request without `Authorization` is a public read (or a public POST such as `/v1/verify`):
  its response carries `Access-Control-Allow-Origin: *`, never credentials, so any web page may
  read public passports, keys, DID documents and the JSON-LD context.
- A request with `Authorization` is answered with the caller's origin only when that origin is
  listed in `DPP_CORS_ORIGINS`; from any other origin the browser gets no grant and keeps the
  response from the page.
- Preflights (`OPTIONS`, on every route) are 204. A listed origin is granted every method and the
  request headers the API reads (`Authorization`, `If-Match`, ...); any other origin is granted
  the public methods and headers, without `Authorization`, so its browser never sends a token.

Azure's platform CORS is left off (`siteConfig.cors` empty in infra/modules/functionapp.bicep):
when it is on, it answers preflights itself and replaces these headers.
"""

from __future__ import annotations

from collections.abc import Mapping

ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
PUBLIC_METHODS = ("GET", "HEAD", "POST", "OPTIONS")
PUBLIC_HEADERS = (
    "Accept",
    "Accept-Language",
    "Content-Type",
    "If-None-Match",
    "X-Correlation-Id",
    "Traceparent",
)
ALL_HEADERS = ("Authorization", "If-Match", *PUBLIC_HEADERS)
EXPOSED = (
    "ETag",
    "Location",
    "Link",
    "Retry-After",
    "Content-Language",
    "DPP-Signature",
    "DPP-Disclosure",
    "DPP-Registration",
    "DPP-Resolved-Level",
    "DPP-Carrier-Symbol",
    "DPP-Carrier-Bytes",
    "X-Correlation-Id",
)
PREFLIGHT_MAX_AGE = 600


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return ""


class CorsPolicy:
    def __init__(self, allowed_origins: tuple[str, ...]):
        self.allowed_origins = frozenset(origin.lower() for origin in allowed_origins)

    def listed(self, origin: str) -> bool:
        return origin.lower() in self.allowed_origins

    def response_headers(self, request_headers: Mapping[str, str]) -> dict[str, str]:
        """The CORS members of an actual response to a request with these headers."""
        origin = _header(request_headers, "origin")
        if not origin:
            return {}
        exposed = {"Access-Control-Expose-Headers": ", ".join(EXPOSED)}
        if not _header(request_headers, "authorization").strip():
            return {"Access-Control-Allow-Origin": "*", **exposed}
        if self.listed(origin):
            return {"Access-Control-Allow-Origin": origin, "Vary": "Origin", **exposed}
        return {}

    def preflight_headers(self, request_headers: Mapping[str, str]) -> dict[str, str]:
        """The answer to a preflight: what this origin may send."""
        origin = _header(request_headers, "origin")
        listed = bool(origin) and self.listed(origin)
        return {
            "Access-Control-Allow-Origin": origin if listed else "*",
            "Access-Control-Allow-Methods": ", ".join(ALL_METHODS if listed else PUBLIC_METHODS),
            "Access-Control-Allow-Headers": ", ".join(ALL_HEADERS if listed else PUBLIC_HEADERS),
            "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE),
            "Vary": "Origin",
        }
