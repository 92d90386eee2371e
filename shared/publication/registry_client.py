"""The HTTP client of the external DPP registry: one POST of a registration, and what came of it.

No registry standard for the request body exists yet (the EN 18222 annex notes it); adapt this
module to a real registry's API.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

DELIVERED, RETRIED, FAILED = "delivered", "retried", "failed"
ERROR_DETAIL_CHARS = 300


@dataclass(frozen=True)
class Sent:
    outcome: str  # DELIVERED, RETRIED (transient failure) or FAILED (permanent refusal)
    error: str | None = None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is answered, not followed: urllib would resend a POST as a bodiless GET."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class RegistryClient:
    """Sends registrations as JSON; safe to share between threads."""

    def __init__(self) -> None:
        self._opener = urllib.request.build_opener(_NoRedirects)

    def post(self, url: str, payload: dict[str, Any], idempotency_key: str, timeout: float) -> Sent:
        try:
            parts = urlsplit(url)
            valid = parts.scheme.lower() in {"http", "https"} and bool(parts.hostname)
        except ValueError:
            valid = False
        if not valid:
            # A configuration error: retryable, so fixing DPP_REGISTRY_URL lets pending items through.
            return Sent(RETRIED, "DPP_REGISTRY_URL is not an absolute http(s) URL")
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                "Idempotency-Key": idempotency_key,
            },
        )
        try:
            with self._opener.open(request, timeout=timeout) as response:
                response.read()
                return Sent(DELIVERED)
        except urllib.error.HTTPError as exc:
            with exc:
                detail = exc.read(ERROR_DETAIL_CHARS).decode("utf-8", "replace").strip()
            text = f"HTTP {exc.code}" + (f": {detail}" if detail else "")
            retryable = exc.code in {408, 429} or exc.code >= 500
            return Sent(RETRIED if retryable else FAILED, text[:ERROR_DETAIL_CHARS])
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            return Sent(RETRIED, f"{type(exc).__name__}: {reason}"[:ERROR_DETAIL_CHARS])
