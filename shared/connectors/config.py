"""Connectors as the settings declare them: `DPP_CONNECTORS` (a JSON list, nothing secret in it)
and `DPP_CONNECTOR_SECRETS` (a JSON object of each connector's credentials; in Azure a Key Vault
reference, so the app setting holds only the secret's URI and the platform resolves it).

A secret is held in a `Secret`, whose repr and str never show the value: a config, a settings
object or an exception that reaches a log line prints `Secret(***)` instead.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from shared.passports.artifacts import ARTIFACT_TYPES

KINDS = ("akeneo",)
KEY_VAULT_REFERENCE = "@Microsoft.KeyVault("
REMOVAL_POLICIES = ("report", "revoke")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_ALLOWED = {
    "id",
    "kind",
    "baseUrl",
    "economicOperatorId",
    "clientId",
    "username",
    "channel",
    "locales",
    "mapping",
    "media",
    "intervalMinutes",
    "reconcileHours",
    "removed",
    "pageSize",
}


class ConnectorConfigError(ValueError):
    """The connector settings cannot be used; says which setting and why (never a secret)."""


@dataclass(frozen=True)
class Secret:
    value: str = field(repr=False)

    def __repr__(self) -> str:
        return "Secret(***)"

    __str__ = __repr__


@dataclass(frozen=True)
class Credentials:
    """Akeneo connection credentials: the client's secret and the API user's password (the
    password grant), or an App's access token."""

    client_secret: Secret | None = None
    password: Secret | None = None
    access_token: Secret | None = None


@dataclass(frozen=True)
class ConnectorConfig:
    id: str
    kind: str
    base_url: str
    economic_operator_id: str
    client_id: str = ""
    username: str = ""
    channel: str | None = None
    locales: tuple[str, ...] = ()
    # A shipped mapping's name, or a mapping object (as an import takes it).
    mapping: Any = "akeneo"
    # Media attribute code -> artifact type the file is stored as.
    media: dict[str, str] = field(default_factory=dict)
    interval_minutes: int = 60
    reconcile_hours: int = 24
    removed: str = "report"
    # Products per page (Akeneo's `limit`: at most 100).
    page_size: int = 100
    credentials: Credentials = field(default_factory=Credentials)


def _fail(where: str, reason: str) -> ConnectorConfigError:
    return ConnectorConfigError(f"setting DPP_CONNECTORS: {where}: {reason}")


def _text(entry: dict[str, Any], name: str, where: str, required: bool = True) -> str:
    value = entry.get(name, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise _fail(where, f"'{name}' must be a non-empty string")
    return value.strip()


def _base_url(entry: dict[str, Any], where: str) -> str:
    """The PIM's origin (and path prefix): absolute, http(s), no credentials, query or fragment.
    Where it may point (public addresses only, https) the outbound rules decide on every request."""
    from urllib.parse import urlsplit

    raw = _text(entry, "baseUrl", where)
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 (parsing it is the check)
    except ValueError:
        raise _fail(where, "'baseUrl' is not a URL") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise _fail(where, "'baseUrl' must be an absolute https URL (https://pim.example.com)")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise _fail(where, "'baseUrl' takes no credentials, query or fragment")
    return raw.rstrip("/")


def _positive(entry: dict[str, Any], name: str, where: str, default: int, most: int | None = None) -> int:
    value = entry.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1 or (most and value > most):
        raise _fail(where, f"'{name}' must be an integer from 1" + (f" to {most}" if most else ""))
    return value


def _media(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or any(
        not isinstance(code, str) or kind not in ARTIFACT_TYPES for code, kind in value.items()
    ):
        raise _fail(where, f"'media' maps attribute codes to artifact types ({', '.join(ARTIFACT_TYPES)})")
    return dict(value)


def _credentials(connector_id: str, secrets: dict[str, Any]) -> Credentials:
    given = secrets.get(connector_id, {})
    if not isinstance(given, dict) or any(not isinstance(v, str) for v in given.values()):
        raise ConnectorConfigError(
            f"setting DPP_CONNECTOR_SECRETS: '{connector_id}' must be an object of strings"
        )

    def secret(name: str) -> Secret | None:
        return Secret(given[name]) if given.get(name) else None

    return Credentials(secret("clientSecret"), secret("password"), secret("accessToken"))


def _connector(entry: Any, index: int, secrets: dict[str, Any]) -> ConnectorConfig:
    where = f"connector {index + 1}"
    if not isinstance(entry, dict):
        raise _fail(where, "each connector is a JSON object")
    unknown = sorted(set(entry) - _ALLOWED)
    if unknown:
        raise _fail(where, f"unknown members {unknown}")
    connector_id = _text(entry, "id", where)
    if not _ID.match(connector_id):
        raise _fail(where, "'id' is 1-63 of a-z 0-9 - (it appears in URLs)")
    where = f"connector '{connector_id}'"
    kind = entry.get("kind", "akeneo")
    if kind not in KINDS:
        raise _fail(where, f"'kind' must be one of {', '.join(KINDS)}")
    removed = entry.get("removed", "report")
    if removed not in REMOVAL_POLICIES:
        raise _fail(where, f"'removed' must be one of {', '.join(REMOVAL_POLICIES)}")
    locales = entry.get("locales", [])
    if not isinstance(locales, list) or any(not isinstance(locale, str) for locale in locales):
        raise _fail(where, "'locales' must be a list of locale codes (en_US)")
    channel = entry.get("channel")
    if channel is not None and not isinstance(channel, str):
        raise _fail(where, "'channel' must be a channel code (ecommerce)")
    credentials = _credentials(connector_id, secrets)
    if credentials.access_token is None and not (credentials.client_secret and credentials.password):
        raise ConnectorConfigError(
            f"setting DPP_CONNECTOR_SECRETS: '{connector_id}' needs 'clientSecret' and 'password' "
            "(a connection's credentials) or 'accessToken' (an App's)"
        )
    if credentials.access_token is None:
        _text(entry, "clientId", where)
        _text(entry, "username", where)
    return ConnectorConfig(
        id=connector_id,
        kind=kind,
        base_url=_base_url(entry, where),
        economic_operator_id=_text(entry, "economicOperatorId", where),
        client_id=_text(entry, "clientId", where, required=False),
        username=_text(entry, "username", where, required=False),
        channel=channel,
        locales=tuple(locales),
        mapping=entry.get("mapping", "akeneo"),
        media=_media(entry.get("media", {}), where),
        interval_minutes=_positive(entry, "intervalMinutes", where, 60),
        reconcile_hours=_positive(entry, "reconcileHours", where, 24),
        removed=removed,
        page_size=_positive(entry, "pageSize", where, 100, most=100),
        credentials=credentials,
    )


def _json(raw: str, name: str, expected: type) -> Any:
    if not raw.strip():
        return expected()
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        # The position only: the text may be the secrets.
        raise ConnectorConfigError(f"setting {name} is not JSON (at character {exc.pos})") from None
    if not isinstance(value, expected):
        raise ConnectorConfigError(f"setting {name} must be a JSON {expected.__name__}")
    return value


def parse_connectors(raw: str, raw_secrets: str) -> dict[str, ConnectorConfig]:
    """The connectors by id; ConnectorConfigError names the first problem found."""
    entries = _json(raw, "DPP_CONNECTORS", list)
    if not entries:
        return {}
    if raw_secrets.strip().startswith(KEY_VAULT_REFERENCE):
        # The platform leaves a reference it could not resolve as it is.
        raise ConnectorConfigError(
            "setting DPP_CONNECTOR_SECRETS: its Key Vault reference did not resolve (is the secret "
            "there, and may the app's identity read it: Key Vault Secrets User?)"
        )
    secrets = _json(raw_secrets, "DPP_CONNECTOR_SECRETS", dict)
    connectors: dict[str, ConnectorConfig] = {}
    for index, entry in enumerate(entries):
        connector = _connector(entry, index, secrets)
        if connector.id in connectors:
            raise _fail(f"connector '{connector.id}'", "declared twice")
        connectors[connector.id] = connector
    return connectors
