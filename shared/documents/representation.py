"""The EN 18223 expanded ("full") representation, derived from the stored compressed document.

Compressed content carries no metadata, so object types and XSD value types are inferred from
the values; a section's dictionaryReference is the content specification it belongs to.
"""

from __future__ import annotations

import copy
import re
from datetime import date
from typing import Any

from shared.documents.members import is_section as _is_section
from shared.documents.text import is_multi_language

# The member the expansion adds; a stored member of that name would collide with it.
_ELEMENTS = "elements"

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# RFC 3339 date-time; its ABNF literals are case-insensitive, so `t` and `z` count too.
_DATE_TIME = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt]"
    r"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})(?:\.[0-9]+)?"
    r"(?:[Zz]|[+-](?P<offset_hour>[0-9]{2}):(?P<offset_minute>[0-9]{2}))"
)
# RFC 3986 scheme, ':' and at least one more character, no blank anywhere.
_ABSOLUTE_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:\S+")
_VERSION_SEGMENT = re.compile(r"[vV]?[0-9]+(?:\.[0-9]+)*")
_RESOURCE_KEYS = frozenset({"contentType", "url", "resourceTitle", "language"})


# -- the document -----------------------------------------------------------------------------


def to_full(document: dict[str, Any]) -> dict[str, Any]:
    """Header and other non-section members unchanged, then every content section under `elements`.

    The result shares no structure with `document`.
    """
    spec_ids = document.get("contentSpecificationIds")
    spec_ids = spec_ids if isinstance(spec_ids, list) else []
    full = {
        key: copy.deepcopy(value)
        for key, value in document.items()
        if key != _ELEMENTS and not _is_section(key, value)
    }
    full[_ELEMENTS] = [
        _section(key, value, dictionary_reference(key, spec_ids))
        for key, value in document.items()
        if _is_section(key, value)
    ]
    return full


def _section(key: str, value: dict[str, Any], reference: str | None) -> dict[str, Any]:
    # Always a collection, even when the section's members happen to look like a resource.
    section: dict[str, Any] = {"elementId": key, "objectType": "DataElementCollection"}
    if reference is not None:
        section["dictionaryReference"] = reference
    section["elements"] = _children(value)
    return section


def dictionary_reference(key: str, spec_ids: list[Any]) -> str | None:
    """The content specification a section key stands for: itself, or the id whose name it is."""
    if key in spec_ids:
        return key
    wanted = key.casefold()
    for spec_id in spec_ids:
        name = _spec_name(spec_id) if isinstance(spec_id, str) else ""
        if name and name.casefold() == wanted:
            return spec_id
    return None


def _spec_name(spec_id: str) -> str:
    """`.../Nameplate/1` → `Nameplate`; `.../CarbonFootprint/CarbonFootprint/1/0` → `CarbonFootprint`."""
    for part in reversed(re.split(r"[/#:]", spec_id)):
        if part and not _VERSION_SEGMENT.fullmatch(part):
            return part
    return ""


# -- elements ---------------------------------------------------------------------------------


def to_full_element(element_id: str, value: Any) -> dict[str, Any]:
    """The expanded form of one compressed value; shares no structure with `value`."""
    head: dict[str, Any] = {"elementId": element_id}
    if is_multi_language(value):
        return {**head, "objectType": "MultiLanguageDataElement", "value": copy.deepcopy(value)}
    if _is_related_resource(value):
        return {**head, "objectType": "RelatedResource", **value}
    if isinstance(value, dict):
        return {**head, "objectType": "DataElementCollection", "elements": _children(value)}
    if isinstance(value, list):
        return _multi_valued(head, value)
    return {
        **head,
        "objectType": "SingleValuedDataElement",
        "valueDataType": value_data_type(value),
        "value": value,
    }


def _children(value: dict[str, Any]) -> list[dict[str, Any]]:
    return [to_full_element(key, child) for key, child in value.items()]


def _multi_valued(head: dict[str, Any], items: list[Any]) -> dict[str, Any]:
    element = {**head, "objectType": "MultiValuedDataElement"}
    # The reference schema gives valueDataType only to lists of scalars.
    if items and all(_is_scalar(item) for item in items):
        types = {value_data_type(item) for item in items}
        element["valueDataType"] = types.pop() if len(types) == 1 else "xsd:string"
    element["elements"] = [to_full_element(str(index), item) for index, item in enumerate(items)]
    return element


def _is_scalar(value: Any) -> bool:
    return value is not None and not isinstance(value, dict | list)


def _is_related_resource(value: Any) -> bool:
    # String members only: anything else could not be valid against the RelatedResource schema.
    return (
        isinstance(value, dict)
        and {"contentType", "url"} <= value.keys() <= _RESOURCE_KEYS
        and all(isinstance(member, str) for member in value.values())
        and value["contentType"] != ""
    )


# -- value data types -------------------------------------------------------------------------


def value_data_type(value: Any) -> str:
    """The XSD type a compressed scalar is reported as; text that is nothing more specific is a string."""
    # bool before int: in Python a bool is an int.
    if isinstance(value, bool):
        return "xsd:boolean"
    if isinstance(value, int):
        return "xsd:integer"
    if isinstance(value, float):
        return "xsd:double"
    if isinstance(value, str):
        return _text_type(value)
    return "xsd:string"


def _text_type(text: str) -> str:
    if _is_date_time(text):
        return "xsd:dateTime"
    if _DATE.fullmatch(text) and _is_calendar_date(text):
        return "xsd:date"
    if _ABSOLUTE_URI.fullmatch(text):
        return "xsd:anyURI"
    return "xsd:string"


def _is_date_time(text: str) -> bool:
    match = _DATE_TIME.fullmatch(text)
    if match is None or not _is_calendar_date(match["date"]):
        return False
    # Second 60 is RFC 3339's leap second.
    limits = {"hour": 23, "minute": 59, "second": 60, "offset_hour": 23, "offset_minute": 59}
    return all(match[name] is None or int(match[name]) <= limit for name, limit in limits.items())


def _is_calendar_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True
