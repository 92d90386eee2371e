"""How fast this process may ask Key Vault to sign: one token bucket per vault, shared by every
signer, import and API write of the process.

Key Vault throttles per vault and region over 10-second windows (P-256 sign: 2,000 for an HSM key,
4,000 for a software key; a subscription's ceiling is five vaults' worth), and answers 429 past it.
Staying under the limit is cheaper than riding through 429s: a throttled sign waits out a
Retry-After and is sent again, while a paced one just waits its turn.

The bucket is a reservation scheduler (GCRA): each caller reserves the next free slot under a lock
and sleeps outside it, so callers are served in turn and none waits longer than the queue ahead of
it needs. In any window of W seconds it lets through at most `rate * W + burst` signatures.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

# Documented limits (https://learn.microsoft.com/azure/key-vault/general/service-limits):
# "all other transactions" on ECC P-256 keys, per vault and region, per 10 seconds.
VAULT_WINDOW_SECONDS = 10.0
HSM_SIGNS_PER_WINDOW = 2_000
SOFTWARE_SIGNS_PER_WINDOW = 4_000
# The vault's budget is a weighted sum over every caller and operation (other instances, the
# public-key GETs and version listings of /v1/keys, Key Vault references the platform resolves),
# and the bucket may burst one second's worth on top of its rate: 80% leaves room for both
# (one instance sends at most 11 s of 160/s = 1,760 HSM signs in any 10 s window, under 2,000).
SAFETY_MARGIN = 0.8
BURST_SECONDS = 1.0


def default_rate(hsm: bool) -> float:
    """Signatures per second one instance may ask of one vault, for its key type."""
    per_window = HSM_SIGNS_PER_WINDOW if hsm else SOFTWARE_SIGNS_PER_WINDOW
    return per_window / VAULT_WINDOW_SECONDS * SAFETY_MARGIN


class TokenBucket:
    """`acquire()` blocks until one more signature fits the rate; `pause(s)` holds every caller
    back for s seconds (the vault said Retry-After). `clock` and `sleep` are injectable, so a test
    measures the rate on a fake clock instead of timing real sleeps."""

    def __init__(
        self,
        rate: float,
        *,
        burst_seconds: float = BURST_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._burst_seconds = burst_seconds
        self._set(rate)
        # Theoretical arrival time: when the bucket would be empty if every reservation were spent.
        self._tat = clock()

    @property
    def rate(self) -> float:
        return self._rate

    def set_rate(self, rate: float) -> None:
        with self._lock:
            self._set(rate)

    def _set(self, rate: float) -> None:
        if rate <= 0:
            raise ValueError(f"a signing rate must be above 0 per second, not {rate}")
        self._rate = rate
        self._interval = 1.0 / rate
        # At least one token, so a rate below 1/s still lets a signature through.
        self._tolerance = max(self._burst_seconds * rate, 1.0) * self._interval

    def acquire(self) -> float:
        """Reserve one signature's slot; sleeps until it comes and returns the seconds waited."""
        with self._lock:
            now = self._clock()
            tat = max(self._tat, now)
            allowed_at = tat + self._interval - self._tolerance
            self._tat = tat + self._interval
        wait = allowed_at - now
        if wait > 0:
            self._sleep(wait)
            return wait
        return 0.0

    def pause(self, seconds: float) -> None:
        """No slot before `seconds` from now (slots reserved already keep their turn after it)."""
        if seconds <= 0:
            return
        with self._lock:
            resume = self._clock() + seconds
            self._tat = max(self._tat, resume + self._tolerance - self._interval)


_SHARED: dict[str, TokenBucket] = {}
_SHARED_LOCK = threading.Lock()


def vault_bucket(vault_url: str, rate: float) -> TokenBucket:
    """The process's one bucket for a vault: every signer of that vault shares it (the limit is
    the vault's, not a signer's). The first rate asked for wins; `set_rate` changes it."""
    with _SHARED_LOCK:
        bucket = _SHARED.get(vault_url)
        if bucket is None:
            bucket = _SHARED[vault_url] = TokenBucket(rate)
        return bucket
