"""Product relations: the operator's `relations` content section, signed and versioned with the
passport (an EN 18223 RelatedResource section), keyed by relation type:

    "relations": {"hasPart": [{"target": "<URL or product id>", "quantity": 4, "label": "cell module"}],
                  "isSubstitutedBy": [{"target": "https://other.example/01/09506000134369"}]}

Types come in inverse pairs (`hasPart`/`isPartOf`, `substitutes`/`isSubstitutedBy`,
`isSuccessorOf`/`isPredecessorOf`), plus `relatedTo`, which needs a `label`. A target is a GS1
Digital Link URI, a product id or passport URL on this service, or any https URL of another
provider. The published JSON Schema is `relations.schema.json` beside this module; validation here
adds what a schema cannot say (no relation to the passport itself, Digital Link URIs valid).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from shared.documents.digital_link import InvalidDigitalLink, is_digital_link, parse, product_key
from shared.platform.errors import BadRequest, ErrorCode

SECTION = "relations"
INVERSES = {
    "hasPart": "isPartOf",
    "isPartOf": "hasPart",
    "substitutes": "isSubstitutedBy",
    "isSubstitutedBy": "substitutes",
    "isSuccessorOf": "isPredecessorOf",
    "isPredecessorOf": "isSuccessorOf",
    "relatedTo": "relatedTo",
}
TYPES: tuple[str, ...] = tuple(INVERSES)
MAX_LINKS_PER_TYPE = 1000
MAX_TARGET_CHARS = 2048
MAX_LABEL_CHARS = 200
MAX_QUANTITY = 1_000_000_000
SCHEMA_FILE = Path(__file__).resolve().parent / "relations.schema.json"


@cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return loaded


def _refuse(text: str) -> BadRequest:
    return BadRequest(f"'relations' {text}", code=ErrorCode.INVALID_RELATIONS)


def _check_target(target: Any, where: str) -> str:
    if not isinstance(target, str) or not target.strip() or len(target) > MAX_TARGET_CHARS:
        raise _refuse(f"{where}.target must be a non-blank string of at most {MAX_TARGET_CHARS} characters")
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in target) or " " in target:
        raise _refuse(f"{where}.target must not contain blanks or control characters")
    if "://" in target:
        parts = urlsplit(target)
        if parts.scheme.lower() not in ("https", "http") or not parts.netloc:
            raise _refuse(f"{where}.target must be an http(s) URL with a host, or a product id")
        if is_digital_link(target):
            try:
                parse(target)
            except InvalidDigitalLink as exc:
                raise _refuse(f"{where}.target: {exc.text}") from None
    return target


def _check_link(link: Any, kind: str, index: int) -> None:
    where = f"{kind}[{index}]"
    if not isinstance(link, dict):
        raise _refuse(f"{where} must be an object with a 'target'")
    unknown = sorted(set(link) - {"target", "quantity", "label"})
    if unknown:
        raise _refuse(f"{where} has unknown members {unknown}; allowed: target, quantity, label")
    _check_target(link.get("target"), where)
    quantity = link.get("quantity")
    if "quantity" in link and (
        isinstance(quantity, bool)
        or not isinstance(quantity, int | float)
        or not 0 < quantity <= MAX_QUANTITY
    ):
        raise _refuse(f"{where}.quantity must be a positive number")
    label = link.get("label")
    if "label" in link and (not isinstance(label, str) or not label.strip() or len(label) > MAX_LABEL_CHARS):
        raise _refuse(f"{where}.label must be a non-blank string of at most {MAX_LABEL_CHARS} characters")
    if kind == "relatedTo" and "label" not in link:
        raise _refuse(f"{where} needs a 'label' (relatedTo says what the relation is)")


def validate_relations(document: dict[str, Any]) -> None:
    """Refuse a `relations` section that breaks the schema or names the passport itself."""
    section = document.get(SECTION)
    if section is None:
        return
    if not isinstance(section, dict):
        raise _refuse("must be a JSON object keyed by relation type")
    unknown = sorted(set(section) - set(TYPES))
    if unknown:
        raise _refuse(f"has unknown relation types {unknown}; allowed: {', '.join(TYPES)}")
    own = {
        product_key(str(document.get("uniqueProductIdentifier", ""))),
        str(document.get("digitalProductPassportId")),
    }
    for kind, links in section.items():
        if not isinstance(links, list) or len(links) > MAX_LINKS_PER_TYPE:
            raise _refuse(f"{kind} must be a list of at most {MAX_LINKS_PER_TYPE} links")
        for index, link in enumerate(links):
            _check_link(link, kind, index)
            if product_key(link["target"]) in own:
                raise _refuse(f"{kind}[{index}] names the passport itself")


def links_of(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(type, link) for every relation a document names, in its order."""
    section = document.get(SECTION)
    if not isinstance(section, dict):
        return []
    return [(kind, link) for kind, links in section.items() if isinstance(links, list) for link in links]
