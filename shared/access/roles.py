"""The app roles a token can carry, and `public`, which the access policy uses for everyone."""

from __future__ import annotations

OPERATOR, AUTHORITY, RECYCLER, REPAIRER = "operator", "authority", "recycler", "repairer"
PUBLIC = "public"
# Roles that may read restricted parts of a passport when the access policy says so.
READ_ROLES: frozenset[str] = frozenset({AUTHORITY, RECYCLER, REPAIRER, OPERATOR})
