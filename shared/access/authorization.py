"""What a caller may do and see: every authorization decision is made here.

`authorize` judges operations (writes, the full view, an archive); `AccessControl` applies the
deployment's access policy to what a caller reads. Both take the `Principal` authentication made.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from enum import Enum
from typing import Any, NoReturn

from shared.access.authentication import Principal
from shared.access.disclosure import Shown, show
from shared.access.policy import (
    ANONYMOUS_VIEWER,
    AccessPolicy,
    ClaimPath,
    Viewer,
    disclosable,
    disclose,
    may_read,
    passport_policy,
)
from shared.access.roles import AUTHORITY, OPERATOR, READ_ROLES
from shared.documents.members import NOT_PRODUCT_DATA
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

    def shown(self, principal: Principal, version: Mapping[str, Any]) -> Shown:
        """What of a stored version `principal` may read, with its presentation."""
        return show(version, viewer(principal, version["document"]), self.policy)

    def public_document(self, document: dict[str, Any], own_policy: dict[str, Any] | None) -> dict[str, Any]:
        """What anyone may read of a document not yet issued (the core data of a carrier)."""
        return disclose(document, ANONYMOUS_VIEWER, self.policy, own_policy).document

    def public(self, version: Mapping[str, Any]) -> Shown:
        """What anyone may read of a version (search keywords and previews come from this only)."""
        return show(version, ANONYMOUS_VIEWER, self.policy)

    def disclosable(
        self, document: dict[str, Any], artifacts: dict[str, Any], own_policy: dict[str, Any] | None
    ) -> list[ClaimPath]:
        """What a version issued now makes selectively disclosable."""
        return disclosable(document, artifacts, own_policy, self.policy)

    def refuse_unreadable(
        self, principal: Principal, version: Mapping[str, Any], segments: tuple[Any, ...]
    ) -> None:
        """401/403 when the rules alone forbid `principal` the element at `segments`, whether
        or not it exists: answering 404 for a missing one would tell who may not read it what
        the passport holds."""
        members = tuple(itertools.takewhile(lambda segment: isinstance(segment, str), segments))
        if members[:1] and members[0] in NOT_PRODUCT_DATA:
            return  # never an element of the document (its own endpoints guard the envelope)
        policies = (self.policy, passport_policy(version.get("accessPolicy")))
        if not may_read(members, viewer(principal, version["document"]), policies):
            refuse_restricted(principal)

    def element(self, principal: Principal, version: Mapping[str, Any], segments: tuple[Any, ...]) -> Shown:
        """The reader's view of a version that shows the element at `segments`; refuses a
        restricted element (the caller resolves the value in `Shown.document`)."""
        shown = self.shown(principal, version)
        if not _present(shown.document, segments):
            refuse_restricted(principal)
        return shown


def refuse_restricted(principal: Principal) -> NoReturn:
    """An element exists but `principal` may not read it: 401 without a token, 403 with one."""
    if not principal.authenticated:
        raise Unauthorized(
            "This element is restricted; send a bearer token", code=ErrorCode.ELEMENT_RESTRICTED
        )
    raise Forbidden("The token's roles may not read this element", code=ErrorCode.ELEMENT_RESTRICTED)


def _present(document: Any, segments: tuple[Any, ...]) -> bool:
    value = document
    for segment in segments:
        if isinstance(value, dict):
            if not isinstance(segment, str) or segment not in value:
                return False
            value = value[segment]
        elif isinstance(value, list):
            if not isinstance(segment, int) or not -len(value) <= segment < len(value):
                return False
            value = value[segment]
        else:
            return False
    return True
