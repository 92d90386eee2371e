"""Readiness: can this instance reach what it serves from?

Each probe is a named callable that returns when its dependency answers and raises when it does
not; the composition root decides which dependencies are probed (the passport store today).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from shared.platform.errors import DppError

log = logging.getLogger(__name__)

Probe = Callable[[], object]


class Readiness:
    def __init__(self, probes: Mapping[str, Probe]):
        self.probes = dict(probes)

    def check(self) -> dict[str, Any]:
        """`{"status": "ok" | "degraded", "checks": {name: "ok" | error code | "unreachable"}}`."""
        checks: dict[str, str] = {}
        for name, probe in self.probes.items():
            try:
                probe()
                checks[name] = "ok"
            except DppError as exc:
                checks[name] = exc.code
            except Exception as exc:
                log.warning("Readiness check %s failed: %s", name, exc)
                checks[name] = "unreachable"
        status = "ok" if all(value == "ok" for value in checks.values()) else "degraded"
        return {"status": status, "checks": checks}
