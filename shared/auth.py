"""Who the caller is (bearer JWT) and what they may do: every authorization decision is made here.

Tokens are validated with PyJWT against the configured issuer, audience and JWKS (Entra ID in
Azure; a local development issuer whose key `make run` creates). App roles arrive in `roles`;
the economic operator a token acts for arrives in a configurable claim.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import Any

from shared.access_policy import READ_ROLES, Disclosure, Viewer, deployment_policy, disclose, element_value
from shared.config import Settings
from shared.errors import Forbidden, NotFound, Unauthorized

log = logging.getLogger(__name__)

OPERATOR, AUTHORITY, RECYCLER, REPAIRER = "operator", "authority", "recycler", "repairer"
ALGORITHMS = ["RS256", "ES256", "PS256"]


class Action(Enum):
    READ = "read"
    READ_FULL = "readFull"  # the seed contract's full view: any reading role
    READ_ARCHIVE = "readArchive"  # history of a deleted passport (EN 18221 archive)
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[str] = frozenset()
    operator_id: str | None = None

    @property
    def authenticated(self) -> bool:
        return self.subject != ANONYMOUS.subject


ANONYMOUS = Principal("anonymous")


def authenticate(authorization: str | None, config: Settings) -> Principal:
    """The caller behind an Authorization header; no header means anonymous, a bad one is a 401."""
    if authorization is None or not authorization.strip():
        return ANONYMOUS
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization must be 'Bearer <JWT>'", code="InvalidToken")
    claims = _verified_claims(token.strip(), config)
    roles = claims.get("roles", [])
    operator = claims.get(config.auth_operator_claim)
    return Principal(
        subject=str(claims.get("sub") or claims.get("oid") or "unknown"),
        roles=frozenset(role for role in roles if isinstance(role, str))
        if isinstance(roles, list)
        else frozenset(),
        operator_id=operator if isinstance(operator, str) and operator else None,
    )


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
            raise Unauthorized("The full passport needs a bearer token", code="AuthenticationRequired")
        raise Forbidden(
            f"The full passport needs one of the roles {', '.join(sorted(READ_ROLES))}", code="RoleRequired"
        )
    if action is Action.READ_ARCHIVE:
        if passport is not None and owner_or_authority(principal, passport.get("economicOperatorId")):
            return
        # An archived passport is gone for everyone else: do not reveal that it existed.
        raise NotFound("No passport found", code="PassportNotFound")
    if not principal.authenticated:
        raise Unauthorized("This operation needs a bearer token", code="AuthenticationRequired")
    if OPERATOR not in principal.roles:
        raise Forbidden("This operation needs the 'operator' role", code="RoleRequired")
    # Without a passport yet (before the body is parsed or the head is read) only the role is judged.
    if passport is not None and not _owns(principal, passport):
        raise Forbidden("The token's economic operator does not own this passport", code="NotPassportOwner")


def viewer(principal: Principal, passport: dict[str, Any]) -> Viewer:
    """The reader as the access policy sees them."""
    return Viewer(principal.roles & READ_ROLES, _owns(principal, passport))


def disclosure(principal: Principal, passport: dict[str, Any], config: Settings) -> Disclosure:
    """What of `passport` (a compressed document) `principal` may read: the one filter of every read."""
    return disclose(passport, viewer(principal, passport), deployment_policy(config.access_policy_file))


def element_access(
    principal: Principal, passport: dict[str, Any], segments: tuple[Any, ...], value: Any, config: Settings
) -> Any:
    """The part of the element at `segments` the principal may read; refuses a restricted element."""
    allowed, shown = element_value(
        passport, segments, value, viewer(principal, passport), deployment_policy(config.access_policy_file)
    )
    if not allowed:
        if not principal.authenticated:
            raise Unauthorized("This element is restricted; send a bearer token", code="ElementRestricted")
        raise Forbidden("The token's roles may not read this element", code="ElementRestricted")
    return shown


def owner_or_authority(principal: Principal, operator_id: str | None) -> bool:
    """May read what belongs to one economic operator (its archive, its jobs): that operator, or an
    authority."""
    return _owns(principal, {"economicOperatorId": operator_id}) or AUTHORITY in principal.roles


def _owns(principal: Principal, passport: dict[str, Any] | None) -> bool:
    return (
        passport is not None
        and OPERATOR in principal.roles
        and principal.operator_id is not None
        and principal.operator_id == passport.get("economicOperatorId")
    )


def _verified_claims(token: str, config: Settings) -> dict[str, Any]:
    import jwt

    if (
        not config.auth_issuer
        or not config.auth_audience
        or not (config.auth_jwks_url or config.auth_jwks_file)
    ):
        raise Unauthorized("Token validation is not configured on this service", code="AuthNotConfigured")
    try:
        header = jwt.get_unverified_header(token)
        key = _signing_key(config, header.get("kid"))
        return jwt.decode(
            token,
            key=key,
            algorithms=ALGORITHMS,
            audience=config.auth_audience,
            issuer=config.auth_issuer,
            leeway=60,
            options={"require": ["exp", "iss", "aud"]},
        )
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"Invalid bearer token: {exc}", code="InvalidToken") from None


def _signing_key(config: Settings, kid: str | None) -> Any:
    import jwt

    if config.auth_jwks_url:
        client = _jwks_client(config.auth_jwks_url)
        return client.get_signing_key(kid).key if kid else _only_key(client.get_jwk_set())
    key_set = _jwks_from_file(config.auth_jwks_file or "")
    if kid is None:
        return _only_key(key_set)
    for jwk in key_set.keys:
        if jwk.key_id == kid:
            return jwk.key
    raise jwt.InvalidKeyError(f"no key with kid {kid!r}")


def _only_key(key_set: Any) -> Any:
    import jwt

    if len(key_set.keys) != 1:
        raise jwt.InvalidKeyError("token has no kid and the key set holds several keys")
    return key_set.keys[0].key


@lru_cache(maxsize=4)
def _jwks_client(url: str) -> Any:
    import jwt

    # PyJWKClient caches the key set and refetches on an unknown kid (key rollover).
    return jwt.PyJWKClient(url, cache_keys=True, lifespan=3600)


@lru_cache(maxsize=4)
def _jwks_from_file(path: str) -> Any:
    import jwt

    with open(path, encoding="utf-8") as handle:
        return jwt.PyJWKSet.from_dict(json.load(handle))
