"""The key ring: the public keys a verifier should trust, anchored in the signer, not in the data.

The keys come from where the private keys live (the Key Vault key's enabled versions in Azure,
the local key files locally), so a writer of the service's database cannot add a key that
`/v1/keys`, the DID document or `/v1/verify` would then accept. The set is cached per process for
a few minutes; a signature naming a key the cache does not know refreshes it once (bounded, so a
stream of unknown kids cannot turn every verification into a vault call).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from shared.integrity.signers import Signer
from shared.platform.errors import DppError

log = logging.getLogger(__name__)

TRUSTED_FOR_SECONDS = 300.0
# An unknown kid refreshes the set at most this often (a key rotated moments ago appears at once).
REFRESH_AT_MOST_EVERY_SECONDS = 10.0


class KeyRing:
    def __init__(
        self,
        signer: Signer | None,
        *,
        ttl: float = TRUSTED_FOR_SECONDS,
        refresh_floor: float = REFRESH_AT_MOST_EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._signer = signer
        self._ttl = ttl
        self._refresh_floor = refresh_floor
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: list[dict[str, Any]] | None = None
        self._fetched_at = 0.0

    @property
    def signer(self) -> Signer | None:
        return self._signer

    @signer.setter
    def signer(self, signer: Signer | None) -> None:
        """Another signer (a rotation to another vault key, a test double) brings its own keys."""
        with self._lock:
            self._signer = signer
            self._keys = None

    def jwks(self) -> dict[str, Any]:
        """The trusted keys as a JWKS (RFC 7517), oldest first."""
        return {"keys": [dict(key) for key in self._trusted(max_age=self._ttl)]}

    def jwk(self, kid: str) -> dict[str, Any] | None:
        """The trusted key named `kid`, or None when the signer does not hold it."""
        found = _named(self._trusted(max_age=self._ttl), kid)
        if found is None:
            found = _named(self._trusted(max_age=self._refresh_floor), kid)
        return dict(found) if found is not None else None

    def _trusted(self, max_age: float) -> list[dict[str, Any]]:
        with self._lock:
            signer = self._signer
            if signer is None:
                return []
            now = self._clock()
            if self._keys is None or now - self._fetched_at >= max_age:
                try:
                    self._keys = [dict(key) for key in signer.trusted_jwks()]
                except DppError:
                    if self._keys is None:
                        raise
                    # The vault is throttled or away: the keys it named a moment ago still hold.
                    log.warning("Could not refresh the trusted keys; keeping the last set")
                self._fetched_at = now
            return self._keys


def _named(keys: list[dict[str, Any]], kid: str) -> dict[str, Any] | None:
    return next((key for key in keys if key.get("kid") == kid), None)
