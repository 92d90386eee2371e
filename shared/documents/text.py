"""Multi-language values (EN 18223: `[{"value": ..., "language": ...}]`) and a product's name.

One place for the rules every reader-facing surface shares: which language of a value to show
(the one asked for, else one with the same primary subtag, `en` ~ `en-GB`, else the first given),
which languages a document offers, and where its product name is.
"""

from __future__ import annotations

from typing import Any, TypeGuard

MULTI_LANGUAGE_KEYS = frozenset({"value", "language"})
# Where a content section names its product, in the order the sections' conventions use.
NAME_KEYS = ("productName", "ProductName", "name", "Name")


def is_multi_language(value: Any) -> TypeGuard[list[dict[str, str]]]:
    return (
        isinstance(value, list)
        and bool(value)
        and all(
            isinstance(item, dict)
            and item.keys() == MULTI_LANGUAGE_KEYS
            and isinstance(item["value"], str)
            and isinstance(item["language"], str)
            for item in value
        )
    )


def matching_language(tag: str, available: list[str]) -> str | None:
    """`tag` itself among `available`, else a language with its primary subtag, else None."""
    exact = [language for language in available if language.lower() == tag.lower()]
    primary = tag.lower().split("-")[0]
    related = [language for language in available if language.lower().split("-")[0] == primary]
    found = exact or related
    return found[0] if found else None


def localized(value: list[dict[str, str]], language: str) -> str:
    """The text of a multi-language value in `language`, or the closest it has."""
    chosen = matching_language(language, [item["language"] for item in value])
    return next((item["value"] for item in value if item["language"] == chosen), value[0]["value"])


def languages(value: Any) -> set[str]:
    """The languages of the multi-language values anywhere inside `value`."""
    if is_multi_language(value):
        return {item["language"] for item in value}
    if isinstance(value, dict):
        return set().union(*(languages(member) for member in value.values()))
    if isinstance(value, list):
        return set().union(*(languages(item) for item in value))
    return set()


def product_name(content: dict[str, dict[str, Any]], language: str) -> str | None:
    """The first non-blank product name of the content sections, in `language` where it has several."""
    for section in content.values():
        for key in NAME_KEYS:
            value = section.get(key)
            text = localized(value, language) if is_multi_language(value) else value
            if isinstance(text, str) and text.strip():
                return text
    return None
