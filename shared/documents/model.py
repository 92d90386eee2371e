"""The DPP document (EN 18223 compressed representation): header fields plus content sections.

Pydantic validates the header at the edge; the stored document is the client's own JSON with
only `granularity` canonicalised and `lastUpdate` set by the server, so what was written is what
is read back (key order and unknown content included).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, ValidationError
from pydantic_core import ErrorDetails

from shared.documents.digital_link import InvalidDigitalLink, is_digital_link
from shared.documents.digital_link import parse as parse_digital_link
from shared.documents.relations import validate_relations
from shared.integrity.sd_jwt import find_reserved
from shared.integrity.signatures import INTEGRITY_FIELDS
from shared.platform.clock import parse_ts
from shared.platform.errors import BadRequest, Conflict, ErrorCode

# Partition key values are limited to 2 KiB in Cosmos DB; ids also travel in URLs and headers.
MAX_ID_BYTES = 1024

HEADER_FIELDS: tuple[str, ...] = (
    "digitalProductPassportId",
    "uniqueProductIdentifier",
    "granularity",
    "dppSchemaVersion",
    "dppStatus",
    "lastUpdate",
    "economicOperatorId",
    "facilityId",
    "contentSpecificationIds",
)
REQUIRED_FIELDS: tuple[str, ...] = (
    "digitalProductPassportId",
    "uniqueProductIdentifier",
    "granularity",
    "dppSchemaVersion",
    "dppStatus",
    "economicOperatorId",
)
# Identity and ownership cannot change after creation: lookups and authorization hang on them.
IMMUTABLE_FIELDS: tuple[str, ...] = (
    "digitalProductPassportId",
    "uniqueProductIdentifier",
    "economicOperatorId",
)
# Written by the server on every write (lastUpdate is a header field and handled on its own).
SERVER_FIELDS: tuple[str, ...] = INTEGRITY_FIELDS
GRANULARITIES: dict[str, str] = {"item": "Item", "model": "Model", "batch": "Batch"}


def _canonical_granularity(value: object) -> object:
    if isinstance(value, str):
        return GRANULARITIES.get(value.strip().lower(), value)
    return value


# Scripts whose letters look alike: a word mixing them (`apple` written with a Cyrillic a)
# reads as another id than it is.
CONFUSABLE_SCRIPTS = frozenset({"LATIN", "CYRILLIC", "GREEK"})
_WORD = re.compile(r"[^\W_]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _scripts(word: str) -> set[str]:
    found = set()
    for char in word:
        if char.isalpha():
            script = unicodedata.name(char, "UNKNOWN").split(" ", 1)[0]
            if script in CONFUSABLE_SCRIPTS:
                found.add(script)
    return found


def _no_control_characters(value: str) -> str:
    if _CONTROL.search(value):  # every id of every request passes here: one scan in C
        raise ValueError("must not contain control characters")
    if len(value.encode("utf-8")) > MAX_ID_BYTES:
        raise ValueError(f"must be at most {MAX_ID_BYTES} bytes")
    return value


def _check_identifier(value: str) -> str:
    """Ids are compared byte for byte, so a new one must be unambiguous text: no control
    characters, Unicode NFC (a composed and a decomposed letter would be two ids), and no word
    that mixes Latin, Cyrillic or Greek letters (which look alike). Reads by path check only the
    first, so ids stored before these rules stay readable."""
    _no_control_characters(value)
    if unicodedata.normalize("NFC", value) != value:
        raise ValueError("must be in Unicode normalization form NFC")
    for word in _WORD.findall(value):
        mixed = _scripts(word)
        if len(mixed) > 1:
            scripts = " and ".join(sorted(script.title() for script in mixed))
            raise ValueError(f"mixes {scripts} letters in {word!r}, which look alike")
    return value


NonBlank = Annotated[str, StringConstraints(strict=True, min_length=1, pattern=r"\S")]
Identifier = Annotated[NonBlank, BeforeValidator(lambda v: _check_identifier(v) if isinstance(v, str) else v)]


class PassportHeader(BaseModel):
    """EN 18223 Table 1 header; content sections are the extra members."""

    model_config = ConfigDict(extra="allow", strict=True)

    digitalProductPassportId: Identifier
    uniqueProductIdentifier: Identifier
    granularity: Annotated[Literal["Item", "Model", "Batch"], BeforeValidator(_canonical_granularity)]
    dppSchemaVersion: NonBlank
    dppStatus: NonBlank
    lastUpdate: str | None = None
    economicOperatorId: Identifier
    facilityId: NonBlank | None = None
    contentSpecificationIds: list[NonBlank] = Field(default_factory=list)


def _describe(error: ErrorDetails) -> str:
    where = ".".join(str(part) for part in error["loc"]) or "document"
    if error["type"] == "missing":
        return f"'{where}' is required"
    if error["type"] == "literal_error" and error["loc"] == ("granularity",):
        return "'granularity' must be one of Item, Model, Batch"
    return f"'{where}': {error['msg']}"


def require_object(body: Any, what: str = "request body") -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest(f"The {what} must be a JSON object", code=ErrorCode.INVALID_BODY)
    return body


def validate_document(document: Any) -> dict[str, Any]:
    """Validate a compressed passport and return it with canonical granularity.

    Raises BadRequest naming every problem found, so a client can fix them in one go.
    """
    document = require_object(document)
    problems: list[str] = []
    try:
        header = PassportHeader.model_validate(document)
    except ValidationError as exc:
        problems.extend(_describe(err) for err in exc.errors(include_url=False))
        header = None
    if document.get("lastUpdate") is not None:
        try:
            parse_ts(document["lastUpdate"], "lastUpdate")
        except BadRequest as exc:
            problems.append(exc.text)
    reserved = find_reserved(document)
    if reserved:
        problems.append(f"'{reserved}' uses a member name SD-JWT (RFC 9901) reserves: _sd, _sd_alg, ...")
    if "elements" in document:
        problems.append("'elements' is the read-only expanded representation; write the compressed form")
    for key, value in document.items():
        if key in SERVER_FIELDS:
            continue
        if key not in HEADER_FIELDS and key != "elements" and not isinstance(value, dict):
            problems.append(f"content section '{key}' must be a JSON object")
    product_id = document.get("uniqueProductIdentifier")
    if isinstance(product_id, str) and is_digital_link(product_id):
        try:
            parse_digital_link(product_id)
        except InvalidDigitalLink as exc:
            if not problems:
                raise
            problems.append(exc.text)
    if problems:
        raise BadRequest("Invalid passport: " + "; ".join(problems), code=ErrorCode.INVALID_PASSPORT)
    assert header is not None
    validate_relations(document)
    # Integrity fields belong to the server: whatever a client sends is replaced on write.
    validated = {key: value for key, value in document.items() if key not in SERVER_FIELDS}
    validated["granularity"] = header.granularity
    return validated


def with_last_update(document: dict[str, Any], timestamp: str) -> dict[str, Any]:
    """The document with the server's lastUpdate, keeping the client's key order."""
    if "lastUpdate" in document:
        return {key: (timestamp if key == "lastUpdate" else value) for key, value in document.items()}
    updated: dict[str, Any] = {}
    for key, value in document.items():
        updated[key] = value
        if key == "dppStatus":
            updated["lastUpdate"] = timestamp
    if "lastUpdate" not in updated:
        updated["lastUpdate"] = timestamp
    return updated


def check_immutable(before: dict[str, Any], after: dict[str, Any]) -> None:
    for name in IMMUTABLE_FIELDS:
        if after.get(name) != before.get(name):
            raise Conflict(f"'{name}' cannot be changed after creation", code=ErrorCode.IMMUTABLE_FIELD)


def validate_identifier(value: str, what: str) -> str:
    """Validate an id taken from a URL path."""
    if not value or not value.strip():
        raise BadRequest(f"{what} must not be blank", code=ErrorCode.INVALID_IDENTIFIER)
    try:
        _no_control_characters(value)
    except ValueError as exc:
        raise BadRequest(f"{what} {exc}", code=ErrorCode.INVALID_IDENTIFIER) from None
    return value
