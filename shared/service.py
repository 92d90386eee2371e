"""The EN 18222 life cycle operations, as plain functions of parsed input.

Adapters in `functions/` parse HTTP into these arguments and shape the results; everything a
request may be refused for is decided here (through `auth`), before anything is written.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from shared.access_policy import ANONYMOUS_VIEWER, deployment_policy, disclose, passport_policy
from shared.auth import Action, Principal, authorize, disclosure, element_access
from shared.config import Settings, settings
from shared.document import check_immutable, require_object, validate_document, with_last_update
from shared.element_path import assign, locate, parse_element_path, resolve
from shared.errors import BadRequest, Conflict, DppError, NotFound, PreconditionFailed
from shared.etags import if_match_holds
from shared.integrity import INTEGRITY_FIELDS
from shared.lifecycle import (
    CLIENT_FIELDS,
    LIFECYCLE,
    is_revoked,
    label_of,
    lifecycle_of,
    on_change,
    on_create,
    revoked,
    with_artifact,
)
from shared.merge_patch import apply_merge_patch
from shared.product_ids import decode_offset, encode_offset, parse_limit, parse_product_ids
from shared.search import SearchIndex
from shared.signing import get_sealer
from shared.store import get_store
from shared.timestamps import format_ts, next_ts, now_ts, parse_ts
from shared.verification import report, verify_document, verify_history
from shared.versions import (
    CREATE,
    DELETE,
    PUBLISH,
    PUT_ARTIFACT,
    REVOKE,
    UPDATE,
    UPDATE_ELEMENT,
    Draft,
    Passports,
    content_etag,
)

log = logging.getLogger(__name__)

# Bounded fan-out for multi-product lookups: point reads in parallel, never a cross-partition query.
LOOKUP_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="dpp-lookup")


def _not_found(what: str) -> NotFound:
    return NotFound(f"No passport found for {what}", code="PassportNotFound")


def _check_precondition(if_match: str | None, head: dict[str, Any]) -> None:
    if not if_match_holds(if_match, head["etag"]):
        raise PreconditionFailed(
            "If-Match does not match the passport's current ETag", code="PreconditionFailed"
        )


class _Unchanged(Exception):
    def __init__(self, head: dict[str, Any]):
        super().__init__("unchanged")
        self.head = head


def _same_content(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Equal apart from what every write sets anew (lastUpdate and the integrity fields)."""
    volatile = ("lastUpdate", *INTEGRITY_FIELDS)
    return {k: v for k, v in before.items() if k not in volatile} == {
        k: v for k, v in after.items() if k not in volatile
    }


@dataclass(frozen=True)
class PassportView:
    """A stored head or version as one reader may see it."""

    item: dict[str, Any]
    document: dict[str, Any]
    complete: bool

    @property
    def etag(self) -> str:
        # A filtered view is a different body from the full document, so it needs its own tag.
        return self.item["etag"] if self.complete else content_etag(self.document)


class PassportService:
    def __init__(self, passports: Passports, config: Settings):
        self.passports = passports
        self.config = config
        # Every version is indexed for search before it becomes current (keywords of its public view).
        self.search_index = SearchIndex(passports.store, self.public_document)
        passports.on_publish = self.search_index.apply

    # -- reads ---------------------------------------------------------------------------------

    def view(self, item: dict[str, Any], principal: Principal) -> PassportView:
        shown = disclosure(principal, item["document"], self.config)
        return PassportView(item, shown.document, shown.complete)

    def public_document(self, document: dict[str, Any]) -> dict[str, Any]:
        """What anyone may read of a document (search keywords and previews come from this only)."""
        policy = deployment_policy(self.config.access_policy_file)
        return disclose(document, ANONYMOUS_VIEWER, policy).document

    def read(self, dpp_id: str) -> dict[str, Any]:
        head = self.passports.head(dpp_id)
        if head is None or head["deleted"]:
            raise _not_found(f"id '{dpp_id}'")
        return head

    def read_by_product(self, product_id: str) -> dict[str, Any]:
        head = self.passports.live_head_for_product(product_id)
        if head is None:
            raise _not_found(f"product '{product_id}'")
        return head

    def read_at(self, dpp_id: str, date: str | None, principal: Principal) -> dict[str, Any]:
        moment = self._moment(date)
        version = self._version_at(dpp_id, moment, principal)
        if version is None:
            raise _not_found(f"id '{dpp_id}' at {moment}")
        return version

    def read_by_product_at(self, product_id: str, date: str | None, principal: Principal) -> dict[str, Any]:
        moment = self._moment(date)
        # A product may have had several passports over time (one live at a time): newest first.
        for dpp_id in self.passports.passport_ids_for_product(product_id):
            version = self._version_at(dpp_id, moment, principal)
            if version is not None:
                return version
        raise _not_found(f"product '{product_id}' at {moment}")

    def _moment(self, date: str | None) -> str:
        if date is None or date.strip() == "":
            raise BadRequest("Query parameter 'date' (ISO 8601 UTC) is required", code="MissingDate")
        return format_ts(parse_ts(date, "date"))

    def _version_at(self, dpp_id: str, moment: str, principal: Principal) -> dict[str, Any] | None:
        head = self.passports.head(dpp_id)
        if head is None:
            return None
        if head["deleted"]:
            try:
                authorize(Action.READ_ARCHIVE, principal, head["document"])
            except NotFound:
                return None
        version = self.passports.version_at(dpp_id, head, moment)
        if version is None or version["deleted"]:
            return None
        return version

    def ids_by_product_ids(self, body: Any, limit: str | None, cursor: str | None) -> dict[str, Any]:
        product_ids = parse_product_ids(body)
        page_size = parse_limit(limit)
        offset = decode_offset(cursor, product_ids)
        heads = LOOKUP_POOL.map(self.passports.live_head_for_product, product_ids)
        found = list(dict.fromkeys(head["dppId"] for head in heads if head is not None))
        page = found[offset : offset + page_size]
        result: dict[str, Any] = {"items": page}
        if offset + page_size < len(found):
            result["cursor"] = encode_offset(offset + page_size, product_ids)
        return result

    def read_element(self, dpp_id: str, raw_path: str, principal: Principal) -> tuple[str, Any]:
        """The element's id (its last path segment) and what the caller may see of it.

        A missing element is 404 for everyone; an existing one the caller may not read is 401/403.
        """
        segments = parse_element_path(raw_path)
        head = self.read(dpp_id)
        value = resolve(head["document"], segments)
        # The element's id is where it really sits: `[-1]` on a list names its actual index.
        located = locate(head["document"], segments)
        shown = element_access(principal, head["document"], located, value, self.config)
        return str(located[-1]), shown

    # -- integrity ------------------------------------------------------------------------------

    def _readable_head(self, dpp_id: str, principal: Principal) -> dict[str, Any]:
        head = self.passports.head(dpp_id)
        if head is None:
            raise _not_found(f"id '{dpp_id}'")
        if head["deleted"]:
            authorize(Action.READ_ARCHIVE, principal, head["document"])
        return head

    def history(self, dpp_id: str, principal: Principal, documents: bool = False) -> dict[str, Any]:
        """Every version's integrity record; with `documents`, each version as the caller may see it."""
        head = self._readable_head(dpp_id, principal)
        fields = (
            "version",
            "ts",
            "operation",
            "writer",
            "contentHash",
            "signature",
            "previousHash",
            "deleted",
        )
        records = []
        for item in self.passports.history(dpp_id, head):
            record = {name: item.get(name) for name in fields}
            record["lastUpdate"] = item["document"].get("lastUpdate")
            if documents:
                view = self.view(item, principal)
                record.update(document=view.document, complete=view.complete)
            records.append(record)
        return {"digitalProductPassportId": dpp_id, "versions": records}

    def verify(self, body: Any, principal: Principal) -> dict[str, Any]:
        """Verify a submitted document, or a stored version together with the history up to it."""
        body = require_object(body, "verification request")
        keyring = self.passports.sealer.keyring
        if "signature" in body or "contentHash" in body:
            checks, _ = verify_document(body, keyring.jwk)
            return report(checks)
        dpp_id = body.get("dppId")
        if not isinstance(dpp_id, str) or not dpp_id.strip():
            raise BadRequest(
                'Send a passport document, or {"dppId": ..., "version": n (optional)}', code="InvalidBody"
            )
        head = self._readable_head(dpp_id, principal)
        versions = self.passports.history(dpp_id, head)
        wanted = body.get("version", head["version"])
        if not isinstance(wanted, int) or isinstance(wanted, bool) or not 1 <= wanted <= head["version"]:
            raise BadRequest(
                f"'version' must be an integer from 1 to {head['version']}", code="InvalidVersion"
            )
        # Version N is authentic when versions 1..N verify and link up; later ones do not bear on it.
        checks = verify_history(dpp_id, [v for v in versions if v["version"] <= wanted], keyring.jwk)
        result = report(checks)
        result.update({"dppId": dpp_id, "version": wanted, "headVersion": head["version"]})
        return result

    def jwks(self) -> dict[str, Any]:
        return self.passports.sealer.keyring.jwks()

    # -- writes --------------------------------------------------------------------------------

    def create(self, body: Any, principal: Principal) -> dict[str, Any]:
        authorize(Action.CREATE, principal, None)
        document = validate_document(body)
        authorize(Action.CREATE, principal, document)
        dpp_id = document["digitalProductPassportId"]

        def decide(head: dict[str, Any] | None) -> Draft:
            if head is not None:
                state = "archived (deleted)" if head["deleted"] else "existing"
                raise Conflict(f"Passport '{dpp_id}' already exists ({state})", code="PassportExists")
            timestamp = now_ts()
            passport_policy(document)  # a passport's own access policy must be valid to be stored
            created = on_create(document, timestamp)
            return Draft(with_last_update(created, timestamp), CREATE, principal.subject, timestamp)

        return self.passports.commit(dpp_id, decide)

    def register_created(self, head: dict[str, Any], endpoint_url: str, principal: Principal) -> str:
        """CreateDPP's automatic registration (when configured): `pending`, `off`, or `failed`.

        The passport is already stored, so a failure to record its registration must not fail the
        create; it is logged and reported, and RegisterProductDPP can be called again.
        """
        from shared.registry import auto_register

        try:
            record = auto_register(head, endpoint_url, principal.subject)
        except DppError:
            log.exception("Automatic registration of %s was not recorded", head["dppId"])
            return "failed"
        return "off" if record is None else record["state"]

    def update(
        self,
        dpp_id: str,
        patch: Any,
        principal: Principal,
        if_match: str | None,
        *,
        skip_unchanged: bool = False,
    ) -> dict[str, Any]:
        """Merge-patch the passport. With `skip_unchanged`, a patch that changes nothing writes no
        version and returns the current head (imports rely on it to be idempotent)."""
        authorize(Action.UPDATE, principal, None)
        patch = require_object(patch, "merge patch")

        def decide(head: dict[str, Any] | None) -> Draft:
            current = self._writable(head, dpp_id, principal, Action.UPDATE, if_match)
            document = validate_document(apply_merge_patch(current["document"], patch))
            draft = self._changed(current, document, UPDATE, principal)
            if skip_unchanged and _same_content(current["document"], draft.document):
                raise _Unchanged(current)
            return draft

        try:
            return self.passports.commit(dpp_id, decide)
        except _Unchanged as unchanged:
            return unchanged.head

    def update_element(
        self, dpp_id: str, raw_path: str, value: Any, principal: Principal, if_match: str | None
    ) -> tuple[dict[str, Any], Any]:
        """The new head and the element's stored value (lastUpdate, if addressed, is the server's)."""
        authorize(Action.UPDATE, principal, None)
        segments = parse_element_path(raw_path)

        def decide(head: dict[str, Any] | None) -> Draft:
            current = self._writable(head, dpp_id, principal, Action.UPDATE, if_match)
            document = validate_document(assign(current["document"], segments, value))
            return self._changed(current, document, UPDATE_ELEMENT, principal)

        head = self.passports.commit(dpp_id, decide)
        return head, resolve(head["document"], segments)

    def delete(self, dpp_id: str, principal: Principal, if_match: str | None) -> dict[str, Any]:
        authorize(Action.DELETE, principal, None)

        def decide(head: dict[str, Any] | None) -> Draft:
            current = self._writable(head, dpp_id, principal, Action.DELETE, if_match)
            self._check_retention(current)
            timestamp = next_ts(current["ts"])
            return Draft(current["document"], DELETE, principal.subject, timestamp, deleted=True)

        return self.passports.commit(dpp_id, decide)

    def revoke(self, dpp_id: str, body: Any, principal: Principal, if_match: str | None) -> dict[str, Any]:
        """Revoke the passport for good: a signed version whose lifecycle says Revoked, and why."""
        authorize(Action.UPDATE, principal, None)
        reason = require_object(body, "revocation request").get("reason")

        def decide(head: dict[str, Any] | None) -> Draft:
            current = self._writable(head, dpp_id, principal, Action.UPDATE, if_match)
            timestamp = next_ts(current["ts"])
            document = revoked(current["document"], reason, timestamp)
            return Draft(with_last_update(document, timestamp), REVOKE, principal.subject, timestamp)

        return self.passports.commit(dpp_id, decide)

    def publish(self, dpp_id: str, body: Any, principal: Principal, if_match: str | None) -> dict[str, Any]:
        """Publish a new version label; the current one becomes Superseded (a signed version)."""
        authorize(Action.UPDATE, principal, None)
        release = require_object(body, "publication")
        unknown = sorted(set(release) - set(CLIENT_FIELDS))
        if unknown or "versionLabel" not in release:
            raise BadRequest(
                f"Send {{'versionLabel', 'validFrom'?, 'validTo'?}}; unknown members: {unknown}",
                code="InvalidPublication",
            )

        def decide(head: dict[str, Any] | None) -> Draft:
            current = self._writable(head, dpp_id, principal, Action.UPDATE, if_match)
            if label_of(current["document"]) == release["versionLabel"]:
                raise Conflict(
                    f"'{release['versionLabel']}' is already the current label", code="VersionLabelUsed"
                )
            document = {**current["document"], LIFECYCLE: {**lifecycle_of(current["document"]), **release}}
            return self._changed(current, document, PUBLISH, principal)

        return self.passports.commit(dpp_id, decide)

    def put_artifact(
        self,
        dpp_id: str,
        raw_type: str,
        upload: tuple[bytes, str | None],
        principal: Principal,
        if_match: str | None,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Store an artifact's bytes and reference them from a new, signed version: (head, reference)."""
        from shared.artifacts import get_artifact_store, parse_artifact_type, parse_media_type

        authorize(Action.UPDATE, principal, None)
        artifact_type = parse_artifact_type(raw_type)
        data, media_type = upload[0], parse_media_type(upload[1])
        # Refuse before uploading: a refused request must leave nothing behind.
        current = self._writable(self.passports.head(dpp_id), dpp_id, principal, Action.UPDATE, if_match)
        if is_revoked(current["document"]):
            raise Conflict("A revoked passport cannot be changed", code="PassportRevoked")
        reference = get_artifact_store().put(dpp_id, artifact_type, data, media_type)

        def decide(head: dict[str, Any] | None) -> Draft:
            latest = self._writable(head, dpp_id, principal, Action.UPDATE, if_match)
            timestamp = next_ts(latest["ts"])
            document = with_artifact(latest["document"], artifact_type, reference)
            return Draft(with_last_update(document, timestamp), PUT_ARTIFACT, principal.subject, timestamp)

        return self.passports.commit(dpp_id, decide), reference

    def _writable(
        self,
        head: dict[str, Any] | None,
        dpp_id: str,
        principal: Principal,
        action: Action,
        if_match: str | None,
    ) -> dict[str, Any]:
        if head is None or head["deleted"]:
            raise _not_found(f"id '{dpp_id}'")
        authorize(action, principal, head["document"])
        _check_precondition(if_match, head)
        return head

    def _changed(
        self, head: dict[str, Any], document: dict[str, Any], operation: str, principal: Principal
    ) -> Draft:
        """A client's change: identity kept, server-managed members carried, lifecycle rules applied."""
        check_immutable(head["document"], document)
        passport_policy(document)
        timestamp = next_ts(head["ts"])
        used = [entry["label"] for entry in head.get("labels", [])]
        document = on_change(head["document"], document, used, timestamp)
        return Draft(with_last_update(document, timestamp), operation, principal.subject, timestamp)

    def _check_retention(self, head: dict[str, Any]) -> None:
        days = self.config.retention_days
        if days <= 0:
            return
        created = parse_ts(head["createdAt"], "createdAt")
        if datetime.now(UTC) - created < timedelta(days=days):
            raise Conflict(
                f"Passports must be kept for {days} days after creation (DPP_RETENTION_DAYS); "
                f"this one was created at {head['createdAt']}",
                code="RetentionPeriod",
            )


@lru_cache(maxsize=1)
def get_service() -> PassportService:
    return PassportService(Passports(get_store(), get_sealer()), settings())
