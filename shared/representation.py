"""The EN 18223 expanded ("full") representation, derived from the stored compressed document.

Compressed content carries no metadata, so object types and XSD value types are inferred from
the values; a section's dictionaryReference is the content specification it belongs to.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from shared.document import HEADER_FIELDS

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$")
_VERSION_SEGMENT = re.compile(r"^[vV]?\d+(\.\d+)*$")
_RESOURCE_KEYS = {"contentType", "url", "resourceTitle", "language"}


def to_full(document: dict[str, Any]) -> dict[str, Any]:
    """Header and other non-section members unchanged, then every content section under `elements`."""
    full: dict[str, Any] = {}
    elements: list[dict[str, Any]] = []
    spec_ids = document.get("contentSpecificationIds") or []
    for key, value in document.items():
        if key in HEADER_FIELDS or not isinstance(value, dict):
            full[key] = value
            continue
        section = to_full_element(key, value)
        reference = dictionary_reference(key, spec_ids)
        if reference is not None:
            section = {
                "elementId": key,
                "objectType": section["objectType"],
                "dictionaryReference": reference,
                **{k: v for k, v in section.items() if k not in {"elementId", "objectType"}},
            }
        elements.append(section)
    full["elements"] = elements
    return full


def _with_reference(element: dict[str, Any], reference: str | None) -> dict[str, Any]:
    """The element with dictionaryReference in its schema position, after objectType."""
    if reference is None:
        return element
    head = {"elementId": element["elementId"], "objectType": element["objectType"]}
    return {**head, "dictionaryReference": reference, **{k: v for k, v in element.items() if k not in head}}


def dictionary_reference(key: str, spec_ids: list[Any]) -> str | None:
    """The content specification a section key stands for: itself, or the id whose name it is."""
    if key in spec_ids:
        return key
    for spec_id in spec_ids:
        if isinstance(spec_id, str) and _spec_name(spec_id).lower() == key.lower():
            return spec_id
    return None


def _spec_name(spec_id: str) -> str:
    """`.../Nameplate/1` → `Nameplate`; `.../CarbonFootprint/CarbonFootprint/1/0` → `CarbonFootprint`."""
    for part in reversed(re.split(r"[/#:]", spec_id.rstrip("/"))):
        if part and not _VERSION_SEGMENT.match(part):
            return part
    return spec_id


def to_full_element(element_id: str, value: Any) -> dict[str, Any]:
    head = {"elementId": element_id}
    if _is_multilanguage(value):
        return {**head, "objectType": "MultiLanguageDataElement", "value": value}
    if isinstance(value, dict) and {"contentType", "url"} <= value.keys() <= _RESOURCE_KEYS:
        return {**head, "objectType": "RelatedResource", **value}
    if isinstance(value, dict):
        children = [to_full_element(key, child) for key, child in value.items()]
        return {**head, "objectType": "DataElementCollection", "elements": children}
    if isinstance(value, list):
        element: dict[str, Any] = {**head, "objectType": "MultiValuedDataElement"}
        if value and all(item is not None and not isinstance(item, dict | list) for item in value):
            types = {value_data_type(item) for item in value}
            element["valueDataType"] = types.pop() if len(types) == 1 else "xsd:string"
        element["elements"] = [to_full_element(str(index), item) for index, item in enumerate(value)]
        return element
    return {
        **head,
        "objectType": "SingleValuedDataElement",
        "valueDataType": value_data_type(value),
        "value": value,
    }


def _is_multilanguage(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(
            isinstance(item, dict)
            and item.keys() == {"value", "language"}
            and isinstance(item["value"], str)
            and isinstance(item["language"], str)
            for item in value
        )
    )


_NATIVE_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "xsd:boolean"),
    (int, "xsd:integer"),
    (float, "xsd:double"),
)


def value_data_type(value: Any) -> str:
    # bool before int: in Python a bool is an int.
    for native, xsd in _NATIVE_TYPES:
        if isinstance(value, native):
            return xsd
    if isinstance(value, str):
        if _DATE_TIME.match(value) and _parses(value):
            return "xsd:dateTime"
        if _DATE.match(value) and _parses(value):
            return "xsd:date"
        if _URI.match(value):
            return "xsd:anyURI"
    return "xsd:string"


def _parses(value: str) -> bool:
    try:
        datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return False
    return True
