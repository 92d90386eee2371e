"""ES256 signing with an Azure Key Vault key: the private key never leaves the vault.

The signer hashes the JWS signing input locally and asks Key Vault to sign the SHA-256 digest. The
answer names the key version that signed, so a signer configured with a versionless key id follows
key rotation and still reports the exact `kid` a verifier needs.

SDK failures become what the HTTP layer understands: throttling and outages are `ServiceUnavailable`
(503 with Retry-After, the caller may retry); a key or permission that can never work is a
`SignerError`, which the HTTP layer logs and answers with a generic 500.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlparse

from shared.integrity.signing_rate import TokenBucket, default_rate, vault_bucket
from shared.platform.encoding import b64url, b64url_decode
from shared.platform.errors import ErrorCode, ServiceUnavailable

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential
    from azure.core.rest import HttpResponse
    from azure.keyvault.keys import KeyClient, KeyVaultKey
    from azure.keyvault.keys.crypto import CryptographyClient

log = logging.getLogger(__name__)

ES256_SIGNATURE_BYTES = 64
THROTTLED_TEXT = "Signing service is throttled; retry later"
UNAVAILABLE_TEXT = "Signing service is unavailable; retry later"
UNAVAILABLE_RETRY_AFTER = "5"
_EC_KEY_TYPES = frozenset({"EC", "EC-HSM"})
# Key Vault error codes are short identifiers; anything else is not echoed into our messages.
_ERROR_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_.]{0,63}$")
# Signing changes nothing in the vault, so a retried POST is as safe as a retried GET. Without
# this the SDK retries POSTs only on 500/503/504 and never after a connection error.
_SIGN_RETRY_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "POST"})
# The SDK sleeps whatever Retry-After a 429 names, before each of its retries, with no upper bound;
# a request must not hang on one answer, so each wait is capped (the caller's retry goes on later).
MAX_RETRY_AFTER_SECONDS = 4.0


class SignerError(RuntimeError):
    """The signer can never succeed as configured (wrong key type, unknown key, no permission)."""


@dataclass(frozen=True)
class KeyRef:
    """A parsed Key Vault key identifier; `version` is None for "the latest version"."""

    vault_url: str
    name: str
    version: str | None

    @property
    def kid(self) -> str:
        base = f"{self.vault_url}/keys/{self.name}"
        return f"{base}/{self.version}" if self.version else base


def parse_key_id(key_id: str) -> KeyRef:
    """`https://<vault>/keys/<name>[/<version>]`, or ValueError naming what is wrong."""
    parsed = urlparse(key_id.strip())
    segments = [segment for segment in parsed.path.split("/") if segment]
    if parsed.scheme != "https" or not parsed.netloc or parsed.query or parsed.fragment:
        raise ValueError(f"Key Vault key id must be an https URL, got {key_id!r}")
    if len(segments) not in (2, 3) or segments[0] != "keys":
        raise ValueError(
            f"Key Vault key id must look like https://<vault>/keys/<name>[/<version>], got {key_id!r}"
        )
    version = segments[2] if len(segments) == 3 else None
    return KeyRef(f"https://{parsed.netloc}", segments[1], version)


class KeyVaultSigner:
    """`Signer` backed by an EC P-256 key in Azure Key Vault.

    One KeyClient (public keys) and one CryptographyClient (signing) per instance, created here:
    constructing them is cheap and offline, and reusing them keeps the challenge-auth token and
    the connection pool warm across requests. Safe to share between threads.

    A versioned `key_id` pins that version. A versionless one signs with whatever version is
    latest in the vault, so a rotation in Key Vault takes effect without a restart.
    `version_check_interval` bounds how long `public_jwk` trusts the last version Key Vault named.

    Every signature takes a slot of `bucket` first (by default the process's one bucket for the
    vault, at `signing_rate` per second, or, without one, at the rate for the key's type as the
    vault reports it: HSM until it says otherwise). A 429's Retry-After holds the whole bucket back.
    """

    def __init__(
        self,
        key_id: str,
        credential: TokenCredential,
        *,
        transport_options: dict[str, Any] | None = None,
        max_retries: int = 3,
        version_check_interval: float = 300.0,
        signing_rate: float | None = None,
        bucket: TokenBucket | None = None,
        max_retry_after: float = MAX_RETRY_AFTER_SECONDS,
    ) -> None:
        # Imported here, not at module level: the SDK is a noticeable share of a cold start.
        from azure.keyvault.keys import KeyClient
        from azure.keyvault.keys.crypto import CryptographyClient

        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self._ref = parse_key_id(key_id)
        # Without a rate or bucket given, the rate follows the key type once the vault names it.
        self._derive_rate = signing_rate is None and bucket is None
        self._bucket = bucket or vault_bucket(self._ref.vault_url, default_rate(hsm=True))
        if signing_rate is not None and bucket is None:
            self._bucket.set_rate(signing_rate)
        options = _client_options(max_retries, transport_options or {})
        options["retry_policy"] = _paced_retry_policy(self._bucket, max_retry_after, options)
        self._keys: KeyClient = KeyClient(self._ref.vault_url, credential, **options)
        self._crypto: CryptographyClient = CryptographyClient(self._ref.kid, credential, **options)
        self._recheck_after = version_check_interval
        # Versioned kid -> public JWK. Written without the lock: racing threads store equal values.
        self._jwks: dict[str, dict[str, Any]] = {}
        # Versionless keys: (kid Key Vault last named as current, monotonic time it did so).
        self._current: tuple[str, float] | None = None
        self._lock = threading.Lock()

    @property
    def key_id(self) -> str:
        """The key id as configured (versionless means: always the latest version)."""
        return self._ref.kid

    def sign(self, signing_input: bytes) -> tuple[str, bytes]:
        digest = hashlib.sha256(signing_input).digest()
        self._bucket.acquire()
        started = time.monotonic()
        response = self._send_sign(digest)
        kid, signature = self._read_sign_result(response)
        if len(signature) != ES256_SIGNATURE_BYTES:
            raise SignerError(
                f"Key Vault returned a {len(signature)}-byte ES256 signature for {kid}; "
                f"expected {ES256_SIGNATURE_BYTES} bytes (raw r||s)"
            )
        if not self._ref.version:
            # A versionless sign uses the latest version, so its answer says which one that is.
            self._learn_current(kid, started)
        return kid, signature

    def public_jwk(self) -> dict[str, Any]:
        if self._ref.version:
            # A pinned version never changes: one fetch for the life of the signer.
            return dict(self._jwks.get(self._ref.kid) or self._fetch_jwk())
        # Versionless: every sign reports the current version, so a busy signer needs no GET here
        # and a write stays one Key Vault call. A signer that has not heard from Key Vault for a
        # while asks again, so an idle instance picks up a rotation before its next signature.
        # Right after a rotation a busy instance may name the old version here once and sign with
        # the new one; the caller sees the kids differ (the Sealer answers SignerRotated, retry).
        known = self._current
        if known and time.monotonic() - known[1] < self._recheck_after and known[0] in self._jwks:
            return dict(self._jwks[known[0]])
        return dict(self._fetch_jwk())

    def trusted_jwks(self) -> list[dict[str, Any]]:
        """Every enabled version of the key, as the vault lists them, oldest first.

        The vault is the trust anchor: a version disabled there (a compromised key) stops being
        trusted here, and nothing written to the service's data can add one. Each version's
        public key is fetched once per signer; the listing is one call (and its next pages).
        """
        from azure.core.exceptions import AzureError

        try:
            listed = list(self._keys.list_properties_of_key_versions(self._ref.name))
        except AzureError as exc:
            raise _translate(exc, "list key versions", self._ref.kid) from exc
        enabled = sorted(
            (version for version in listed if version.enabled and version.version),
            key=lambda version: (version.created_on is None, version.created_on, version.version),
        )
        return [self._version_jwk(str(version.version)) for version in enabled]

    def _version_jwk(self, version: str) -> dict[str, Any]:
        known = self._jwks.get(KeyRef(self._ref.vault_url, self._ref.name, version).kid)
        if known is not None:
            return dict(known)
        jwk = _jwk_from_key(self._get_key(version))
        self._jwks[jwk["kid"]] = jwk
        return dict(jwk)

    def _fetch_jwk(self) -> dict[str, Any]:
        started = time.monotonic()
        key = self._get_key()
        if self._derive_rate:
            self._bucket.set_rate(default_rate(hsm=_is_hsm(key)))
        jwk = self._jwks.get(str(key.id)) or _jwk_from_key(key)
        self._jwks[jwk["kid"]] = jwk
        if not self._ref.version:
            self._learn_current(jwk["kid"], started)
        return jwk

    def _learn_current(self, kid: str, asked_at: float) -> None:
        # Keep the newest answer: a slow response from before a rotation must not undo a newer one.
        with self._lock:
            if self._current is None or asked_at >= self._current[1]:
                self._current = (kid, asked_at)

    def close(self) -> None:
        self._keys.close()
        self._crypto.close()

    def _send_sign(self, digest: bytes) -> HttpResponse:
        from azure.core.exceptions import AzureError
        from azure.core.rest import HttpRequest
        from azure.keyvault.keys.crypto import SignatureAlgorithm

        # CryptographyClient.sign would first fetch the key, pin the version it saw and keep
        # signing with it after a rotation, and report the pinned id instead of the version the
        # service used. Sending the documented sign operation through the client's own pipeline
        # (auth, retries, transport) keeps the call remote and lets the service name the version.
        # An empty version is Key Vault's "latest", exactly as the SDK itself sends it.
        version = quote(self._ref.version or "", safe="")
        request = HttpRequest(
            "POST",
            f"/keys/{quote(self._ref.name, safe='')}/{version}/sign",
            json={"alg": SignatureAlgorithm.es256.value, "value": b64url(digest)},
        )
        try:
            response = self._crypto.send_request(request, retry_on_methods=_SIGN_RETRY_METHODS)
        except AzureError as exc:
            raise _translate(exc, "sign", self._ref.kid) from exc
        if response.status_code != 200:
            retry_after = response.headers.get("Retry-After")
            raise _failure(response.status_code, retry_after, _error_code(response), "sign", self._ref.kid)
        return response

    def _read_sign_result(self, response: HttpResponse) -> tuple[str, bytes]:
        try:
            body = response.json()
            kid = parse_key_id(str(body["kid"]))
            signature = b64url_decode(str(body["value"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise SignerError("Key Vault answered the sign request with an unreadable result") from exc
        if kid.name != self._ref.name or not kid.version:
            raise SignerError(f"Key Vault signed with {kid.kid!r}, not a version of {self._ref.kid!r}")
        if self._ref.version and kid.version != self._ref.version:
            raise SignerError(f"Key Vault signed with {kid.kid!r}, not the configured {self._ref.kid!r}")
        return kid.kid, signature

    def _get_key(self, version: str | None = None) -> KeyVaultKey:
        """The configured key (`version` None: as configured, pinned or latest), or one version of it."""
        from azure.core.exceptions import AzureError

        wanted = version or self._ref.version
        try:
            return self._keys.get_key(self._ref.name, wanted)
        except AzureError as exc:
            raise _translate(exc, "get key", KeyRef(self._ref.vault_url, self._ref.name, wanted).kid) from exc


def _client_options(max_retries: int, transport_options: dict[str, Any]) -> dict[str, Any]:
    """SDK client settings: a bounded retry budget so a request never waits on Key Vault for long."""
    options: dict[str, Any] = {
        "retry_total": max_retries,
        # The per-kind budgets default to 3 each and would silently cap a larger max_retries.
        "retry_connect": max_retries,
        "retry_read": max_retries,
        "retry_status": max_retries,
        "retry_backoff_factor": 0.2,
        "retry_backoff_max": 4,
        # requests' defaults are 300 s; a vault that does not answer within these is unavailable.
        "connection_timeout": 5,
        "read_timeout": 10,
    }
    options.update(transport_options)
    return options


def _paced_retry_policy(bucket: TokenBucket, cap: float, options: dict[str, Any]) -> Any:
    """The SDK's retry policy, built from the same retry settings, with each Retry-After wait
    capped at `cap` and passed to `bucket`, so the process's other signers hold back too."""
    from azure.core.pipeline.policies import RetryPolicy

    class _PacedRetryPolicy(RetryPolicy):
        def get_retry_after(self, response: Any) -> float | None:
            asked = super().get_retry_after(response)
            if asked is None:
                return None
            waited = min(asked, cap)
            bucket.pause(waited)
            return waited

    retry = {name: value for name, value in options.items() if name.startswith("retry_")}
    return _PacedRetryPolicy(**retry)


def _is_hsm(key: KeyVaultKey) -> bool:
    jwk: Any = key.key
    return str(getattr(jwk.kty, "value", jwk.kty)).endswith("-HSM")


def _jwk_from_key(key: KeyVaultKey) -> dict[str, Any]:
    # JsonWebKey sets its fields (kty, crv, x, y, ...) dynamically, so their types are unknown.
    jwk: Any = key.key
    kty = str(getattr(jwk.kty, "value", jwk.kty))
    crv = str(getattr(jwk.crv, "value", jwk.crv)) if jwk.crv else None
    if kty not in _EC_KEY_TYPES or crv != "P-256":
        raise SignerError(
            f"Key Vault key {key.id} is {kty} {crv or ''}".rstrip() + "; ES256 needs an EC P-256 key"
        )
    if not jwk.x or not jwk.y:
        raise SignerError(f"Key Vault key {key.id} has no public EC coordinates")
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": b64url(jwk.x),
        "y": b64url(jwk.y),
        "kid": str(key.id),
        "alg": "ES256",
        "use": "sig",
    }


def _error_code(response: HttpResponse) -> str | None:
    """Key Vault's error code from an error body, never the free-text message."""
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None
    return code if isinstance(code, str) and _ERROR_CODE.match(code) else None


def _translate(exc: Exception, operation: str, key_id: str) -> Exception:
    from azure.core.exceptions import (
        ClientAuthenticationError,
        HttpResponseError,
        ServiceRequestError,
        ServiceResponseError,
    )

    # A sync client's error carries a sync HttpResponse (headers, json), typed as their common base.
    response: Any = exc.response if isinstance(exc, HttpResponseError) else None
    if response is not None:
        retry_after = response.headers.get("Retry-After")
        return _failure(response.status_code or 0, retry_after, _error_code(response), operation, key_id)
    if isinstance(exc, ServiceRequestError | ServiceResponseError | ClientAuthenticationError):
        # Unreachable vault, timeout, or no token (a managed identity endpoint hiccup): transient.
        # The HTTP layer does not log 503s, so the cause is logged here (type only: no secrets).
        log.warning("Key Vault %s for %s failed: %s", operation, key_id, type(exc).__name__)
        return _unavailable()
    return SignerError(f"Key Vault {operation} for {key_id} failed: {type(exc).__name__}")


def _failure(
    status: int, retry_after: str | None, code: str | None, operation: str, key_id: str
) -> Exception:
    """The exception for a Key Vault answer that is not a success, after the SDK's retries."""
    log.warning("Key Vault %s for %s answered HTTP %s %s", operation, key_id, status, code or "")
    if status == 429:
        headers = {"Retry-After": retry_after or "1"}
        return ServiceUnavailable(THROTTLED_TEXT, code=ErrorCode.SIGNER_THROTTLED, headers=headers)
    if status >= 500 or status == 408:
        return _unavailable()
    detail = f"HTTP {status}" + (f" {code}" if code else "")
    if status in (401, 403):
        return SignerError(
            f"Key Vault refused the signer's identity for {operation} on {key_id} ({detail}); "
            "check the identity's keys/get and keys/sign permissions"
        )
    if status == 404:
        return SignerError(f"Key Vault has no key {key_id} ({detail})")
    return SignerError(
        f"Key Vault rejected the {operation} request for {key_id} ({detail}); "
        "ES256 needs an enabled EC P-256 key"
    )


def _unavailable() -> ServiceUnavailable:
    headers = {"Retry-After": UNAVAILABLE_RETRY_AFTER}
    return ServiceUnavailable(UNAVAILABLE_TEXT, code=ErrorCode.SIGNER_UNAVAILABLE, headers=headers)
