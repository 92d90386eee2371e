"""Who the caller is: a bearer JWT validated against the configured issuer, audience and keys.

Tokens are validated with PyJWT against the configured issuer, audience and JWKS (Entra ID in
Azure; a local development issuer whose key `make run` creates). App roles arrive in `roles`;
the economic operator a token acts for arrives in a configurable claim.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

from shared.platform.errors import ErrorCode, Unauthorized
from shared.platform.settings import Settings

ALGORITHMS = ["RS256", "ES256", "PS256"]


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[str] = frozenset()
    operator_id: str | None = None

    @property
    def authenticated(self) -> bool:
        return self.subject != ANONYMOUS.subject


ANONYMOUS = Principal("anonymous")


class Authenticator:
    """Validates bearer tokens; keeps the issuer's key set (refetched on an unknown `kid`)."""

    def __init__(self, config: Settings):
        self.config = config
        self._lock = threading.Lock()
        self._keys: Any = None

    def authenticate(self, authorization: str | None) -> Principal:
        """The caller behind an Authorization header; no header means anonymous, a bad one is a 401."""
        if authorization is None or not authorization.strip():
            return ANONYMOUS
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Authorization must be 'Bearer <JWT>'", code=ErrorCode.INVALID_TOKEN)
        claims = self._verified_claims(token.strip())
        roles = claims.get("roles", [])
        operator = claims.get(self.config.auth_operator_claim)
        return Principal(
            subject=str(claims.get("sub") or claims.get("oid") or "unknown"),
            roles=frozenset(role for role in roles if isinstance(role, str))
            if isinstance(roles, list)
            else frozenset(),
            operator_id=operator if isinstance(operator, str) and operator else None,
        )

    def _verified_claims(self, token: str) -> dict[str, Any]:
        import jwt

        config = self.config
        if (
            not config.auth_issuer
            or not config.auth_audience
            or not (config.auth_jwks_url or config.auth_jwks_file)
        ):
            raise Unauthorized(
                "Token validation is not configured on this service", code=ErrorCode.AUTH_NOT_CONFIGURED
            )
        try:
            header = jwt.get_unverified_header(token)
            key = self._signing_key(header.get("kid"))
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=ALGORITHMS,
                audience=config.auth_audience,
                issuer=config.auth_issuer,
                leeway=60,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"Invalid bearer token: {exc}", code=ErrorCode.INVALID_TOKEN) from None
        return claims

    def _signing_key(self, kid: str | None) -> Any:
        import jwt

        keys = self._key_source()
        if isinstance(keys, jwt.PyJWKClient):
            return keys.get_signing_key(kid).key if kid else _only_key(keys.get_jwk_set())
        if kid is None:
            return _only_key(keys)
        for jwk in keys.keys:
            if jwk.key_id == kid:
                return jwk.key
        raise jwt.InvalidKeyError(f"no key with kid {kid!r}")

    def _key_source(self) -> Any:
        """A PyJWKClient for AUTH_JWKS_URL (it caches and refetches on an unknown kid), or the key
        set read once from AUTH_JWKS_FILE."""
        import jwt

        with self._lock:
            if self._keys is None:
                if self.config.auth_jwks_url:
                    self._keys = jwt.PyJWKClient(self.config.auth_jwks_url, cache_keys=True, lifespan=3600)
                else:
                    with open(self.config.auth_jwks_file or "", encoding="utf-8") as handle:
                        self._keys = jwt.PyJWKSet.from_dict(json.load(handle))
            return self._keys


def _only_key(key_set: Any) -> Any:
    import jwt

    if len(key_set.keys) != 1:
        raise jwt.InvalidKeyError("token has no kid and the key set holds several keys")
    return key_set.keys[0].key
