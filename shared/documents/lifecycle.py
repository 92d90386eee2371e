"""A passport's published version label, validity and status: the signed lifecycle of a version.

The seed contract addresses a passport as `{productId}/{version}`, where `version` is a label the
operator publishes (`v1.2.0`), not the internal write counter: one label covers every write made
while it is current (corrections), and publishing a new label supersedes the old one. The
lifecycle is kept beside the operator's document in the signed version envelope (see
`shared.documents.members`), so every label change, validity change and revocation is a new
signed version in the passport's history:

    {"versionLabel": "v1.2.0", "status": "Valid", "validFrom": ..., "validTo": ...,
     "supersedes": "v1.1.0", "revokedAt": null, "revocationReason": null}

Clients may write `versionLabel`, `validFrom` and `validTo` (as the `dppLifecycle` member of a
create or UpdateDPPById body, or through the publish operation); the rest belongs to the server.
Artifact references (ByRef) belong to the server entirely: only an artifact upload changes them.
"""

from __future__ import annotations

import re
from typing import Any, TypedDict

from shared.platform.clock import format_ts, parse_ts
from shared.platform.errors import BadRequest, Conflict, ErrorCode

LIFECYCLE = "dppLifecycle"
ARTIFACTS = "dppArtifacts"

VALID, REVOKED, SUPERSEDED = "Valid", "Revoked", "Superseded"
DEFAULT_LABEL = "v1"
# Resolves to whatever label is current, so a data carrier can point at the live passport.
LATEST = "latest"
CLIENT_FIELDS: tuple[str, ...] = ("versionLabel", "validFrom", "validTo")
FIELDS: tuple[str, ...] = (
    "versionLabel",
    "status",
    "validFrom",
    "validTo",
    "supersedes",
    "revokedAt",
    "revocationReason",
)
MAX_REASON_CHARS = 1000
ARTIFACTS_BY_UPLOAD = (
    "'dppArtifacts' is written by the server; upload artifacts through the passport's artifact "
    "upload operation instead"
)
# A label is one URL path segment and part of a URN, so it keeps to URN-safe characters.
_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")


class LabelEntry(TypedDict):
    """A published version label and the first internal version that carried it."""

    label: str
    version: int
    publishedAt: str


def is_revoked(lifecycle: dict[str, Any]) -> bool:
    return bool(lifecycle["status"] == REVOKED)


def validate_label(value: Any) -> str:
    if not isinstance(value, str) or not _LABEL.match(value) or value.lower() == LATEST:
        raise BadRequest(
            "'dppLifecycle.versionLabel' must be 1-64 characters of letters, digits and . _ + -, "
            f"starting with a letter or digit, and not '{LATEST}'",
            code=ErrorCode.INVALID_VERSION_LABEL,
        )
    return value


def _timestamp(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(
            f"'dppLifecycle.{name}' must be an ISO 8601 timestamp or null", code=ErrorCode.INVALID_LIFECYCLE
        )
    return format_ts(parse_ts(value, f"dppLifecycle.{name}"))


def client_part(value: Any) -> dict[str, Any]:
    """What a client sent as `dppLifecycle`, checked for shape (members are judged by the write)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadRequest("'dppLifecycle' must be a JSON object", code=ErrorCode.INVALID_LIFECYCLE)
    unknown = sorted(set(value) - set(FIELDS))
    if unknown:
        raise BadRequest(
            f"'dppLifecycle' has unknown members {unknown}; allowed: {', '.join(FIELDS)}",
            code=ErrorCode.INVALID_LIFECYCLE,
        )
    return value


def _check_validity(lifecycle: dict[str, Any]) -> None:
    if lifecycle["validTo"] is not None and lifecycle["validTo"] <= lifecycle["validFrom"]:
        raise BadRequest(
            "'dppLifecycle.validTo' must be later than 'validFrom'", code=ErrorCode.INVALID_LIFECYCLE
        )


def on_create(given: Any, timestamp: str) -> dict[str, Any]:
    """The lifecycle of a new passport: the client's label and validity, or `v1` valid from now."""
    given = client_part(given)
    server_only = {
        name: given[name] for name in given if name not in CLIENT_FIELDS and given[name] is not None
    }
    if server_only and server_only != {"status": VALID}:
        raise BadRequest(
            f"'dppLifecycle' members {sorted(server_only)} are set by the server",
            code=ErrorCode.SERVER_MANAGED_FIELD,
        )
    lifecycle = {
        "versionLabel": validate_label(given.get("versionLabel", DEFAULT_LABEL)),
        "status": VALID,
        "validFrom": _timestamp(given.get("validFrom"), "validFrom") or timestamp,
        "validTo": _timestamp(given.get("validTo"), "validTo"),
        "supersedes": None,
        "revokedAt": None,
        "revocationReason": None,
    }
    _check_validity(lifecycle)
    return lifecycle


def refuse_if_revoked(lifecycle: dict[str, Any]) -> None:
    if is_revoked(lifecycle):
        raise Conflict("A revoked passport cannot be changed", code=ErrorCode.PASSPORT_REVOKED)


def _refuse_server_changes(current: dict[str, Any], given: dict[str, Any]) -> None:
    for name in FIELDS:
        if name not in CLIENT_FIELDS and name in given and given[name] != current[name]:
            raise Conflict(
                f"'dppLifecycle.{name}' is set by the server (see the revoke operation)",
                code=ErrorCode.SERVER_MANAGED_FIELD,
            )


def _publish_label(
    lifecycle: dict[str, Any], previous: str, given: dict[str, Any], used_labels: list[str], timestamp: str
) -> None:
    if lifecycle["versionLabel"] in used_labels:
        raise Conflict(
            f"Version label '{lifecycle['versionLabel']}' was already published for this passport",
            code=ErrorCode.VERSION_LABEL_USED,
        )
    lifecycle["supersedes"] = previous
    # A new label starts its own validity unless the client set one with it.
    if "validFrom" not in given:
        lifecycle["validFrom"] = timestamp
    if "validTo" not in given:
        lifecycle["validTo"] = None


def on_change(current: dict[str, Any], given: Any, used_labels: list[str], timestamp: str) -> dict[str, Any]:
    """The lifecycle after a client's change: members the client left out keep their values.

    A new `versionLabel` publishes a new version of the passport: it must not have been used
    before, and it records the label it supersedes.
    """
    refuse_if_revoked(current)
    given = client_part(given)
    _refuse_server_changes(current, given)
    lifecycle = dict(current)
    if "versionLabel" in given:
        lifecycle["versionLabel"] = validate_label(given["versionLabel"])
    for name in ("validFrom", "validTo"):
        if name in given:
            lifecycle[name] = _timestamp(given[name], name)
    if lifecycle["validFrom"] is None:
        raise BadRequest("'dppLifecycle.validFrom' cannot be null", code=ErrorCode.INVALID_LIFECYCLE)
    if lifecycle["versionLabel"] != current["versionLabel"]:
        _publish_label(lifecycle, current["versionLabel"], given, used_labels, timestamp)
    _check_validity(lifecycle)
    return lifecycle


def revoked(lifecycle: dict[str, Any], reason: Any, timestamp: str) -> dict[str, Any]:
    """The lifecycle revoked: final, with its reason."""
    if is_revoked(lifecycle):
        raise Conflict("The passport is already revoked", code=ErrorCode.PASSPORT_REVOKED)
    if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON_CHARS:
        raise BadRequest(
            f"'reason' is required: a non-blank string of at most {MAX_REASON_CHARS} characters",
            code=ErrorCode.INVALID_REVOCATION,
        )
    return {**lifecycle, "status": REVOKED, "revokedAt": timestamp, "revocationReason": reason}


def labels_after(previous: list[LabelEntry], label: str, version: int, timestamp: str) -> list[LabelEntry]:
    """The passport's published labels in order, each with the first internal version carrying it."""
    if previous and previous[-1]["label"] == label:
        return previous
    return [*previous, {"label": label, "version": version, "publishedAt": timestamp}]
