"""The signing rate: a token bucket on a fake clock bounds signatures per window, Key Vault
signers of one vault share the process's bucket, and a 429's Retry-After is waited within a bound
(the real SDK against the Key Vault test double)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from shared.integrity.signing_rate import (
    HSM_SIGNS_PER_WINDOW,
    SOFTWARE_SIGNS_PER_WINDOW,
    VAULT_WINDOW_SECONDS,
    TokenBucket,
    default_rate,
    vault_bucket,
)
from tests.doubles.keyvault import KEY, KeyVaultDouble, fresh_vault, make_signer


class FakeClock:
    """Time that moves only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def busiest_window(times: list[float], window: float) -> int:
    """The most events in any `window` seconds (each window starting at an event)."""
    most, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= window:
            start += 1
        most = max(most, end - start + 1)
    return most


@pytest.fixture
def vault() -> Iterator[KeyVaultDouble]:
    with fresh_vault() as double:
        yield double


@pytest.mark.parametrize(("hsm", "limit"), [(True, HSM_SIGNS_PER_WINDOW), (False, SOFTWARE_SIGNS_PER_WINDOW)])
def test_the_default_rate_keeps_every_10_second_window_under_the_vaults_limit(hsm: bool, limit: int) -> None:
    clock = FakeClock()
    bucket = TokenBucket(default_rate(hsm), clock=clock, sleep=clock.sleep)
    times = []
    for _ in range(3 * limit):  # far more than a window's worth, asked for as fast as possible
        bucket.acquire()
        times.append(clock())

    busiest = busiest_window(times, VAULT_WINDOW_SECONDS)
    assert busiest <= limit
    # ... and it is a pace, not a stop: close to the rate over the whole run (80% plus the burst).
    assert busiest >= 0.8 * limit
    elapsed = times[-1] - times[0]
    assert len(times) / elapsed == pytest.approx(default_rate(hsm), rel=0.1)


def test_a_pause_holds_every_caller_back_and_slots_keep_their_order() -> None:
    clock = FakeClock()
    bucket = TokenBucket(10, burst_seconds=0, clock=clock, sleep=clock.sleep)
    bucket.acquire()
    bucket.pause(5)
    waited = bucket.acquire()
    assert waited == pytest.approx(5)
    # After the pause the pace is the rate again, not a burst of what the pause held back.
    assert bucket.acquire() == pytest.approx(0.1)


def test_signers_of_one_vault_share_the_process_bucket(vault: KeyVaultDouble) -> None:
    first, second = make_signer(vault), make_signer(vault, vault.latest_kid(KEY))
    assert first._bucket is second._bucket is vault_bucket(vault.vault_url, 1.0)
    # The double's key is a software key (kty EC): once the vault says so, the rate follows.
    first.public_jwk()
    assert first._bucket.rate == default_rate(hsm=False)


def test_a_configured_rate_is_the_vault_buckets_and_is_not_derived(vault: KeyVaultDouble) -> None:
    from shared.composition import make_signer as configured_signer
    from shared.platform.settings import Settings, load_settings

    settings = load_settings(
        {"DPP_SIGNING_RATE_PER_SECOND": "40", "DPP_SIGNING_KEY_ID": vault.latest_kid(KEY)}
    )
    assert settings.signing_rate_per_second == 40.0
    signer = configured_signer(settings)
    assert signer is not None
    assert signer._bucket is vault_bucket(vault.vault_url, 1.0)
    assert signer._bucket.rate == 40.0
    assert Settings().signing_rate_per_second is None


@pytest.mark.parametrize("raw", ["0", "-5", "fast", "inf", "nan"])
def test_a_signing_rate_that_is_not_a_positive_number_is_refused(raw: str) -> None:
    from shared.platform.settings import load_settings

    with pytest.raises(ValueError, match="DPP_SIGNING_RATE_PER_SECOND must be a number above 0"):
        load_settings({"DPP_SIGNING_RATE_PER_SECOND": raw})


def test_every_signature_takes_a_slot_of_the_bucket(vault: KeyVaultDouble) -> None:
    clock = FakeClock()
    bucket = TokenBucket(5, clock=clock, sleep=clock.sleep)
    signer = make_signer(vault, bucket=bucket)
    started = clock()

    for _ in range(20):
        signer.sign(b"input")

    assert vault.sign_count == 20
    # 5 in the burst, then 15 more at 5 per second.
    assert clock() - started == pytest.approx(3.0)


def test_a_long_retry_after_is_waited_within_a_bound_and_paces_the_others(vault: KeyVaultDouble) -> None:
    clock = FakeClock()
    bucket = TokenBucket(100, burst_seconds=0, clock=clock, sleep=clock.sleep)
    signer = make_signer(vault, bucket=bucket, max_retry_after=0.2)
    signer.public_jwk()  # authenticated, so the next sign meets the 429 at once
    vault.throttle(2, retry_after="30")

    started = time.monotonic()
    kid, signature = signer.sign(b"input")
    took = time.monotonic() - started

    assert len(signature) == 64 and kid == vault.latest_kid(KEY)
    assert vault.count("POST", "/sign", status=429) == 2
    # The SDK alone sleeps the whole Retry-After before each retry (a minute here).
    assert took < 5
    # The vault's answer holds the process's next signature back too.
    assert bucket.acquire() == pytest.approx(0.2, abs=0.05)
