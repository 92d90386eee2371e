"""The key ring: every public key version that has signed a passport, kept in the store.

Every key version that ever signed is published before the first version it signed is stored,
so the JWKS endpoint (and the DID document) can verify everything ever written.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from typing import Any

from shared.platform.clock import utcnow
from shared.storage.cosmos import SIGNING_KEYS, ItemExists, Store

KEY_SET = "jwks"


class KeyRing:
    """Every public key version that has signed, kept in one partition of the store."""

    def __init__(self, store: Store):
        self.store = store
        self._published: set[str] = set()
        self._lock = threading.Lock()

    @staticmethod
    def item_id(kid: str) -> str:
        # kids are URLs (Key Vault) and may hold characters Cosmos forbids in ids.
        return hashlib.sha256(kid.encode("utf-8")).hexdigest()

    def publish(self, jwk: dict[str, Any]) -> None:
        kid = jwk["kid"]
        if kid in self._published:
            return
        item = {
            "id": self.item_id(kid),
            "keySet": KEY_SET,
            "kid": kid,
            "jwk": jwk,
            "publishedAt": utcnow().isoformat(),
        }
        # ItemExists: published by another instance, or by this one before a restart.
        with contextlib.suppress(ItemExists):
            self.store.create(SIGNING_KEYS, item)
        with self._lock:
            self._published.add(kid)

    def jwk(self, kid: str) -> dict[str, Any] | None:
        item = self.store.read(SIGNING_KEYS, self.item_id(kid), KEY_SET)
        return item["jwk"] if item else None

    def jwks(self) -> dict[str, Any]:
        rows = self.store.query_partition(
            SIGNING_KEYS,
            "SELECT c.jwk, c.publishedAt FROM c WHERE c.keySet = @set",
            {"@set": KEY_SET},
            KEY_SET,
        )
        return {"keys": [row["jwk"] for row in sorted(rows, key=lambda row: row["publishedAt"])]}
