"""The EN 18222 life cycle and fine granular operations, as plain functions of parsed input.

Adapters in `functions/` parse HTTP into these arguments and shape the results; everything a
request may be refused for is decided here (through `shared.access`), before anything is written.
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from shared.access.authentication import Principal
from shared.access.authorization import AccessControl, Action, authorize, refuse_restricted
from shared.access.disclosure import Shown
from shared.access.operators import OperatorRegistry
from shared.access.policy import DOCUMENT_CLAIM, ENVELOPE_CLAIM, POLICY_CLAIM, passport_policy
from shared.documents.element_paths import (
    assign,
    expand_id_short_paths,
    is_jsonpath,
    locate,
    parse_element_path,
    resolve,
)
from shared.documents.entity_tags import content_etag, if_match_holds
from shared.documents.lifecycle import (
    ARTIFACTS,
    ARTIFACTS_BY_UPLOAD,
    CLIENT_FIELDS,
    LIFECYCLE,
    on_change,
    on_create,
    refuse_if_revoked,
    revoked,
)
from shared.documents.members import ACCESS_POLICY, ENVELOPE_MEMBERS, split_write
from shared.documents.merge_patch import apply_merge_patch
from shared.documents.model import check_immutable, require_object, validate_document, with_last_update
from shared.passports.artifacts import ArtifactStore, parse_artifact_type, parse_media_type
from shared.passports.product_ids import decode_offset, encode_offset, parse_limit, parse_product_ids
from shared.passports.records import PassportItem
from shared.passports.repository import (
    CREATE,
    DELETE,
    PUBLISH,
    PUT_ARTIFACT,
    REVOKE,
    SET_ACCESS_POLICY,
    UPDATE,
    UPDATE_ELEMENT,
    Draft,
    PassportRepository,
    carried,
)
from shared.platform.clock import format_ts, next_ts, now_ts, parse_ts, utcnow
from shared.platform.errors import BadRequest, Conflict, ErrorCode, NotFound, PreconditionFailed
from shared.platform.settings import Settings


def not_found(what: str) -> NotFound:
    return NotFound(f"No passport found for {what}", code=ErrorCode.PASSPORT_NOT_FOUND)


def _check_precondition(if_match: str | None, head: PassportItem) -> None:
    if not if_match_holds(if_match, head["etag"]):
        raise PreconditionFailed(
            "If-Match does not match the passport's current ETag", code=ErrorCode.PRECONDITION_FAILED
        )


class _Unchanged(Exception):
    def __init__(self, head: PassportItem):
        super().__init__("unchanged")
        self.head = head


def _same_content(head: PassportItem, draft: Draft) -> bool:
    """Equal apart from what every write sets anew (lastUpdate)."""

    def kept(document: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in document.items() if k != "lastUpdate"}

    return (
        kept(head["document"]) == kept(draft.document)
        and head["lifecycle"] == draft.lifecycle
        and head.get("accessPolicy") == draft.access_policy
    )


def _merged_policy(current: dict[str, Any] | None, patch: Any) -> dict[str, Any] | None:
    """The passport's policy after a merge patch of `dppAccessPolicy` (null removes it)."""
    merged = apply_merge_patch({"policy": current}, {"policy": patch}).get("policy")
    return merged if isinstance(merged, dict) or merged is None else patch


def _refuse_envelope_path(segments: tuple[Any, ...]) -> None:
    if segments and segments[0] in ENVELOPE_MEMBERS:
        raise BadRequest(
            f"'{segments[0]}' is kept beside the document, in the signed version: set it as a member "
            "of an UpdateDPPById body, or through its own operation",
            code=ErrorCode.SERVER_MANAGED_FIELD,
        )


@dataclass(frozen=True)
class PassportView:
    """A stored head or version as one reader may see it, with what proves it."""

    item: PassportItem
    shown: Shown

    @property
    def document(self) -> dict[str, Any]:
        return self.shown.document

    @property
    def complete(self) -> bool:
        return self.shown.complete

    @property
    def etag(self) -> str:
        # A filtered view is a different body from the full document, so it needs its own tag.
        return self.item["etag"] if self.complete else content_etag(self.document)

    @property
    def content_hash(self) -> str:
        return self.shown.content_hash

    @property
    def signature(self) -> str:
        return self.shown.presentation((DOCUMENT_CLAIM,))


class PassportService:
    def __init__(
        self,
        *,
        passports: PassportRepository,
        access: AccessControl,
        operators: OperatorRegistry,
        artifacts: ArtifactStore,
        config: Settings,
        lookups: Executor,
    ):
        self.passports = passports
        self.access = access
        self.operators = operators
        self.artifacts = artifacts
        self.config = config
        # Bounded fan-out for multi-product lookups: point reads in parallel, never a cross-partition query.
        self.lookups = lookups

    # -- reads ---------------------------------------------------------------------------------

    def view(self, item: PassportItem, principal: Principal) -> PassportView:
        return PassportView(item, self.access.shown(principal, item))

    def read(self, dpp_id: str) -> PassportItem:
        head = self.passports.head(dpp_id)
        if head is None or head["deleted"]:
            raise not_found(f"id '{dpp_id}'")
        return head

    def read_by_product(self, product_id: str) -> PassportItem:
        head = self.passports.live_head_for_product(product_id)
        if head is None:
            raise not_found(f"product '{product_id}'")
        return head

    def read_at(self, dpp_id: str, date: str | None, principal: Principal) -> PassportItem:
        moment = self._moment(date)
        version = self._version_at(dpp_id, moment, principal)
        if version is None:
            raise not_found(f"id '{dpp_id}' at {moment}")
        return version

    def read_by_product_at(self, product_id: str, date: str | None, principal: Principal) -> PassportItem:
        moment = self._moment(date)
        # A product may have had several passports over time (one live at a time): newest first.
        for dpp_id in self.passports.passport_ids_for_product(product_id):
            version = self._version_at(dpp_id, moment, principal)
            if version is not None:
                return version
        raise not_found(f"product '{product_id}' at {moment}")

    def _moment(self, date: str | None) -> str:
        if date is None or date.strip() == "":
            raise BadRequest("Query parameter 'date' (ISO 8601 UTC) is required", code=ErrorCode.MISSING_DATE)
        return format_ts(parse_ts(date, "date"))

    def _version_at(self, dpp_id: str, moment: str, principal: Principal) -> PassportItem | None:
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
        heads = self.lookups.map(self.passports.live_head_for_product, product_ids)
        found = list(dict.fromkeys(head["dppId"] for head in heads if head is not None))
        page = found[offset : offset + page_size]
        result: dict[str, Any] = {"items": page}
        if offset + page_size < len(found):
            result["cursor"] = encode_offset(offset + page_size, product_ids)
        return result

    def read_element(self, dpp_id: str, raw_path: str, principal: Principal) -> tuple[str, Any, str]:
        """The element's id (its last path segment), what the caller may see of it, and the SD-JWT
        presentation of exactly that.

        A path the rules forbid the caller is 401/403 whether or not anything is there; a missing
        element the caller could read is 404; an existing one hidden inside what they may read
        (a rule below it) is 401/403 too.
        """
        segments = parse_element_path(raw_path)
        head = self.read(dpp_id)
        if not is_jsonpath(raw_path):  # an AAS client's `nameplate.Materials[1].Name`
            segments = expand_id_short_paths(head["document"], segments)
        self.access.refuse_unreadable(principal, head, segments)
        resolve(head["document"], segments)
        # The element's id is where it really sits: `[-1]` on a list names its actual index.
        located = locate(head["document"], segments)
        shown = self.access.element(principal, head, located)
        value = resolve(shown.document, located)
        return str(located[-1]), value, shown.presentation((DOCUMENT_CLAIM, *(str(s) for s in located)))

    def access_policy(
        self, dpp_id: str, principal: Principal
    ) -> tuple[PassportItem, dict[str, Any] | None, str]:
        """The passport's own access policy, for those the deployment lets read it (its owner and
        whoever the deployment's `dppAccessPolicy` rule admits), with the presentation of it."""
        head = self.read(dpp_id)
        return (head, *self.policy_view(head, principal))

    def policy_view(self, head: PassportItem, principal: Principal) -> tuple[dict[str, Any] | None, str]:
        shown = self.access.shown(principal, head)
        if head.get("accessPolicy") is not None and shown.access_policy is None:
            refuse_restricted(principal)
        return shown.access_policy, shown.presentation((ENVELOPE_CLAIM, POLICY_CLAIM))

    def envelope_view(self, dpp_id: str, principal: Principal) -> tuple[PassportItem, Shown]:
        """The current version's envelope (lifecycle, artifacts, policy) as the caller may see it."""
        head = self.read(dpp_id)
        return head, self.access.shown(principal, head)

    # -- writes --------------------------------------------------------------------------------

    def create(self, body: Any, principal: Principal) -> PassportItem:
        authorize(Action.CREATE, principal, None)
        written, envelope = split_write(require_object(body))
        if ARTIFACTS in envelope:
            raise BadRequest(ARTIFACTS_BY_UPLOAD, code=ErrorCode.SERVER_MANAGED_FIELD)
        document = validate_document(written)
        authorize(Action.CREATE, principal, document)
        self.operators.check_product_id(document["economicOperatorId"], document["uniqueProductIdentifier"])
        own_policy = envelope.get(ACCESS_POLICY)
        passport_policy(own_policy)  # a passport's own access policy must be valid to be stored
        dpp_id = document["digitalProductPassportId"]

        def decide(head: PassportItem | None) -> Draft:
            if head is not None:
                state = "archived (deleted)" if head["deleted"] else "existing"
                raise Conflict(
                    f"Passport '{dpp_id}' already exists ({state})", code=ErrorCode.PASSPORT_EXISTS
                )
            timestamp = now_ts()
            lifecycle = on_create(envelope.get(LIFECYCLE), timestamp)
            return Draft(
                with_last_update(document, timestamp),
                lifecycle,
                {},
                own_policy,
                CREATE,
                principal.subject,
                timestamp,
            )

        return self.passports.commit(dpp_id, decide, new=True)

    def update(
        self,
        dpp_id: str,
        patch: Any,
        principal: Principal,
        if_match: str | None,
        *,
        skip_unchanged: bool = False,
    ) -> PassportItem:
        """Merge-patch the passport (its document, and the envelope members the patch names). With
        `skip_unchanged`, a patch that changes nothing writes no version and returns the current
        head (imports rely on it to be idempotent)."""
        authorize(Action.UPDATE, principal, None)
        document_patch, envelope = split_write(require_object(patch, "merge patch"))

        def decide(head: PassportItem | None) -> Draft:
            current = self._writable(head, dpp_id, principal, Action.UPDATE, if_match)
            if ARTIFACTS in envelope and envelope[ARTIFACTS] != current["artifacts"]:
                raise Conflict(ARTIFACTS_BY_UPLOAD, code=ErrorCode.SERVER_MANAGED_FIELD)
            document = validate_document(apply_merge_patch(current["document"], document_patch))
            own_policy = current.get("accessPolicy")
            if ACCESS_POLICY in envelope:
                own_policy = _merged_policy(own_policy, envelope[ACCESS_POLICY])
            draft = self._changed(
                current,
                document,
                lifecycle_given=envelope.get(LIFECYCLE),
                own_policy=own_policy,
                operation=UPDATE,
                principal=principal,
            )
            if skip_unchanged and _same_content(current, draft):
                raise _Unchanged(current)
            return draft

        try:
            return self.passports.commit(dpp_id, decide)
        except _Unchanged as unchanged:
            return unchanged.head

    def update_element(
        self, dpp_id: str, raw_path: str, value: Any, principal: Principal, if_match: str | None
    ) -> tuple[PassportItem, Any]:
        """The new head and the element's stored value (lastUpdate, if addressed, is the server's)."""
        authorize(Action.UPDATE, principal, None)
        segments = parse_element_path(raw_path)
        _refuse_envelope_path(segments)

        def decide(head: PassportItem | None) -> Draft:
            current = self._writable(head, dpp_id, principal, Action.UPDATE, if_match)
            document = validate_document(assign(current["document"], segments, value))
            return self._changed(
                current,
                document,
                lifecycle_given=None,
                own_policy=current.get("accessPolicy"),
                operation=UPDATE_ELEMENT,
                principal=principal,
            )

        head = self.passports.commit(dpp_id, decide)
        return head, resolve(head["document"], segments)

    def set_access_policy(
        self, dpp_id: str, body: Any, principal: Principal, if_match: str | None
    ) -> PassportItem:
        """Replace the passport's own access policy (a signed version); `null` removes it."""
        authorize(Action.UPDATE, principal, None)
        own_policy = None if body is None else require_object(body, "access policy")
        passport_policy(own_policy)

        def decide(head: PassportItem | None) -> Draft:
            current = self._writable(head, dpp_id, principal, Action.UPDATE, if_match)
            return self._changed(
                current,
                current["document"],
                lifecycle_given=None,
                own_policy=own_policy,
                operation=SET_ACCESS_POLICY,
                principal=principal,
            )

        return self.passports.commit(dpp_id, decide)

    def delete(self, dpp_id: str, principal: Principal, if_match: str | None) -> PassportItem:
        authorize(Action.DELETE, principal, None)

        def decide(head: PassportItem | None) -> Draft:
            current = self._writable(head, dpp_id, principal, Action.DELETE, if_match)
            self._check_retention(current)
            timestamp = next_ts(current["ts"])
            return Draft(
                **carried(current),
                operation=DELETE,
                writer=principal.subject,
                timestamp=timestamp,
                deleted=True,
            )

        return self.passports.commit(dpp_id, decide)

    def revoke(self, dpp_id: str, body: Any, principal: Principal, if_match: str | None) -> PassportItem:
        """Revoke the passport for good: a signed version whose lifecycle says Revoked, and why;
        `dppStatus` says so to EN 18222 readers too."""
        authorize(Action.UPDATE, principal, None)
        reason = require_object(body, "revocation request").get("reason")

        def decide(head: PassportItem | None) -> Draft:
            current = self._writable(head, dpp_id, principal, Action.UPDATE, if_match)
            timestamp = next_ts(current["ts"])
            lifecycle = revoked(current["lifecycle"], reason, timestamp)
            document = with_last_update({**current["document"], "dppStatus": "Revoked"}, timestamp)
            changes = carried(current, document=document, lifecycle=lifecycle)
            return Draft(**changes, operation=REVOKE, writer=principal.subject, timestamp=timestamp)

        return self.passports.commit(dpp_id, decide)

    def publish(self, dpp_id: str, body: Any, principal: Principal, if_match: str | None) -> PassportItem:
        """Publish a new version label; the current one becomes Superseded (a signed version)."""
        authorize(Action.UPDATE, principal, None)
        release = require_object(body, "publication")
        unknown = sorted(set(release) - set(CLIENT_FIELDS))
        if unknown or "versionLabel" not in release:
            raise BadRequest(
                f"Send {{'versionLabel', 'validFrom'?, 'validTo'?}}; unknown members: {unknown}",
                code=ErrorCode.INVALID_PUBLICATION,
            )

        def decide(head: PassportItem | None) -> Draft:
            current = self._writable(head, dpp_id, principal, Action.UPDATE, if_match)
            if current["lifecycle"]["versionLabel"] == release["versionLabel"]:
                raise Conflict(
                    f"'{release['versionLabel']}' is already the current label",
                    code=ErrorCode.VERSION_LABEL_USED,
                )
            return self._changed(
                current,
                current["document"],
                lifecycle_given=release,
                own_policy=current.get("accessPolicy"),
                operation=PUBLISH,
                principal=principal,
            )

        return self.passports.commit(dpp_id, decide)

    def put_artifact(
        self,
        dpp_id: str,
        raw_type: str,
        upload: tuple[bytes, str | None],
        principal: Principal,
        if_match: str | None,
    ) -> tuple[PassportItem, dict[str, Any]]:
        """Store an artifact's bytes and reference them from a new, signed version: (head, reference)."""
        authorize(Action.UPDATE, principal, None)
        artifact_type = parse_artifact_type(raw_type)
        data, media_type = upload[0], parse_media_type(upload[1])
        # Refuse before uploading: a refused request must leave nothing behind.
        current = self._writable(self.passports.head(dpp_id), dpp_id, principal, Action.UPDATE, if_match)
        refuse_if_revoked(current["lifecycle"])
        reference = self.artifacts.put(dpp_id, artifact_type, data, media_type)

        def decide(head: PassportItem | None) -> Draft:
            latest = self._writable(head, dpp_id, principal, Action.UPDATE, if_match)
            refuse_if_revoked(latest["lifecycle"])
            timestamp = next_ts(latest["ts"])
            changes = carried(
                latest,
                document=with_last_update(latest["document"], timestamp),
                artifacts={**latest["artifacts"], artifact_type: reference},
            )
            return Draft(**changes, operation=PUT_ARTIFACT, writer=principal.subject, timestamp=timestamp)

        return self.passports.commit(dpp_id, decide), reference

    def _writable(
        self,
        head: PassportItem | None,
        dpp_id: str,
        principal: Principal,
        action: Action,
        if_match: str | None,
    ) -> PassportItem:
        if head is None or head["deleted"]:
            raise not_found(f"id '{dpp_id}'")
        authorize(action, principal, head["document"])
        _check_precondition(if_match, head)
        return head

    def _changed(
        self,
        head: PassportItem,
        document: dict[str, Any],
        *,
        lifecycle_given: Any,
        own_policy: dict[str, Any] | None,
        operation: str,
        principal: Principal,
    ) -> Draft:
        """A client's change: identity kept, artifacts carried, lifecycle rules applied."""
        check_immutable(head["document"], document)
        passport_policy(own_policy)
        timestamp = next_ts(head["ts"])
        used = [entry["label"] for entry in head.get("labels", [])]
        lifecycle = on_change(head["lifecycle"], lifecycle_given, used, timestamp)
        return Draft(
            with_last_update(document, timestamp),
            lifecycle,
            head["artifacts"],
            own_policy,
            operation,
            principal.subject,
            timestamp,
        )

    def _check_retention(self, head: PassportItem) -> None:
        days = self.config.retention_days
        if days <= 0:
            return
        created = parse_ts(head["createdAt"], "createdAt")
        if utcnow() - created < timedelta(days=days):
            raise Conflict(
                f"Passports must be kept for {days} days after creation (DPP_RETENTION_DAYS); "
                f"this one was created at {head['createdAt']}",
                code=ErrorCode.RETENTION_PERIOD,
            )
