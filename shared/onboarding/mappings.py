"""Attribute mappings: how the columns of a PIM export or spreadsheet become passport documents.

A mapping (JSON or YAML, same structure) names constants (the same value on every row) and field
rules (a target <- a column, with an optional type, unit conversion, split, value dictionary,
template, language, default). `load_mapping` checks all of it before any row is read, so a
broken mapping fails an import as a whole with one clear reason (`MappingError`), and
`Mapping.apply` turns one tabular row into a compressed passport document, reporting every rule
that failed on that row (`RowError`, naming the column) so a person can fix the row in one go.

A rule whose target is `$.relations.<type>` (a type of `shared.documents.relations.TYPES`) sets
the passport's relations: each of its values (after split, dictionary and template) becomes a link
`{"target": value}`, with the rule's constant `label` (text; `relatedTo` needs one) and `quantity`
(a positive number) if given. `quantityColumn` names a column whose positive number is the row's
quantity instead (an empty cell leaves `quantity`). Rules of one type append to its list in rule
order; an empty cell adds no link. Only relation rules take `label`, `quantity`, `quantityColumn`.

Documents are not validated as passports here: the import does that with
`shared.document.validate_document`, after setting `economicOperatorId` from the upload's owner.

```yaml
version: 1
format: csv
csv: {delimiter: ";"}
constants: {granularity: Model, dppSchemaVersion: "EN18223:v1.0", dppStatus: Active}
fields:
  - {target: digitalProductPassportId, column: sku, template: "urn:dpp:{value}"}
  - {target: $.nameplate.ProductName, column: name-en_GB, language: en-GB}
  - {target: $.nameplate.WeightKg, column: weight, type: number, unit: {from: g, to: kg}}
  - {target: $.relations.isPartOf, column: parent-gtin, template: "https://id.gs1.org/01/{value:0>14}"}
  - {target: $.relations.hasPart, column: parts, split: "|", label: cell module, quantityColumn: cells}
```
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

from shared.documents.element_paths import parse_jsonpath
from shared.documents.lifecycle import CLIENT_FIELDS, LIFECYCLE
from shared.documents.members import SERVER_WRITTEN
from shared.documents.model import HEADER_FIELDS
from shared.documents.relations import SECTION as RELATIONS
from shared.documents.relations import TYPES as RELATION_TYPES
from shared.onboarding.file_formats import FORMATS, ReaderOptions, RowError, RowRejected
from shared.platform.clock import format_ts
from shared.platform.errors import BadRequest
from shared.platform.json_input import JsonRejected, check_value, read_json

MAPPING_VERSION = 1
# Header fields a mapping may fill (EN 18223 Table 1); lastUpdate is the server's.
HEADER_TARGETS: tuple[str, ...] = tuple(name for name in HEADER_FIELDS if name != "lastUpdate")
LIST_HEADER_TARGETS: tuple[str, ...] = ("contentSpecificationIds",)
# Written by the server on every write: whatever an import put there would be replaced or refused.
SERVER_TARGETS: tuple[str, ...] = SERVER_WRITTEN
LIFECYCLE_TARGETS: tuple[str, ...] = CLIENT_FIELDS
TYPES: tuple[str, ...] = ("string", "number", "integer", "boolean", "date", "datetime")
NUMERIC_TYPES: tuple[str, ...] = ("number", "integer")
SHIPPED_MAPPINGS: tuple[str, ...] = ("akeneo", "pimcore")
MAPPINGS_DIR = Path(__file__).resolve().parent / "shipped-mappings"

TOP_KEYS: tuple[str, ...] = (
    "version",
    "description",
    "format",
    "csv",
    "xlsx",
    "decimalComma",
    "constants",
    "fields",
)
CSV_KEYS: tuple[str, ...] = ("delimiter", "headerRow")
XLSX_KEYS: tuple[str, ...] = ("sheet", "headerRow")
RULE_KEYS: tuple[str, ...] = (
    "target",
    "column",
    "type",
    "template",
    "language",
    "unit",
    "unitColumn",
    "split",
    "map",
    "mapDefault",
    "required",
    "default",
    "decimalComma",
    "label",
    "quantity",
    "quantityColumn",
)
# What a relation rule ($.relations.<type>) gives each of its links besides the target.
RELATION_KEYS: tuple[str, ...] = ("label", "quantity", "quantityColumn")
UNIT_KEYS: tuple[str, ...] = ("from", "to")

# Mapping files are small; the cap keeps a mistaken upload (a data file) from being parsed.
MAX_MAPPING_BYTES = 1024 * 1024
_SHOWN_CHARS = 60
_SHOWN_CHOICES = 20
_LANGUAGE = re.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")
# Digits and exponent are bounded: Fraction("1e999999999") would compute a huge power of ten.
_NUMBER = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?$")
_MAX_NUMBER_CHARS = 64
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})


class MappingError(Exception):
    """The mapping cannot be used (reason in str(exc)); nothing should be imported with it."""


class _Missing:
    """Marks an optional setting that was not given (None is a value a mapping may mean)."""

    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _Missing()


class _ValueProblem(ValueError):
    """A cell value a conversion refused; the caller knows which column it came from."""


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else _as_text(value)
    return repr(text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "...")


# -- units ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    symbol: str
    dimension: str
    size: Fraction  # in the dimension's base unit (g, m, l, J)


# symbol, dimension, size in the base unit, other spellings (Akeneo's unit codes among them).
# CO2-equivalent masses are masses: "kgCO2e" converts like "kg".
_UNIT_TABLE: tuple[tuple[str, str, Fraction, tuple[str, ...]], ...] = (
    ("mg", "mass", Fraction(1, 1000), ("milligram", "milligrams", "MILLIGRAM", "mgCO2e")),
    ("g", "mass", Fraction(1), ("gram", "grams", "GRAM", "gCO2e", "gCO2eq")),
    ("kg", "mass", Fraction(1000), ("kilogram", "kilograms", "KILOGRAM", "kgCO2e", "kgCO2eq")),
    ("t", "mass", Fraction(10**6), ("tonne", "tonnes", "TON", "tCO2e", "tCO2eq")),
    ("oz", "mass", Fraction("28.349523125"), ("ounce", "ounces", "OUNCE")),
    ("lb", "mass", Fraction("453.59237"), ("pound", "pounds", "lbs", "POUND")),
    ("mm", "length", Fraction(1, 1000), ("millimeter", "millimetre", "MILLIMETER")),
    ("cm", "length", Fraction(1, 100), ("centimeter", "centimetre", "CENTIMETER")),
    ("dm", "length", Fraction(1, 10), ("decimeter", "decimetre", "DECIMETER")),
    ("m", "length", Fraction(1), ("meter", "metre", "METER")),
    ("km", "length", Fraction(1000), ("kilometer", "kilometre", "KILOMETER")),
    ("in", "length", Fraction("0.0254"), ("inch", "inches", "INCH")),
    ("ft", "length", Fraction("0.3048"), ("foot", "feet", "FEET")),
    (
        "ml",
        "volume",
        Fraction(1, 1000),
        ("milliliter", "millilitre", "MILLILITER", "cm3", "CUBIC_CENTIMETER"),
    ),
    ("cl", "volume", Fraction(1, 100), ("centiliter", "centilitre", "CENTILITER")),
    ("dl", "volume", Fraction(1, 10), ("deciliter", "decilitre", "DECILITER")),
    ("l", "volume", Fraction(1), ("liter", "litre", "liters", "litres", "LITER", "dm3", "CUBIC_DECIMETER")),
    ("m3", "volume", Fraction(1000), ("m³", "cubic meter", "cubic metre", "CUBIC_METER")),
    ("J", "energy", Fraction(1), ("joule", "JOULE")),
    ("kJ", "energy", Fraction(1000), ("kilojoule", "KILOJOULE")),
    ("MJ", "energy", Fraction(10**6), ("megajoule", "MEGAJOULE")),
    ("Wh", "energy", Fraction(3600), ("watt hour", "watt-hour", "WATT_HOUR")),
    ("kWh", "energy", Fraction(3_600_000), ("kilowatt hour", "kilowatt-hour", "KILOWATT_HOUR")),
    ("MWh", "energy", Fraction(3_600_000_000), ("megawatt hour", "megawatt-hour", "MEGAWATT_HOUR")),
)
# Case folding would read millijoule and milliwatt-hour (not supported) as their mega units, so
# these symbols must be written exactly as shown.
_CASE_SENSITIVE = frozenset({"mj", "mwh"})


def _fold(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name).casefold()


def _unit_index() -> tuple[dict[str, Unit], dict[str, Unit]]:
    exact: dict[str, Unit] = {}
    folded: dict[str, Unit] = {}
    for symbol, dimension, size, aliases in _UNIT_TABLE:
        unit = Unit(symbol, dimension, size)
        for name in (symbol, *aliases):
            exact[name] = unit
            key = _fold(name)
            if key in _CASE_SENSITIVE:
                continue
            if folded.get(key, unit) != unit:
                raise AssertionError(f"unit spelling {name!r} is ambiguous")
            folded[key] = unit
    return exact, folded


_UNITS_EXACT, _UNITS_FOLDED = _unit_index()
UNIT_SYMBOLS: tuple[str, ...] = tuple(symbol for symbol, *_ in _UNIT_TABLE)


def find_unit(name: str) -> Unit | None:
    """The unit a symbol, name or Akeneo unit code stands for (case-insensitive but for MJ, MWh)."""
    text = name.strip()
    return _UNITS_EXACT.get(text) or _UNITS_FOLDED.get(_fold(text))


def _unit_ratio(source: Unit, target: Unit) -> Fraction:
    if source.dimension != target.dimension:
        raise _ValueProblem(
            f"cannot convert {source.symbol} ({source.dimension}) to {target.symbol} ({target.dimension})"
        )
    return source.size / target.size


# -- values -----------------------------------------------------------------------------------


def _as_text(value: Any) -> str:
    """A cell as a person reads it: 36 not 36.0, true not True, a date without midnight."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    if isinstance(value, datetime):
        if value.tzinfo is None and value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _number(value: Any, decimal_comma: bool) -> Fraction:
    """An exact number, so unit conversions do not add binary rounding noise."""
    if isinstance(value, bool):
        raise _ValueProblem(f"{_shown(value)} is not a number")
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _ValueProblem(f"{_shown(value)} is not a number")
        return Fraction(value)
    if isinstance(value, Fraction):
        return value
    if not isinstance(value, str):
        raise _ValueProblem(f"{_shown(value)} is not a number")
    text = value.strip()
    if decimal_comma:
        if "." in text:
            raise _ValueProblem(
                f"{_shown(text)} is not a number: with decimalComma the decimal separator is ','"
            )
        text = text.replace(",", ".", 1)
    if len(text) > _MAX_NUMBER_CHARS or not _NUMBER.match(text):
        hint = " (decimal comma? set decimalComma: true)" if "," in text and not decimal_comma else ""
        raise _ValueProblem(f"{_shown(value.strip())} is not a number{hint}")
    return Fraction(text)


def _finish_number(value: Fraction, type_: str) -> int | float:
    if type_ == "integer":
        if value.denominator != 1:
            raise _ValueProblem(f"{float(value)!r} is not a whole number")
        return int(value)
    try:
        result = float(value)
    except OverflowError:
        raise _ValueProblem("the number is too large") from None
    if not math.isfinite(result):
        raise _ValueProblem("the number is too large")
    return result


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().casefold()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise _ValueProblem(f"{_shown(value)} is not a boolean (true/false, yes/no, y/n, 1/0)")


def _date(value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        text = value.strip()
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            pass
        try:
            # A timestamp names its date as written; its offset is not applied.
            return datetime.fromisoformat(text).date().isoformat()
        except ValueError:
            pass
    raise _ValueProblem(f"{_shown(value)} is not an ISO 8601 date (YYYY-MM-DD)")


def _datetime(value: Any) -> str:
    moment: datetime | None = None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time(0))
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            moment = None
    if moment is None:
        raise _ValueProblem(f"{_shown(value)} is not an ISO 8601 date and time")
    # Spreadsheet cells and timestamps without an offset are taken as UTC.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return format_ts(moment)


def _positive(value: Fraction, shown: Any) -> int | float:
    """A relation quantity: positive, and whole numbers stay integers (4, not 4.0)."""
    if value <= 0:
        raise _ValueProblem(f"{_shown(shown)} is not a positive number")
    return int(value) if value.denominator == 1 else _finish_number(value, "number")


def _typed(value: Any, type_: str, decimal_comma: bool) -> Any:
    """The cell as `type_`; numeric types stay exact (Fraction) until units are converted."""
    if type_ in NUMERIC_TYPES:
        return _number(value, decimal_comma)
    if type_ == "boolean":
        return _boolean(value)
    if type_ == "date":
        return _date(value)
    if type_ == "datetime":
        return _datetime(value)
    return value.strip() if isinstance(value, str) else _as_text(value)


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# -- mapping text -----------------------------------------------------------------------------


class _MappingLoader(yaml.SafeLoader):
    """yaml.SafeLoader (plain data only) that also refuses duplicate keys and aliases.

    A duplicate key would silently drop a rule setting; aliases could expand a small file into
    a huge structure.
    """

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise yaml.MarkedYAMLError(problem="aliases (*name) are not supported", problem_mark=mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[str] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                if key_node.value in seen:
                    raise yaml.MarkedYAMLError(
                        problem=f"duplicate key {key_node.value!r}", problem_mark=key_node.start_mark
                    )
                seen.add(key_node.value)
        return super().construct_mapping(node, deep)


def _parse_text(text: str, name: str) -> Any:
    if text.lstrip().startswith("{"):
        try:
            return read_json(text)
        except JsonRejected as exc:
            raise MappingError(f"{name}: not valid JSON: {exc.reason}") from None
    loader = _MappingLoader(text)
    try:
        loaded = loader.get_single_data()
    except yaml.YAMLError as exc:
        raise MappingError(f"{name}: not valid YAML: {exc}") from None
    except RecursionError:
        raise MappingError(f"{name}: not usable YAML: nested too deeply") from None
    except ValueError as exc:  # an integer of thousands of digits, say
        raise MappingError(f"{name}: not usable YAML: {exc}") from None
    finally:
        loader.dispose()
    try:
        check_value(loaded, where="the mapping")
    except JsonRejected as exc:
        raise MappingError(f"{name}: {exc.reason}") from None
    return loaded


def _parse_source(source: str | bytes | dict[str, Any], name: str) -> Any:
    if isinstance(source, dict):
        return source
    if isinstance(source, bytes | bytearray):
        if len(source) > MAX_MAPPING_BYTES:
            raise MappingError(f"{name}: a mapping file may have at most {MAX_MAPPING_BYTES} bytes")
        try:
            source = bytes(source).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise MappingError(f"{name}: the mapping file is not UTF-8 text") from None
    if not isinstance(source, str):
        raise MappingError(f"{name}: a mapping is JSON or YAML text or a parsed object")
    if len(source) > MAX_MAPPING_BYTES:
        raise MappingError(f"{name}: a mapping file may have at most {MAX_MAPPING_BYTES} bytes")
    if not source.strip():
        raise MappingError(f"{name}: the mapping is empty")
    return _parse_text(source, name)


# -- checking settings ------------------------------------------------------------------------


class _Checker:
    """Raises MappingError with the mapping's name and where in it the problem is."""

    def __init__(self, name: str):
        self.name = name

    def fail(self, where: str, reason: str) -> MappingError:
        return MappingError(f"{self.name}: {where}: {reason}")

    def object(self, value: Any, where: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "must be an object (key: value)")
        unknown = [str(key) for key in value if key not in allowed]
        if unknown:
            raise self.fail(where, f"unknown keys {', '.join(unknown)}; allowed: {', '.join(allowed)}")
        return value

    def text(self, value: Any, where: str) -> str:
        if isinstance(value, bool):
            raise self.fail(where, "must be text (quote it: YAML reads yes/no/on/off as booleans)")
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, "must be non-blank text")
        return value

    def flag(self, value: Any, where: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(where, "must be true or false")
        return value

    def row_number(self, value: Any, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.fail(where, "must be a row number (1 or more)")
        return value

    def plain(self, value: Any, where: str) -> Any:
        """`value` as JSON data; YAML dates and timestamps become ISO 8601 text."""
        if isinstance(value, datetime):
            return format_ts(value if value.tzinfo else value.replace(tzinfo=UTC))
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(where, "must be a finite number")
        if value is None or isinstance(value, str | int | float | bool):
            return value
        if isinstance(value, list):
            return [self.plain(item, where) for item in value]
        if isinstance(value, dict):
            for key in value:
                if not isinstance(key, str):
                    raise self.fail(where, f"object keys must be text, not {key!r} (quote it)")
            return {key: self.plain(item, where) for key, item in value.items()}
        raise self.fail(where, f"{type(value).__name__} is not a JSON value")


# -- targets ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where a value goes: a header field (one segment) or an element below a section."""

    text: str
    path: tuple[str, ...]

    @property
    def is_header(self) -> bool:
        return len(self.path) == 1 and self.path[0] in HEADER_TARGETS

    @property
    def is_list_header(self) -> bool:
        return self.is_header and self.path[0] in LIST_HEADER_TARGETS

    @property
    def relation(self) -> str | None:
        """The relation type of a `$.relations.<type>` target (its rules append links), else None."""
        return self.path[1] if len(self.path) == 2 and self.path[0] == RELATIONS else None


def _target(check: _Checker, value: Any, where: str, whole_section: bool) -> Target:
    """Parse a target; `whole_section` allows a section itself (constants set it to an object)."""
    text = check.text(value, where).strip()
    try:
        # Taken literally, as access policy paths are: nothing is percent-decoded.
        path = parse_jsonpath(text if text.startswith("$") else "$." + text)
    except BadRequest as exc:
        raise check.fail(where, f"target {text!r}: {exc.text}") from None
    if not all(isinstance(segment, str) for segment in path):
        raise check.fail(where, f"target {text!r} must name object members only, no list indexes")
    names: tuple[str, ...] = tuple(str(segment) for segment in path)
    top = names[0]
    if top in SERVER_TARGETS:
        raise check.fail(where, f"target {text!r}: '{top}' is written by the server, not by an import")
    if top == "elements":
        raise check.fail(where, f"target {text!r}: 'elements' is the read-only expanded representation")
    if top in HEADER_TARGETS and len(names) > 1:
        raise check.fail(where, f"target {text!r}: the header field '{top}' has no members")
    if top == LIFECYCLE and len(names) > 1 and (len(names) != 2 or names[1] not in LIFECYCLE_TARGETS):
        allowed = ", ".join(f"{LIFECYCLE}.{name}" for name in LIFECYCLE_TARGETS)
        raise check.fail(where, f"target {text!r}: an import may only set {allowed}")
    if top == RELATIONS and len(names) > 1 and (len(names) != 2 or names[1] not in RELATION_TYPES):
        raise check.fail(
            where,
            f"target {text!r}: relations are set per type, $.relations.<type>; "
            f"types: {', '.join(RELATION_TYPES)}",
        )
    if len(names) == 1 and top not in HEADER_TARGETS and not whole_section:
        raise check.fail(where, f"target {text!r} is a content section (an object); name a member of it")
    return Target(text, names)


# -- rules ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Template:
    """A parsed `template`: literal text and `{value}` fields with their format specs."""

    text: str
    parts: tuple[tuple[str, str | None], ...]  # (literal before, format spec or None if no field)

    def render(self, value: Any) -> str:
        out: list[str] = []
        for literal, spec in self.parts:
            out.append(literal)
            if spec is None:
                continue
            out.append(format(value, spec) if spec else _as_text(value))
        return "".join(out)


def _template(check: _Checker, value: Any, where: str) -> _Template:
    text = check.text(value, where)
    parts: list[tuple[str, str | None]] = []
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise check.fail(
            where, f"template {text!r}: {exc} (write {{{{ and }}}} for literal braces)"
        ) from None
    for literal, field_name, spec, conversion in parsed:
        if field_name is None:
            parts.append((literal, None))
            continue
        if field_name != "value" or conversion or (spec and "{" in spec):
            raise check.fail(
                where, f"template {text!r}: the only placeholder is {{value}} (with an optional :spec)"
            )
        parts.append((literal, spec or ""))
    if not any(spec is not None for _, spec in parts):
        raise check.fail(where, f"template {text!r} must contain {{value}}")
    return _Template(text, tuple(parts))


@dataclass(frozen=True)
class FieldRule:
    """One `fields` entry, checked: target <- column, and how the cell is turned into a value."""

    index: int
    target: Target
    column: str
    type: str = "string"
    template: _Template | None = None
    language: str | None = None
    unit_from: Unit | None = None
    unit_to: Unit | None = None
    unit_column: str | None = None
    split: str | None = None
    value_map: dict[str, Any] | None = None  # folded key -> typed value
    map_keys: tuple[str, ...] = ()  # as written, for messages
    map_default: Any = _MISSING
    required: bool = False
    default: Any = _MISSING
    decimal_comma: bool = False
    # Relation rules only: what each link gets besides its target (`label` names the rule).
    link_label: str | None = None
    link_quantity: int | float | None = None
    quantity_column: str | None = None

    @property
    def label(self) -> str:
        return f"rule {self.index} ({self.target.text})"

    def evaluate(self, values: dict[str, Any]) -> Any:
        """The value this rule writes for a row, `_MISSING` for nothing; raises RowRejected.

        A relation rule's value is the list of links it appends, one per item.
        """
        value = self._cell_value(values)
        if value is _MISSING or self.target.relation is None:
            return value
        return self._links(value if isinstance(value, list) else [value], values)

    def _cell_value(self, values: dict[str, Any]) -> Any:
        raw = values.get(self.column)
        items = self._items(raw) if not _is_empty(raw) else []
        if not items:
            if self.default is not _MISSING:
                return copy.deepcopy(self.default)
            if self.required:
                raise RowRejected.at(self.column, "a value is required but the cell is empty")
            return _MISSING
        ratio = self._unit_ratio(values)
        results = []
        for position, item in enumerate(items, start=1):
            try:
                results.append(self._value(item, ratio))
            except _ValueProblem as exc:
                where = f"item {position}: " if self.split else ""
                raise RowRejected.at(self.column, where + str(exc)) from None
        return results if self.split or self.target.is_list_header else results[0]

    def _links(self, targets: list[Any], values: dict[str, Any]) -> list[dict[str, Any]]:
        quantity = self._quantity(values)
        links: list[dict[str, Any]] = []
        for target in targets:
            link: dict[str, Any] = {"target": target}
            if quantity is not None:
                link["quantity"] = quantity
            if self.link_label is not None:
                link["label"] = self.link_label
            links.append(link)
        return links

    def _quantity(self, values: dict[str, Any]) -> int | float | None:
        """The row's `quantityColumn` cell if it has a value, else the rule's constant `quantity`."""
        cell = values.get(self.quantity_column) if self.quantity_column is not None else None
        if _is_empty(cell):
            return self.link_quantity
        assert self.quantity_column is not None
        try:
            return _positive(_number(cell, self.decimal_comma), cell)
        except _ValueProblem as exc:
            raise RowRejected.at(self.quantity_column, f"quantity: {exc}") from None

    def _items(self, raw: Any) -> list[Any]:
        if self.split is None:
            return [raw.strip() if isinstance(raw, str) else raw]
        if not isinstance(raw, str):
            return [raw]
        return [item.strip() for item in raw.split(self.split) if item.strip()]

    def _unit_ratio(self, values: dict[str, Any]) -> Fraction | None:
        if self.unit_to is None:
            return None
        source = self.unit_from
        if self.unit_column is not None:
            named = values.get(self.unit_column)
            if not _is_empty(named):
                source = find_unit(_as_text(named))
                if source is None:
                    known = ", ".join(UNIT_SYMBOLS)
                    raise RowRejected.at(self.unit_column, f"unknown unit {_shown(named)}; known: {known}")
            elif source is None:
                raise RowRejected.at(self.unit_column, f"the unit of column {self.column!r} is missing")
        assert source is not None
        try:
            return _unit_ratio(source, self.unit_to)
        except _ValueProblem as exc:
            raise RowRejected.at(self.unit_column or self.column, str(exc)) from None

    def _value(self, item: Any, ratio: Fraction | None) -> Any:
        if self.value_map is not None:
            value = self._mapped(item)
        else:
            value = _typed(item, self.type, self.decimal_comma)
        if self.type in NUMERIC_TYPES:
            exact = value if isinstance(value, Fraction) else Fraction(value)
            value = _finish_number(exact * ratio if ratio is not None else exact, self.type)
        if self.template is not None:
            try:
                value = self.template.render(value)
            except (ValueError, TypeError) as exc:
                raise _ValueProblem(f"the template cannot format {_shown(value)}: {exc}") from None
        return value

    def _mapped(self, item: Any) -> Any:
        assert self.value_map is not None
        key = _as_text(item).strip().casefold()
        if key in self.value_map:
            return self.value_map[key]
        if self.map_default is not _MISSING:
            return self.map_default
        shown = list(self.map_keys[:_SHOWN_CHOICES])
        if len(self.map_keys) > _SHOWN_CHOICES:
            shown.append(f"... ({len(self.map_keys)} in all)")
        raise _ValueProblem(f"{_shown(item)} is not one of: {', '.join(shown)}")


class _RuleBuilder:
    """Checks one `fields` entry and builds its FieldRule."""

    def __init__(self, check: _Checker, index: int, decimal_comma: bool):
        self.check = check
        self.index = index
        self.decimal_comma = decimal_comma
        self.where = f"rule {index}"

    def fail(self, reason: str) -> MappingError:
        return self.check.fail(self.where, reason)

    def build(self, entry: Any) -> FieldRule:
        if isinstance(entry, dict) and isinstance(entry.get("target"), str):
            self.where = f"rule {self.index} ({entry['target'].strip()})"
        entry = self.check.object(entry, self.where, RULE_KEYS)
        if "target" not in entry:
            raise self.fail("'target' is required")
        target = _target(self.check, entry["target"], self.where, whole_section=False)
        if "column" not in entry:
            raise self.fail("'column' is required")
        column = self.check.text(entry["column"], f"{self.where}: column").strip()
        type_ = self._type(entry)
        if target.is_header and type_ != "string" and "template" not in entry:
            raise self.fail(f"the header field '{target.path[0]}' is text: type string, or a 'template'")
        decimal_comma = self.decimal_comma
        if "decimalComma" in entry:
            decimal_comma = self.check.flag(entry["decimalComma"], f"{self.where}: decimalComma")
        unit_from, unit_to, unit_column = self._units(entry, type_)
        required = False
        if "required" in entry:
            required = self.check.flag(entry["required"], f"{self.where}: required")
        link_label, link_quantity, quantity_column = self._relation(entry, target, type_)
        rule = FieldRule(
            index=self.index,
            target=target,
            column=column,
            type=type_,
            template=_template(self.check, entry["template"], self.where) if "template" in entry else None,
            language=self._language(entry, target, type_),
            unit_from=unit_from,
            unit_to=unit_to,
            unit_column=unit_column,
            split=self._split(entry, target),
            required=required,
            decimal_comma=decimal_comma,
            link_label=link_label,
            link_quantity=link_quantity,
            quantity_column=quantity_column,
        )
        rule = self._with_map(rule, entry)
        return self._with_default(rule, entry)

    def _type(self, entry: dict[str, Any]) -> str:
        type_ = entry.get("type", "string")
        if type_ not in TYPES:
            raise self.fail(f"unknown type {type_!r}; types: {', '.join(TYPES)}")
        return str(type_)

    def _language(self, entry: dict[str, Any], target: Target, type_: str) -> str | None:
        if "language" not in entry:
            return None
        language = self.check.text(entry["language"], f"{self.where}: language").strip()
        if not _LANGUAGE.match(language):
            raise self.fail(f"language {language!r} is not a language tag like en-GB")
        if target.is_header:
            raise self.fail("header fields are not multi-language; 'language' is for content elements")
        if target.relation is not None:
            raise self.fail("relation links are not multi-language; 'language' is for content elements")
        if type_ != "string" or "split" in entry:
            raise self.fail(
                "a 'language' rule writes one text per language: no 'type' other than string, no 'split'"
            )
        return language

    def _relation(
        self, entry: dict[str, Any], target: Target, type_: str
    ) -> tuple[str | None, int | float | None, str | None]:
        """`label`, `quantity` and `quantityColumn`, which only a relation rule may have."""
        given = [key for key in RELATION_KEYS if key in entry]
        if target.relation is None:
            if given:
                raise self.fail(
                    f"{', '.join(repr(key) for key in given)}: only for relation rules (target "
                    f"$.relations.<type>; types: {', '.join(RELATION_TYPES)})"
                )
            return None, None, None
        if type_ != "string" and "template" not in entry:
            raise self.fail("a relation target is text: type string, or a 'template'")
        label = self.check.text(entry["label"], f"{self.where}: label").strip() if "label" in entry else None
        # Without a label every relatedTo link of every row would be refused: say so once, here.
        if target.relation == "relatedTo" and label is None:
            raise self.fail("relatedTo links need a 'label' (what the relation is)")
        quantity = self._link_quantity(entry["quantity"]) if "quantity" in entry else None
        quantity_column = None
        if "quantityColumn" in entry:
            where = f"{self.where}: quantityColumn"
            quantity_column = self.check.text(entry["quantityColumn"], where).strip()
        return label, quantity, quantity_column

    def _link_quantity(self, value: Any) -> int | float:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value <= 0
        ):
            raise self.fail(f"'quantity' must be a positive number (found {value!r})")
        return value

    def _split(self, entry: dict[str, Any], target: Target) -> str | None:
        if "split" not in entry:
            return None
        separator = entry["split"]
        if not isinstance(separator, str) or separator == "":
            raise self.fail("'split' must be the separator text, e.g. '|'")
        if target.is_header and not target.is_list_header:
            raise self.fail(f"the header field '{target.path[0]}' is one value, not a list: no 'split'")
        return separator

    def _unit(self, name: Any, where: str) -> Unit:
        unit = find_unit(self.check.text(name, where))
        if unit is None:
            raise self.check.fail(where, f"unknown unit {name!r}; known: {', '.join(UNIT_SYMBOLS)}")
        return unit

    def _units(self, entry: dict[str, Any], type_: str) -> tuple[Unit | None, Unit | None, str | None]:
        if "unit" not in entry and "unitColumn" not in entry:
            return None, None, None
        if type_ not in NUMERIC_TYPES:
            raise self.fail("unit conversion needs type number or integer")
        spec = self.check.object(entry.get("unit", {}), f"{self.where}: unit", UNIT_KEYS)
        if "to" not in spec:
            raise self.fail("'unit' needs 'to', the unit the passport states")
        unit_to = self._unit(spec["to"], f"{self.where}: unit.to")
        unit_from = self._unit(spec["from"], f"{self.where}: unit.from") if "from" in spec else None
        unit_column = None
        if "unitColumn" in entry:
            unit_column = self.check.text(entry["unitColumn"], f"{self.where}: unitColumn").strip()
        elif unit_from is None:
            raise self.fail("'unit' needs 'from' (or give 'unitColumn', the column naming each row's unit)")
        if unit_from is not None:
            try:
                _unit_ratio(unit_from, unit_to)
            except _ValueProblem as exc:
                raise self.fail(str(exc)) from None
        return unit_from, unit_to, unit_column

    def _final(self, rule: FieldRule, value: Any, where: str) -> Any:
        """A map value or map default as the rule's type, checked now rather than on every row."""
        value = self.check.plain(value, where)
        if value is None:
            raise self.check.fail(where, "must not be null")
        try:
            typed = _typed(value, rule.type, rule.decimal_comma)
            if rule.type in NUMERIC_TYPES:
                typed = _finish_number(typed, rule.type)
        except _ValueProblem as exc:
            raise self.check.fail(where, f"{exc} (the rule's type is {rule.type})") from None
        return typed

    def _with_map(self, rule: FieldRule, entry: dict[str, Any]) -> FieldRule:
        if "map" not in entry:
            if "mapDefault" in entry:
                raise self.fail("'mapDefault' needs 'map'")
            return rule
        table = entry["map"]
        if not isinstance(table, dict) or not table:
            raise self.fail("'map' must be a non-empty object of cell value -> passport value")
        value_map: dict[str, Any] = {}
        for key, value in table.items():
            if isinstance(key, bool) or not isinstance(key, str | int | float):
                raise self.fail(
                    f"map key {key!r} must be text (quote it: YAML reads yes/no/on/off as booleans)"
                )
            folded = _as_text(key).strip().casefold()
            if folded in value_map:
                raise self.fail(f"map key {key!r} is given twice (keys are compared trimmed, ignoring case)")
            value_map[folded] = self._final(rule, value, f"{self.where}: map value of {key!r}")
        map_default = _MISSING
        if "mapDefault" in entry:
            map_default = self._final(rule, entry["mapDefault"], f"{self.where}: mapDefault")
        keys = tuple(_as_text(key) for key in table)
        return _replace(rule, value_map=value_map, map_keys=keys, map_default=map_default)

    def _with_default(self, rule: FieldRule, entry: dict[str, Any]) -> FieldRule:
        if "default" not in entry:
            return rule
        if rule.required:
            raise self.fail("'required' and 'default' exclude each other (a default fills every empty cell)")
        default = self.check.plain(entry["default"], f"{self.where}: default")
        if default is None:
            raise self.fail("'default' must not be null; leave it out to write nothing for an empty cell")
        target = rule.target
        if (rule.split or target.is_list_header or target.relation) and not isinstance(default, list):
            default = [default]
        if target.is_header or target.relation:
            texts = default if isinstance(default, list) else [default]
            if not all(isinstance(item, str) and item.strip() for item in texts):
                whose = f"the header field '{target.path[0]}'" if target.is_header else "a relation rule"
                raise self.fail(f"'default' of {whose} must be non-blank text")
        if rule.language is not None and not isinstance(default, str):
            raise self.fail("'default' of a 'language' rule must be text")
        return _replace(rule, default=default)


def _replace(rule: FieldRule, **changes: Any) -> FieldRule:
    return dataclasses.replace(rule, **changes)


# -- the mapping ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Constant:
    target: Target
    value: Any


@dataclass(frozen=True)
class Mapping:
    """A checked mapping: build documents with `apply` (tabular rows) or `complete` (JSON items)."""

    name: str
    format: str | None
    reader_options: ReaderOptions
    constants: tuple[Constant, ...] = ()
    rules: tuple[FieldRule, ...] = ()
    description: str | None = None
    csv_header_row: int | None = field(default=None, repr=False)
    xlsx_header_row: int | None = field(default=None, repr=False)

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column the rules read (value, unit and quantity columns), in rule order."""
        names: dict[str, None] = {}
        for rule in self.rules:
            names[rule.column] = None
            if rule.unit_column:
                names[rule.unit_column] = None
            if rule.quantity_column:
                names[rule.quantity_column] = None
        return tuple(names)

    def options_for(self, fmt: str) -> ReaderOptions:
        """Reader options for a file of format `fmt` (each tabular format has its own header row)."""
        header_row = {"csv": self.csv_header_row, "xlsx": self.xlsx_header_row}.get(fmt)
        return ReaderOptions(
            delimiter=self.reader_options.delimiter,
            sheet=self.reader_options.sheet,
            header_row=header_row or 1,
        )

    def apply(self, values: dict[str, Any]) -> tuple[dict[str, Any] | None, list[RowError]]:
        """The compressed passport document of one tabular row, or None and every rule's problem."""
        document: dict[str, Any] = {}
        for constant in self.constants:
            _put(document, constant.target.path, copy.deepcopy(constant.value))
        errors: list[RowError] = []
        for rule in self.rules:
            try:
                value = rule.evaluate(values)
            except RowRejected as rejected:
                errors.append(rejected.error)
                continue
            if value is _MISSING:
                continue
            if rule.language is not None:
                _append(document, rule.target.path, {"value": value, "language": rule.language})
            elif rule.target.relation is not None:
                for link in value:
                    _append(document, rule.target.path, link)
            else:
                _put(document, rule.target.path, value)
        if errors:
            return None, errors
        return document, []

    def complete(self, document: dict[str, Any]) -> dict[str, Any]:
        """A copy of a JSON passport with the constants filled in where it has no value of its own."""
        completed = copy.deepcopy(document)
        for constant in self.constants:
            _fill(completed, constant.target.path, constant.value)
        return completed


def _parent(document: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    node = document
    for key in path[:-1]:
        child = node.setdefault(key, {})
        # load_mapping refuses targets that would nest inside another target's value.
        assert isinstance(child, dict), f"{key} is not an object"
        node = child
    return node


def _put(document: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    _parent(document, path)[path[-1]] = value


def _append(document: dict[str, Any], path: tuple[str, ...], item: Any) -> None:
    _parent(document, path).setdefault(path[-1], []).append(item)


def _fill(document: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = document
    for key in path[:-1]:
        if key not in node:
            node[key] = {}
        child = node[key]
        if not isinstance(child, dict):
            return  # the document's own shape wins; passport validation reports it if wrong
        node = child
    if path[-1] not in node:
        node[path[-1]] = copy.deepcopy(value)


# -- loading ----------------------------------------------------------------------------------


def load_mapping(source: str | bytes | dict[str, Any], name: str = "mapping") -> Mapping:
    """Parse (JSON or YAML text, or parsed data) and check a mapping; raises MappingError."""
    check = _Checker(name)
    data = check.object(_parse_source(source, name), "the mapping", TOP_KEYS)
    version = data.get("version", _MISSING)
    if isinstance(version, bool) or version != MAPPING_VERSION:
        raise check.fail("version", f"must be {MAPPING_VERSION} (found {version!r})")
    fmt = data.get("format")
    if fmt is not None and fmt not in FORMATS:
        raise check.fail("format", f"unknown format {fmt!r}; formats: {', '.join(FORMATS)}")
    delimiter, csv_header_row = _csv_options(check, data.get("csv", {}))
    sheet, xlsx_header_row = _xlsx_options(check, data.get("xlsx", {}))
    decimal_comma = check.flag(data["decimalComma"], "decimalComma") if "decimalComma" in data else False
    constants = _constants(check, data.get("constants", {}))
    rules = _rules(check, data.get("fields", []), decimal_comma)
    _check_overlaps(check, constants, rules)
    if fmt in ("csv", "xlsx"):
        header_row = (csv_header_row if fmt == "csv" else xlsx_header_row) or 1
    else:
        header_row = csv_header_row or xlsx_header_row or 1
    description = data.get("description")
    if description is not None:
        description = check.text(description, "description")
    return Mapping(
        name=name,
        format=fmt,
        reader_options=ReaderOptions(delimiter=delimiter, sheet=sheet, header_row=header_row),
        constants=constants,
        rules=rules,
        description=description,
        csv_header_row=csv_header_row,
        xlsx_header_row=xlsx_header_row,
    )


def _csv_options(check: _Checker, value: Any) -> tuple[str | None, int | None]:
    options = check.object(value, "csv", CSV_KEYS)
    delimiter = options.get("delimiter")
    if delimiter is not None and (
        not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '"\r\n'
    ):
        raise check.fail("csv.delimiter", "must be one character (not a quote or a line break)")
    header_row = check.row_number(options["headerRow"], "csv.headerRow") if "headerRow" in options else None
    return delimiter, header_row


def _xlsx_options(check: _Checker, value: Any) -> tuple[str | None, int | None]:
    options = check.object(value, "xlsx", XLSX_KEYS)
    sheet = check.text(options["sheet"], "xlsx.sheet") if "sheet" in options else None
    header_row = check.row_number(options["headerRow"], "xlsx.headerRow") if "headerRow" in options else None
    return sheet, header_row


def _constants(check: _Checker, value: Any) -> tuple[Constant, ...]:
    if not isinstance(value, dict):
        raise check.fail("constants", "must be an object of target: value")
    constants: list[Constant] = []
    for text, raw in value.items():
        where = f"constant {text}"
        target = _target(check, text, where, whole_section=True)
        constant = check.plain(raw, where)
        if constant is None:
            raise check.fail(where, "must not be null")
        _check_constant(check, target, constant, where)
        constants.append(Constant(target, constant))
    return tuple(constants)


def _check_constant(check: _Checker, target: Target, value: Any, where: str) -> None:
    if target.is_list_header:
        if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
            raise check.fail(where, "must be a list of non-blank texts")
    elif target.is_header:
        if not isinstance(value, str) or not value.strip():
            raise check.fail(where, "a header field is non-blank text")
    elif len(target.path) == 1 and not isinstance(value, dict):
        raise check.fail(where, "a content section must be an object")


def _rules(check: _Checker, value: Any, decimal_comma: bool) -> tuple[FieldRule, ...]:
    if not isinstance(value, list):
        raise check.fail("fields", "must be a list of rules")
    return tuple(
        _RuleBuilder(check, index, decimal_comma).build(entry) for index, entry in enumerate(value, start=1)
    )


def _writes(
    constants: tuple[Constant, ...], rules: tuple[FieldRule, ...]
) -> Iterator[tuple[str, Target, str | None, bool]]:
    """Every writer: its label, target, language, and whether it appends relation links."""
    for constant in constants:
        yield f"constant {constant.target.text}", constant.target, None, False
    for rule in rules:
        yield rule.label, rule.target, rule.language, rule.target.relation is not None


def _check_overlaps(check: _Checker, constants: tuple[Constant, ...], rules: tuple[FieldRule, ...]) -> None:
    """Two writers of one element, or one inside another's value, would overwrite each other."""
    writes = list(_writes(constants, rules))
    for position, (label, target, language, links) in enumerate(writes):
        for other_label, other, other_language, other_links in writes[:position]:
            if target.path == other.path:
                if links and other_links:
                    continue  # relation rules of one type append to the same list, in rule order
                if language is None or other_language is None:
                    raise check.fail(label, f"writes the same target as {other_label}")
                if language.casefold() == other_language.casefold():
                    raise check.fail(label, f"writes language {language} of the same target as {other_label}")
            elif (
                target.path[: len(other.path)] == other.path or other.path[: len(target.path)] == target.path
            ):
                raise check.fail(label, f"its target and that of {other_label} contain one another")


@functools.cache
def shipped_mapping(name: str) -> Mapping:
    """A mapping shipped with the service (`shared/onboarding/shipped-mappings/<name>.yaml`)."""
    if name not in SHIPPED_MAPPINGS:
        raise MappingError(f"No shipped mapping {name!r}; available: {', '.join(SHIPPED_MAPPINGS)}")
    path = MAPPINGS_DIR / f"{name}.yaml"
    return load_mapping(path.read_bytes(), name=name)
