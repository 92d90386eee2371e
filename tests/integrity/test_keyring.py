"""The key ring trusts what the signer holds: cached briefly, refreshed (boundedly) for an unknown
kid, reset with the signer, kept through a vault hiccup, and never read from the service's data."""

from __future__ import annotations

from typing import Any

import pytest

from shared.integrity.keyring import KeyRing
from shared.platform.errors import ErrorCode, ServiceUnavailable


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class ListingSigner:
    """A signer whose trusted keys the test sets, counting how often they are listed."""

    def __init__(self, *kids: str) -> None:
        self.kids = list(kids)
        self.listings = 0
        self.down = False

    def public_jwk(self) -> dict[str, Any]:
        return {"kid": self.kids[-1]}

    def sign(self, signing_input: bytes) -> tuple[str, bytes]:
        raise AssertionError("a key ring never signs")

    def trusted_jwks(self) -> list[dict[str, Any]]:
        self.listings += 1
        if self.down:
            raise ServiceUnavailable("vault away", code=ErrorCode.SIGNER_UNAVAILABLE)
        return [{"kid": kid, "kty": "EC"} for kid in self.kids]


def ring(signer: ListingSigner, clock: Clock) -> KeyRing:
    return KeyRing(signer, ttl=300, refresh_floor=10, clock=clock)


def test_the_trusted_set_is_the_signers_and_is_cached() -> None:
    signer, clock = ListingSigner("k1", "k2"), Clock()
    keys = ring(signer, clock)
    assert [key["kid"] for key in keys.jwks()["keys"]] == ["k1", "k2"]
    assert keys.jwk("k1") == {"kid": "k1", "kty": "EC"}
    assert signer.listings == 1
    clock.now += 299
    keys.jwks()
    assert signer.listings == 1
    clock.now += 2
    keys.jwks()
    assert signer.listings == 2


def test_an_unknown_kid_refreshes_at_most_every_few_seconds() -> None:
    signer, clock = ListingSigner("k1"), Clock()
    keys = ring(signer, clock)
    keys.jwks()
    signer.kids.append("k2")  # rotated in the vault
    clock.now += 11
    assert keys.jwk("k2") == {"kid": "k2", "kty": "EC"}  # found by one refresh
    listings = signer.listings
    for _ in range(50):
        assert keys.jwk("forged") is None
    assert signer.listings == listings  # a stream of unknown kids is not a stream of vault calls
    clock.now += 11
    assert keys.jwk("forged") is None
    assert signer.listings == listings + 1


def test_a_new_signer_brings_its_own_keys() -> None:
    clock = Clock()
    keys = ring(ListingSigner("old"), clock)
    assert keys.jwk("old") == {"kid": "old", "kty": "EC"}
    keys.signer = ListingSigner("new")
    assert [key["kid"] for key in keys.jwks()["keys"]] == ["new"]
    assert keys.jwk("old") is None


def test_a_vault_hiccup_keeps_the_last_set_and_a_first_failure_is_reported() -> None:
    signer, clock = ListingSigner("k1"), Clock()
    keys = ring(signer, clock)
    keys.jwks()
    signer.down = True
    clock.now += 301
    assert keys.jwk("k1") == {"kid": "k1", "kty": "EC"}  # the last set, though its time is up
    assert signer.listings == 2  # it was asked again, and failed
    fresh = ring(ListingSigner("k1"), clock)
    fresh.signer.down = True  # type: ignore[union-attr]
    with pytest.raises(ServiceUnavailable) as reported:
        fresh.jwks()
    assert reported.value.code == ErrorCode.SIGNER_UNAVAILABLE  # the signer's own failure, passed on


def test_without_a_signer_nothing_is_trusted() -> None:
    keys = KeyRing(None)
    assert keys.jwks() == {"keys": []}
    assert keys.jwk("anything") is None
