"""What a caller may do and see: every authorization decision is made here.

`authorize` judges operations (writes, the full view, an archive); `AccessControl` applies the
deployment's access policy to what a caller reads. Both take the `Principal` authentication made.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from shared.access.authentication import Principal
from shared.access.policy import ANONYMOUS_VIEWER, AccessPolicy, Disclosure, Viewer, disclose, element_value
from shared.access.roles import AUTHORITY, OPERATOR, READ_ROLES
from shared.platform.errors import ErrorCode, Forbidden, NotFound, Unauthorized


class Action(Enum):
    READ = "read"
    READ_FULL = "readFull"  # the seed contract's full view: any reading role
    READ_ARCHIVE = "readArchive"  # history of a deleted passport (EN 18221 archive)
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    MANAGE_OPERATORS = "manageOperators"  # the operator registry: authorities only, to read or change


def authorize(action: Action, principal: Principal, passport: dict[str, Any] | None) -> None:
    """Allow or refuse `action` on `passport` (its compressed document); raises on refusal.

    Writes are judged twice: first with `passport=None` (token and role, before any I/O), then
    with the stored or submitted document (ownership).
    """
    if action is Action.READ:
        return
    if action is Action.READ_FULL:
        if _owns(principal, passport) or principal.roles & READ_ROLES:
            return
        if not principal.authenticated:
            raise Unauthorized(
                "The full passport needs a bearer token", code=ErrorCode.AUTHENTICATION_REQUIRED
            )
        raise Forbidden(
            f"The full passport needs one of the roles {', '.join(sorted(READ_ROLES))}",
            code=ErrorCode.ROLE_REQUIRED,
        )
    if action is Action.READ_ARCHIVE:
        if passport is not None and owner_or_authority(principal, passport.get("economicOperatorId")):
            return
        # An archived passport is gone for everyone else: do not reveal that it existed.
        raise NotFound("No passport found", code=ErrorCode.PASSPORT_NOT_FOUND)
    if not principal.authenticated:
        raise Unauthorized("This operation needs a bearer token", code=ErrorCode.AUTHENTICATION_REQUIRED)
    if action is Action.MANAGE_OPERATORS:
        if AUTHORITY not in principal.roles:
            raise Forbidden("The operator registry needs the 'authority' role", code=ErrorCode.ROLE_REQUIRED)
        return
    if OPERATOR not in principal.roles:
        raise Forbidden("This operation needs the 'operator' role", code=ErrorCode.ROLE_REQUIRED)
    # Without a passport yet (before the body is parsed or the head is read) only the role is judged.
    if passport is not None and not _owns(principal, passport):
        raise Forbidden(
            "The token's economic operator does not own this passport", code=ErrorCode.NOT_PASSPORT_OWNER
        )


def owner_or_authority(principal: Principal, operator_id: str | None) -> bool:
    """May read what belongs to one economic operator (its archive, its jobs): that operator, or an
    authority."""
    return _owns(principal, {"economicOperatorId": operator_id}) or AUTHORITY in principal.roles


def viewer(principal: Principal, passport: dict[str, Any]) -> Viewer:
    """The reader as the access policy sees them."""
    return Viewer(principal.roles & READ_ROLES, _owns(principal, passport))


def _owns(principal: Principal, passport: dict[str, Any] | None) -> bool:
    return (
        passport is not None
        and OPERATOR in principal.roles
        and principal.operator_id is not None
        and principal.operator_id == passport.get("economicOperatorId")
    )


class AccessControl:
    """The deployment's access policy applied to readers: the one filter of every read."""

    def __init__(self, policy: AccessPolicy):
        self.policy = policy

    def disclosure(self, principal: Principal, passport: dict[str, Any]) -> Disclosure:
        """What of `passport` (a compressed document) `principal` may read."""
        return disclose(passport, viewer(principal, passport), self.policy)

    def public_document(self, document: dict[str, Any]) -> dict[str, Any]:
        """What anyone may read of a document (search keywords and previews come from this only)."""
        return disclose(document, ANONYMOUS_VIEWER, self.policy).document

    def element(
        self, principal: Principal, passport: dict[str, Any], segments: tuple[Any, ...], value: Any
    ) -> Any:
        """The part of the element at `segments` the principal may read; refuses a restricted element."""
        allowed, shown = element_value(passport, segments, value, viewer(principal, passport), self.policy)
        if not allowed:
            if not principal.authenticated:
                raise Unauthorized(
                    "This element is restricted; send a bearer token", code=ErrorCode.ELEMENT_RESTRICTED
                )
            raise Forbidden("The token's roles may not read this element", code=ErrorCode.ELEMENT_RESTRICTED)
        return shown
