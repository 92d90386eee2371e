"""What an authority does before an operator can issue passports: assign its namespaces."""

from __future__ import annotations

from typing import Any


def assign(root: Any, operator_id: str, prefixes: list[str], companies: list[str] | None = None) -> None:
    """What an authority does before an operator can issue passports: assign its namespaces."""
    from shared.access.authentication import Principal
    from shared.access.roles import AUTHORITY

    authority = Principal("test-authority", frozenset({AUTHORITY}))
    body = {"productIdPrefixes": prefixes, "gs1CompanyPrefixes": companies or []}
    root.operators.assign(operator_id, body, authority)
