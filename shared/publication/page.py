"""The consumer page: a passport as a person reads it, server-rendered HTML (Jinja2, autoescaped).

No JavaScript, no external resource (the adapter sends a Content-Security-Policy that allows none),
mobile first. It shows only what the access policy lets anonymous readers see, in the reader's
language where a value has several (`?lang=`, else `Accept-Language`, else English, else the first
given), with the status as a banner and one plain line on what the signature covers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from shared.access.authorization import AccessControl
from shared.documents.members import sections
from shared.documents.relations import SECTION as RELATIONS
from shared.documents.text import is_multi_language, languages, localized, matching_language, product_name
from shared.passports.records import PassportItem
from shared.publication.relations import RelationGraph

FALLBACK_LANGUAGE = "en"
# How each relation type reads above its list, in the order the page shows them.
RELATION_HEADINGS = {
    "hasPart": "Parts",
    "isPartOf": "Part of",
    "substitutes": "Substitutes for",
    "isSubstitutedBy": "Substituted by",
    "isSuccessorOf": "Successor of",
    "isPredecessorOf": "Succeeded by",
    "relatedTo": "Related",
}
STATUS_WORDS = {"NotFound": "Not found", "unknown": "Status unknown", "Gone": "Withdrawn"}
VERIFICATION_WORDS = {
    "local": "",
    "verified": "signature checked",
    "unverified": "not verified",
    "unreachable": "provider unreachable",
}
SECTION_ORDER = ("nameplate", "composition", "certification", "sustainability", "repair", "recycling")


@dataclass(frozen=True)
class RelatedRow:
    text: str
    href: str | None
    quantity: str
    status: str  # the CSS class: Valid, Revoked, Superseded, NotFound, unknown, ...
    status_text: str
    verification: str


@dataclass(frozen=True)
class PageContext:
    """What the page is rendered from (plain values: the template decides nothing)."""

    language: str
    title: str
    status: str
    status_text: str
    operator: str
    label: str
    updated: str
    sections: list[tuple[str, str, list[tuple[str, str]]]]  # id, heading, rows of (name, value)
    artifacts: list[tuple[str, str]]  # (type, media type)
    relations: list[tuple[str, list[RelatedRow]]]  # heading, its rows
    verify_url: str
    keys_url: str


def _words(name: str) -> str:
    """`waterUsageLitres` → `Water usage litres`."""
    spaced = "".join(f" {char.lower()}" if char.isupper() else char for char in name).strip()
    return spaced[:1].upper() + spaced[1:]


def choose_language(requested: str | None, accept_language: str | None, available: set[str]) -> str:
    """The language to show: `?lang=`, else the best of Accept-Language, else English, else any."""
    wanted: list[tuple[float, str]] = []
    if requested:
        wanted.append((2.0, requested))
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and tag != "*":
            wanted.append((quality, tag))
    ranked = sorted(available)
    for _, tag in sorted(wanted, key=lambda item: -item[0]):
        found = matching_language(tag, ranked)
        if found:
            return found
    return matching_language(FALLBACK_LANGUAGE, ranked) or (ranked[0] if ranked else FALLBACK_LANGUAGE)


def _text(value: Any, language: str) -> str:
    if is_multi_language(value):
        return localized(value, language)
    if isinstance(value, list):
        return ", ".join(_text(item, language) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{_words(k)}: {_text(v, language)}" for k, v in value.items())
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


def _status(head: PassportItem) -> tuple[str, str]:
    lifecycle = head["lifecycle"]
    if lifecycle["status"] == "Revoked":
        return "Revoked", f"Revoked on {lifecycle['revokedAt'][:10]} because {lifecycle['revocationReason']}"
    valid_to = lifecycle.get("validTo")
    return "Valid", f"Valid since {lifecycle['validFrom'][:10]}" + (
        f", until {valid_to[:10]}" if valid_to else ""
    )


def _related(rows: list[dict[str, Any]]) -> list[tuple[str, list[RelatedRow]]]:
    grouped: dict[str, list[RelatedRow]] = {}
    for row in rows:
        status = str(row.get("status", "unknown"))
        grouped.setdefault(row["relation"], []).append(
            RelatedRow(
                text=str(row.get("label") or row["target"]),
                href=row.get("href"),
                quantity=f"\N{MULTIPLICATION SIGN} {row['quantity']}" if "quantity" in row else "",
                status=status if status.isalnum() else "unknown",
                status_text=STATUS_WORDS.get(status, status),
                verification=VERIFICATION_WORDS.get(str(row.get("verification")), ""),
            )
        )
    return [(RELATION_HEADINGS[kind], grouped[kind]) for kind in RELATION_HEADINGS if kind in grouped]


class ConsumerPage:
    def __init__(self, access: AccessControl, relations: RelationGraph):
        self.access = access
        self.relations = relations

    def context(
        self,
        head: PassportItem,
        requested_language: str | None,
        accept_language: str | None,
        urls: dict[str, str],
        page_of: Callable[[str], str],
    ) -> PageContext:
        """`page_of(dppId)`: the page of a passport on this service (where a relation leads)."""
        shown = self.access.public(head)
        document = shown.document
        language = choose_language(requested_language, accept_language, languages(document))
        content = {name: value for name, value in sections(document).items() if name != RELATIONS}
        ordered = sorted(
            content, key=lambda name: (SECTION_ORDER.index(name) if name in SECTION_ORDER else 99, name)
        )
        rendered = [
            (
                name,
                _words(name),
                [(_words(key), _text(value, language)) for key, value in content[name].items()],
            )
            for name in ordered
        ]
        title = product_name(content, language) or document["uniqueProductIdentifier"]
        status, status_text = _status(head)
        return PageContext(
            language=language,
            title=title,
            status=status,
            status_text=status_text,
            operator=document["economicOperatorId"],
            label=head["lifecycle"]["versionLabel"],
            updated=document.get("lastUpdate", "")[:10],
            sections=rendered,
            artifacts=[(kind, str(ref.get("mediaType", ""))) for kind, ref in shown.artifacts.items()],
            relations=_related(self.relations.named(document, page_of)),
            verify_url=urls["verify"],
            keys_url=urls["keys"],
        )

    def render(self, context: PageContext) -> str:
        return _template().render(page=context)


@cache
def _template() -> Any:
    # Imported on first render: a cold start that serves no page does not load Jinja2.
    from jinja2 import Environment, PackageLoader, select_autoescape

    environment = Environment(
        loader=PackageLoader("shared.publication", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    return environment.get_template("passport.html")
