"""A passport's published version label, validity and status: the signed `dppLifecycle` member.

The seed contract addresses a passport as `{productId}/{version}`, where `version` is a label the
operator publishes (`v1.2.0`), not the internal write counter: one label covers every write made
while it is current (corrections), and publishing a new label supersedes the old one. The
lifecycle therefore travels inside the document, so every label change, validity change and
revocation is a new signed version in the passport's history:

    "dppLifecycle": {"versionLabel": "v1.2.0", "status": "Valid", "validFrom": ..., "validTo": ...,
                     "supersedes": "v1.1.0", "revokedAt": null, "revocationReason": null}

Clients may write `versionLabel`, `validFrom` and `validTo` (on create, UpdateDPPById and
UpdateDataElement); the rest belongs to the server. `dppArtifacts` (ByRef references) belongs to
the server entirely: only an artifact upload changes it.
"""

from __future__ import annotations

import re
from typing import Any, TypedDict

from shared.platform.clock import format_ts, parse_ts
from shared.platform.errors import BadRequest, Conflict, ErrorCode

LIFECYCLE = "dppLifecycle"
ARTIFACTS = "dppArtifacts"
SERVER_MANAGED: tuple[str, ...] = (LIFECYCLE, ARTIFACTS)

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


def lifecycle_of(document: dict[str, Any]) -> dict[str, Any]:
    """The document's lifecycle; documents stored before lifecycles existed read as `v1`, valid."""
    stored = document.get(LIFECYCLE)
    if isinstance(stored, dict) and "versionLabel" in stored:
        return stored
    return {
        "versionLabel": DEFAULT_LABEL,
        "status": VALID,
        "validFrom": document.get("lastUpdate"),
        "validTo": None,
        "supersedes": None,
        "revokedAt": None,
        "revocationReason": None,
    }


def label_of(document: dict[str, Any]) -> str:
    return lifecycle_of(document)["versionLabel"]


def is_revoked(document: dict[str, Any]) -> bool:
    return lifecycle_of(document)["status"] == REVOKED


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


def _client_part(value: Any) -> dict[str, Any]:
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


def _placed(document: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    """The document with member `name` set, keeping its place (new members go last)."""
    updated = dict(document)
    updated[name] = value
    return updated


def on_create(document: dict[str, Any], timestamp: str) -> dict[str, Any]:
    """The lifecycle of a new passport: the client's label and validity, or `v1` valid from now."""
    if ARTIFACTS in document:
        raise BadRequest(
            ARTIFACTS_BY_UPLOAD,
            code=ErrorCode.SERVER_MANAGED_FIELD,
        )
    given = _client_part(document.get(LIFECYCLE))
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
    return _placed(document, LIFECYCLE, lifecycle)


def _refuse_server_changes(before: dict[str, Any], after: dict[str, Any], given: dict[str, Any]) -> None:
    if is_revoked(before):
        raise Conflict("A revoked passport cannot be changed", code=ErrorCode.PASSPORT_REVOKED)
    if after.get(ARTIFACTS) != before.get(ARTIFACTS):
        raise Conflict(
            ARTIFACTS_BY_UPLOAD,
            code=ErrorCode.SERVER_MANAGED_FIELD,
        )
    current = lifecycle_of(before)
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


def on_change(
    before: dict[str, Any], after: dict[str, Any], used_labels: list[str], timestamp: str
) -> dict[str, Any]:
    """Carry the server's members into a client's change, applying what the client may change.

    A new `versionLabel` publishes a new version of the passport: it must not have been used
    before, and it records the label it supersedes. A patch that drops the lifecycle (or a
    member of it) leaves the stored value in place.
    """
    given = _client_part(after.get(LIFECYCLE))
    _refuse_server_changes(before, after, given)
    current = lifecycle_of(before)
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
    return _placed(after, LIFECYCLE, lifecycle)


def revoked(document: dict[str, Any], reason: Any, timestamp: str) -> dict[str, Any]:
    """The document revoked: final, with its reason; `dppStatus` says so to EN 18222 readers too."""
    if is_revoked(document):
        raise Conflict("The passport is already revoked", code=ErrorCode.PASSPORT_REVOKED)
    if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON_CHARS:
        raise BadRequest(
            f"'reason' is required: a non-blank string of at most {MAX_REASON_CHARS} characters",
            code=ErrorCode.INVALID_REVOCATION,
        )
    lifecycle = {
        **lifecycle_of(document),
        "status": REVOKED,
        "revokedAt": timestamp,
        "revocationReason": reason,
    }
    return _placed({**document, "dppStatus": "Revoked"}, LIFECYCLE, lifecycle)


def with_artifact(document: dict[str, Any], artifact_type: str, reference: dict[str, Any]) -> dict[str, Any]:
    if is_revoked(document):
        raise Conflict("A revoked passport cannot be changed", code=ErrorCode.PASSPORT_REVOKED)
    artifacts = {**document.get(ARTIFACTS, {}), artifact_type: reference}
    return _placed(document, ARTIFACTS, artifacts)


def labels_after(
    previous: list[LabelEntry], document: dict[str, Any], version: int, timestamp: str
) -> list[LabelEntry]:
    """The passport's published labels in order, each with the first internal version carrying it."""
    label = label_of(document)
    if previous and previous[-1]["label"] == label:
        return previous
    return [*previous, {"label": label, "version": version, "publishedAt": timestamp}]
