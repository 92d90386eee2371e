"""Other providers' passports as the tests read them: the service's own RemotePassports over the
real outbound client (loopback allowed, plain http), on a clock the test moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def remote_passports(clock: Clock) -> Any:
    from shared.platform.outbound import OutboundClient, OutboundRules
    from shared.publication.remote import RemotePassports

    return RemotePassports(OutboundClient(OutboundRules.of(True, ["127.0.0.0/8"])), clock=clock)
