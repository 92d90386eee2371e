"""Readiness: can this instance reach the passport store?"""

from __future__ import annotations

import logging
from typing import Any

from shared.errors import DppError
from shared.store import PASSPORTS, get_store

log = logging.getLogger(__name__)


def check_readiness() -> dict[str, Any]:
    checks: dict[str, str] = {}
    try:
        # A point read of an id that never exists: cheapest proof the container answers.
        get_store().read(PASSPORTS, "health-probe", "health-probe")
        checks["cosmos"] = "ok"
    except DppError as exc:
        checks["cosmos"] = exc.code
    except Exception as exc:
        log.warning("Readiness check failed: %s", exc)
        checks["cosmos"] = "unreachable"
    status = "ok" if all(value == "ok" for value in checks.values()) else "degraded"
    return {"status": status, "checks": checks}
