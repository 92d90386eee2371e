"""Attribute mappings: loading and checking, every transform, row errors, shipped PIM mappings."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.documents.model import validate_document
from shared.onboarding.file_formats import ReaderOptions, read_records
from shared.onboarding.mappings import (
    MAPPINGS_DIR,
    SHIPPED_MAPPINGS,
    Mapping,
    MappingError,
    RowError,
    find_unit,
    load_mapping,
    shipped_mapping,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"
OWNER = "did:example:operator:acme"

EXAMPLE_YAML = """
version: 1
format: csv
csv: {delimiter: ";"}
xlsx: {sheet: Products, headerRow: 2}
constants:
  granularity: Model
  dppSchemaVersion: "EN18223:v1.0"
  dppStatus: Active
  $.nameplate.ManufacturerName: PierrieCardin
fields:
  - target: digitalProductPassportId
    column: sku
    template: "urn:pierriecardin:dpp:{value}"
  - target: uniqueProductIdentifier
    column: sku
    template: "urn:pierriecardin:product:{value}"
  - target: $.nameplate.ProductName
    column: name-en_GB
    language: en-GB
  - target: $.nameplate.WeightKg
    column: weight
    type: number
    unit: {from: g, to: kg}
  - target: $.certification.labels
    column: labels
    split: "|"
  - target: $.nameplate.Colour
    column: color
    map: {green: Green, blue: Blue}
    required: true
  - target: $.nameplate.ProductName
    column: name-de_DE
    language: de-DE
  - target: dppLifecycle.versionLabel
    column: version
    default: v1
"""

EXAMPLE_ROW = {
    "sku": "pc-polo-green",
    "name-en_GB": "Polo Shirt - Green",
    "name-de_DE": "Poloshirt - Grün",
    "weight": "180",
    "labels": "OEKO-TEX Standard 100 | GOTS Certified ||",
    "color": " GREEN ",
}

EXAMPLE_DOCUMENT = {
    "granularity": "Model",
    "dppSchemaVersion": "EN18223:v1.0",
    "dppStatus": "Active",
    "nameplate": {
        "ManufacturerName": "PierrieCardin",
        "ProductName": [
            {"value": "Polo Shirt - Green", "language": "en-GB"},
            {"value": "Poloshirt - Grün", "language": "de-DE"},
        ],
        "WeightKg": 0.18,
        "Colour": "Green",
    },
    "digitalProductPassportId": "urn:pierriecardin:dpp:pc-polo-green",
    "uniqueProductIdentifier": "urn:pierriecardin:product:pc-polo-green",
    "certification": {"labels": ["OEKO-TEX Standard 100", "GOTS Certified"]},
    "dppLifecycle": {"versionLabel": "v1"},
}


def mapping_with(*rules: dict[str, Any], **top: Any) -> Mapping:
    return load_mapping({"version": 1, "fields": list(rules), **top})


def one(rule: dict[str, Any], values: dict[str, Any], **top: Any) -> Any:
    """The value a single rule writes at its target for `values` (asserting no row errors)."""
    mapping = mapping_with(rule, **top)
    document, errors = mapping.apply(values)
    assert errors == []
    assert document is not None
    node: Any = document
    for key in mapping.rules[0].target.path:
        node = node[key]
    return node


def row_errors(rule: dict[str, Any], values: dict[str, Any], **top: Any) -> list[RowError]:
    document, errors = mapping_with(rule, **top).apply(values)
    assert document is None
    return errors


def mapping_error(data: Any) -> str:
    with pytest.raises(MappingError) as caught:
        load_mapping(data, name="test.yaml")
    return str(caught.value)


# -- the example mapping ----------------------------------------------------------------------


def test_example_mapping_builds_the_document_in_rule_order() -> None:
    document, errors = load_mapping(EXAMPLE_YAML).apply(EXAMPLE_ROW)
    assert errors == []
    assert document == EXAMPLE_DOCUMENT
    # Key order: constants first, then the rules; nested objects where they were first needed.
    assert json.dumps(document) == json.dumps(EXAMPLE_DOCUMENT)
    assert list(document) == [
        "granularity",
        "dppSchemaVersion",
        "dppStatus",
        "nameplate",
        "digitalProductPassportId",
        "uniqueProductIdentifier",
        "certification",
        "dppLifecycle",
    ]
    assert list(document["nameplate"]) == ["ManufacturerName", "ProductName", "WeightKg", "Colour"]


def test_example_document_is_a_valid_passport_with_an_owner() -> None:
    document, _ = load_mapping(EXAMPLE_YAML).apply(EXAMPLE_ROW)
    assert document is not None
    validate_document({**document, "economicOperatorId": OWNER})


def test_json_and_yaml_forms_and_parsed_data_are_the_same_mapping() -> None:
    parsed = yaml.safe_load(EXAMPLE_YAML)
    from_yaml = load_mapping(EXAMPLE_YAML)
    from_json = load_mapping(json.dumps(parsed))
    from_bytes = load_mapping(json.dumps(parsed).encode())
    from_dict = load_mapping(parsed)
    for mapping in (from_json, from_bytes, from_dict):
        assert mapping.apply(EXAMPLE_ROW) == from_yaml.apply(EXAMPLE_ROW)
        assert mapping.reader_options == from_yaml.reader_options


def test_reader_options_come_from_the_mapping() -> None:
    mapping = load_mapping(EXAMPLE_YAML)
    assert mapping.format == "csv"
    assert mapping.reader_options == ReaderOptions(delimiter=";", sheet="Products", header_row=1)
    assert mapping.options_for("xlsx") == ReaderOptions(delimiter=";", sheet="Products", header_row=2)
    assert mapping.options_for("json") == ReaderOptions(delimiter=";", sheet="Products", header_row=1)
    no_format = load_mapping({"version": 1, "xlsx": {"headerRow": 3}})
    assert no_format.format is None
    assert no_format.reader_options == ReaderOptions(header_row=3)


def test_columns_lists_value_and_unit_columns_once() -> None:
    mapping = mapping_with(
        {
            "target": "$.a.weight",
            "column": "weight",
            "type": "number",
            "unitColumn": "weight-unit",
            "unit": {"to": "kg"},
        },
        {"target": "$.a.sku", "column": "sku"},
        {"target": "$.a.again", "column": "weight"},
    )
    assert mapping.columns == ("weight", "weight-unit", "sku")


# -- transforms -------------------------------------------------------------------------------


def test_string_values_are_trimmed_and_cells_shown_as_text() -> None:
    rule = {"target": "$.a.b", "column": "c"}
    assert one(rule, {"c": "  Shirt \n"}) == "Shirt"
    assert one(rule, {"c": 36}) == "36"
    assert one(rule, {"c": 36.0}) == "36"
    assert one(rule, {"c": 0.5}) == "0.5"
    assert one(rule, {"c": True}) == "true"
    assert one(rule, {"c": datetime(2025, 6, 15)}) == "2025-06-15"


def test_template_formats_the_value() -> None:
    assert one({"target": "$.a.b", "column": "c", "template": "urn:x:{value}"}, {"c": "A-1"}) == "urn:x:A-1"
    gtin = {
        "target": "uniqueProductIdentifier",
        "column": "ean",
        "template": "https://id.gs1.org/01/{value:0>14}",
    }
    assert one(gtin, {"ean": "4012345000016"}) == "https://id.gs1.org/01/04012345000016"
    # An XLSX number cell is formatted as the number a person sees, not 4012345000016.0.
    assert one(gtin, {"ean": 4012345000016.0}) == "https://id.gs1.org/01/04012345000016"
    braces = {"target": "$.a.b", "column": "c", "template": "{{{value}}} kg"}
    assert one(braces, {"c": "2"}) == "{2} kg"
    number = {"target": "$.a.b", "column": "c", "type": "number", "template": "{value:.2f} kg"}
    assert one(number, {"c": "2.5"}) == "2.50 kg"


def test_numbers_are_floats_and_decimal_comma_needs_the_setting() -> None:
    rule = {"target": "$.a.b", "column": "c", "type": "number"}
    assert one(rule, {"c": "180"}) == 180.0
    assert type(one(rule, {"c": "180"})) is float
    assert one(rule, {"c": " -1.5e2 "}) == -150.0
    assert one(rule, {"c": ".5"}) == 0.5
    assert one(rule, {"c": 7}) == 7.0
    assert one(rule, {"c": "1,5"}, decimalComma=True) == 1.5
    assert one({**rule, "decimalComma": True}, {"c": "1,5"}) == 1.5
    assert row_errors(rule, {"c": "1,5"}) == [
        RowError("c", "'1,5' is not a number (decimal comma? set decimalComma: true)")
    ]
    assert row_errors(rule, {"c": "1.5"}, decimalComma=True) == [
        RowError("c", "'1.5' is not a number: with decimalComma the decimal separator is ','")
    ]


@pytest.mark.parametrize("cell", ["abc", "1.2.3", "nan", "inf", "1e9999", "0x10", "", "12 kg", True])
def test_not_a_number_is_a_row_error(cell: Any) -> None:
    errors = row_errors({"target": "$.a.b", "column": "c", "type": "number", "required": True}, {"c": cell})
    assert len(errors) == 1
    assert errors[0].column == "c"
    expected = "a value is required but the cell is empty" if cell == "" else "is not a number"
    assert expected in errors[0].reason


def test_integers() -> None:
    rule = {"target": "$.a.b", "column": "c", "type": "integer"}
    assert one(rule, {"c": "30"}) == 30
    assert type(one(rule, {"c": "30"})) is int
    assert one(rule, {"c": "30.0"}) == 30
    assert one(rule, {"c": 40.0}) == 40
    assert row_errors(rule, {"c": "30.5"}) == [RowError("c", "30.5 is not a whole number")]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("true", True),
        ("YES", True),
        ("y", True),
        ("1", True),
        (" False ", False),
        ("no", False),
        ("N", False),
        ("0", False),
        (True, True),
        (0, False),
        (1.0, True),
    ],
)
def test_booleans(cell: Any, expected: bool) -> None:
    assert one({"target": "$.a.b", "column": "c", "type": "boolean"}, {"c": cell}) is expected


def test_not_a_boolean_is_a_row_error() -> None:
    assert row_errors({"target": "$.a.b", "column": "c", "type": "boolean"}, {"c": "maybe"}) == [
        RowError("c", "'maybe' is not a boolean (true/false, yes/no, y/n, 1/0)")
    ]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2025-06-15", "2025-06-15"),
        ("20250615", "2025-06-15"),
        ("2025-06-15T23:30:00+02:00", "2025-06-15"),
        (datetime(2025, 6, 15), "2025-06-15"),
        (datetime(2025, 6, 15, 18, 0), "2025-06-15"),
    ],
)
def test_dates(cell: Any, expected: str) -> None:
    assert one({"target": "$.a.b", "column": "c", "type": "date"}, {"c": cell}) == expected


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2025-06-15T10:00:00Z", "2025-06-15T10:00:00.000Z"),
        ("2025-06-15T12:00:00+02:00", "2025-06-15T10:00:00.000Z"),
        ("2025-06-15 10:00:00.250", "2025-06-15T10:00:00.250Z"),
        ("2025-06-15", "2025-06-15T00:00:00.000Z"),
        (datetime(2025, 6, 15, 10, 0), "2025-06-15T10:00:00.000Z"),
    ],
)
def test_datetimes_are_utc(cell: Any, expected: str) -> None:
    assert one({"target": "$.a.b", "column": "c", "type": "datetime"}, {"c": cell}) == expected


def test_bad_dates_are_row_errors() -> None:
    assert row_errors({"target": "$.a.b", "column": "c", "type": "date"}, {"c": "15.06.2025"}) == [
        RowError("c", "'15.06.2025' is not an ISO 8601 date (YYYY-MM-DD)")
    ]
    assert row_errors({"target": "$.a.b", "column": "c", "type": "date"}, {"c": 45823}) == [
        RowError("c", "'45823' is not an ISO 8601 date (YYYY-MM-DD)")
    ]
    assert row_errors({"target": "$.a.b", "column": "c", "type": "datetime"}, {"c": "noon"}) == [
        RowError("c", "'noon' is not an ISO 8601 date and time")
    ]


@pytest.mark.parametrize(
    ("value", "source", "target", "expected"),
    [
        ("180", "g", "kg", 0.18),
        ("0.1", "kg", "g", 100.0),
        ("500", "mg", "kg", 0.0005),
        ("1.2", "t", "kg", 1200.0),
        ("250", "mm", "cm", 25.0),
        ("1.5", "km", "m", 1500.0),
        ("75", "cl", "l", 0.75),
        ("330", "ml", "l", 0.33),
        ("2", "m3", "l", 2000.0),
        ("1", "kWh", "MJ", 3.6),
        ("74", "Wh", "kJ", 266.4),
        ("2.5", "MWh", "kWh", 2500.0),
        ("3600", "J", "Wh", 1.0),
        ("2300", "gCO2e", "kgCO2e", 2.3),
        ("16", "oz", "g", 453.59237),
    ],
)
def test_fixed_unit_conversions(value: str, source: str, target: str, expected: float) -> None:
    rule = {"target": "$.a.b", "column": "c", "type": "number", "unit": {"from": source, "to": target}}
    assert one(rule, {"c": value}) == expected


def test_integer_after_unit_conversion_must_be_whole() -> None:
    rule = {"target": "$.a.b", "column": "c", "type": "integer", "unit": {"from": "kg", "to": "g"}}
    assert one(rule, {"c": "1.5"}) == 1500
    rule = {"target": "$.a.b", "column": "c", "type": "integer", "unit": {"from": "g", "to": "kg"}}
    assert row_errors(rule, {"c": "1500"}) == [RowError("c", "1.5 is not a whole number")]


@pytest.mark.parametrize(
    ("amount", "unit", "expected"),
    [
        ("180.0000", "GRAM", 0.18),
        ("0.5200", "KILOGRAM", 0.52),
        ("250000", "MILLIGRAM", 0.25),
        ("1", "TON", 1000.0),
        ("1", "POUND", 0.45359237),
        ("180", "g", 0.18),
        ("180", " Grams ", 0.18),
        ("2", "kg", 2.0),
        ("2", "KG", 2.0),
    ],
)
def test_unit_column_names_each_rows_unit(amount: str, unit: str, expected: float) -> None:
    rule = {
        "target": "$.a.b",
        "column": "weight",
        "type": "number",
        "unitColumn": "weight-unit",
        "unit": {"to": "kg"},
    }
    assert one(rule, {"weight": amount, "weight-unit": unit}) == expected


def test_akeneo_unit_codes_of_every_dimension() -> None:
    cases = [
        ("MILLIMETER", "m", 0.001),
        ("CENTIMETER", "m", 0.01),
        ("METER", "m", 1.0),
        ("KILOMETER", "m", 1000.0),
        ("MILLILITER", "l", 0.001),
        ("CENTILITER", "l", 0.01),
        ("LITER", "l", 1.0),
        ("CUBIC_METER", "l", 1000.0),
        ("JOULE", "J", 1.0),
        ("KILOJOULE", "J", 1000.0),
        ("MEGAJOULE", "J", 1_000_000.0),
        ("WATT_HOUR", "J", 3600.0),
        ("KILOWATT_HOUR", "J", 3_600_000.0),
        ("MEGAWATT_HOUR", "J", 3_600_000_000.0),
    ]
    for code, target, expected in cases:
        rule = {"target": "$.a.b", "column": "v", "type": "number", "unitColumn": "u", "unit": {"to": target}}
        assert one(rule, {"v": "1", "u": code}) == expected, code


def test_case_sensitive_units_are_not_guessed() -> None:
    assert find_unit("MJ") is not None
    assert find_unit("MJ") == find_unit("megajoule")
    # mJ would be millijoule: not read as megajoule just because case is ignored elsewhere.
    assert find_unit("mJ") is None
    assert find_unit("mwh") is None
    assert find_unit("kwh") == find_unit("kWh")


def test_unit_column_problems_are_row_errors_naming_the_unit_column() -> None:
    rule = {
        "target": "$.a.b",
        "column": "weight",
        "type": "number",
        "unitColumn": "weight-unit",
        "unit": {"to": "kg"},
    }
    assert row_errors(rule, {"weight": "1", "weight-unit": "LITER"}) == [
        RowError("weight-unit", "cannot convert l (volume) to kg (mass)")
    ]
    [unknown] = row_errors(rule, {"weight": "1", "weight-unit": "PINT"})
    assert unknown.column == "weight-unit"
    assert unknown.reason.startswith("unknown unit 'PINT'; known: mg, g, kg, t")
    assert row_errors(rule, {"weight": "1"}) == [
        RowError("weight-unit", "the unit of column 'weight' is missing")
    ]
    # No amount, no unit needed.
    assert mapping_with(rule).apply({"weight-unit": "LITER"}) == ({}, [])


def test_unit_column_falls_back_to_unit_from() -> None:
    rule = {
        "target": "$.a.b",
        "column": "weight",
        "type": "number",
        "unitColumn": "weight-unit",
        "unit": {"from": "g", "to": "kg"},
    }
    assert one(rule, {"weight": "250"}) == 0.25
    assert one(rule, {"weight": "2", "weight-unit": "KILOGRAM"}) == 2.0


def test_split_trims_drops_empty_items_and_types_each() -> None:
    rule = {"target": "$.a.b", "column": "c", "split": "|"}
    assert one(rule, {"c": " a | b ||c| "}) == ["a", "b", "c"]
    assert one(rule, {"c": "one"}) == ["one"]
    numbers = {"target": "$.a.b", "column": "c", "split": ";", "type": "integer"}
    assert one(numbers, {"c": "95; 5"}) == [95, 5]
    assert one(numbers, {"c": 7}) == [7]  # an XLSX number cell is one item
    assert row_errors(numbers, {"c": "95;x"}) == [RowError("c", "item 2: 'x' is not a number")]
    # Only separators: the cell counts as empty.
    assert mapping_with(rule).apply({"c": " | | "}) == ({}, [])


def test_split_with_map() -> None:
    rule = {"target": "$.a.b", "column": "c", "split": ",", "map": {"gots": "GOTS", "grs": "GRS"}}
    assert one(rule, {"c": "grs, GOTS"}) == ["GRS", "GOTS"]
    assert row_errors(rule, {"c": "grs,fsc"}) == [RowError("c", "item 2: 'fsc' is not one of: gots, grs")]


def test_map_is_trimmed_case_insensitive_and_typed() -> None:
    rule = {"target": "$.a.b", "column": "c", "map": {"Green": "Green", "blue ": "Blue", "36": "EU 36"}}
    assert one(rule, {"c": "  GREEN"}) == "Green"
    assert one(rule, {"c": "BLUE"}) == "Blue"
    assert one(rule, {"c": 36}) == "EU 36"
    sizes = {"target": "$.a.b", "column": "c", "type": "integer", "map": {"S": "1", "M": 2}}
    assert one(sizes, {"c": "s"}) == 1
    assert one(sizes, {"c": "m"}) == 2


def test_map_miss_lists_allowed_values_unless_map_default() -> None:
    rule = {"target": "$.a.b", "column": "color", "map": {"green": "Green", "blue": "Blue"}}
    assert row_errors(rule, {"color": "red"}) == [RowError("color", "'red' is not one of: green, blue")]
    assert one({**rule, "mapDefault": "Other"}, {"color": "red"}) == "Other"
    many = {"target": "$.a.b", "column": "c", "map": {f"k{n}": n for n in range(25)}}
    [error] = row_errors(many, {"c": "x"})
    assert error.reason.endswith("k19, ... (25 in all)")


def test_language_rules_accumulate_in_rule_order() -> None:
    mapping = mapping_with(
        {"target": "$.care.instructions", "column": "care-en", "language": "en"},
        {"target": "$.care.temperature", "column": "temp", "type": "integer"},
        {"target": "care.instructions", "column": "care-de", "language": "de"},
        {"target": "$['care']['instructions']", "column": "care-fr", "language": "fr"},
    )
    document, errors = mapping.apply({"care-en": "Wash cold", "care-fr": "Laver à froid", "temp": "30"})
    assert errors == []
    assert document == {
        "care": {
            "instructions": [
                {"value": "Wash cold", "language": "en"},
                {"value": "Laver à froid", "language": "fr"},
            ],
            "temperature": 30,
        }
    }
    # The first language with a value creates the list, so key order follows what is present.
    document, _ = mapping.apply({"care-de": "Kalt waschen", "temp": "30"})
    assert json.dumps(document) == json.dumps(
        {"care": {"temperature": 30, "instructions": [{"value": "Kalt waschen", "language": "de"}]}}
    )


def test_default_fills_empty_cells_as_written() -> None:
    rule = {"target": "dppLifecycle.versionLabel", "column": "version", "default": "v1"}
    assert one(rule, {}) == "v1"
    assert one(rule, {"version": "  "}) == "v1"
    assert one(rule, {"version": "v2.0"}) == "v2.0"
    number = {
        "target": "$.a.b",
        "column": "c",
        "type": "number",
        "unit": {"from": "g", "to": "kg"},
        "default": 0,
    }
    assert one(number, {}) == 0  # written as is: no unit conversion, no template
    split = {"target": "$.a.b", "column": "c", "split": ",", "default": "none"}
    assert one(split, {}) == ["none"]
    language = {"target": "$.a.b", "column": "c", "language": "en", "default": "n/a"}
    assert one(language, {}) == [{"value": "n/a", "language": "en"}]


def test_defaults_from_yaml_dates_become_iso_text() -> None:
    mapping = load_mapping(
        "version: 1\nfields:\n  - {target: dppLifecycle.validFrom, column: v, default: 2025-01-01}\n"
    )
    assert mapping.apply({}) == ({"dppLifecycle": {"validFrom": "2025-01-01"}}, [])


def test_empty_optional_cells_write_nothing() -> None:
    mapping = mapping_with(
        {"target": "$.a.b", "column": "c", "type": "number"}, {"target": "$.a.d", "column": "d"}
    )
    assert mapping.apply({}) == ({}, [])
    assert mapping.apply({"c": "", "d": "  "}) == ({}, [])
    assert mapping.apply({"d": "x"}) == ({"a": {"d": "x"}}, [])


def test_required_empty_cell_is_a_row_error() -> None:
    rule = {"target": "$.a.b", "column": "ean", "required": True}
    assert row_errors(rule, {}) == [RowError("ean", "a value is required but the cell is empty")]
    assert row_errors(rule, {"ean": " "}) == [RowError("ean", "a value is required but the cell is empty")]


def test_template_that_cannot_format_is_a_row_error() -> None:
    rule = {"target": "$.a.b", "column": "c", "template": "{value:.2f}"}
    [error] = row_errors(rule, {"c": "abc"})
    assert error.column == "c"
    assert error.reason.startswith("the template cannot format 'abc'")


def test_every_failing_rule_of_a_row_is_reported() -> None:
    document, errors = load_mapping(EXAMPLE_YAML).apply({"sku": "x", "weight": "heavy", "color": "red"})
    assert document is None
    assert errors == [
        RowError("weight", "'heavy' is not a number"),
        RowError("color", "'red' is not one of: green, blue"),
    ]
    _, errors = load_mapping(EXAMPLE_YAML).apply({"sku": "x"})
    assert errors == [RowError("color", "a value is required but the cell is empty")]


def test_content_specification_ids_is_a_list() -> None:
    rule = {"target": "contentSpecificationIds", "column": "specs"}
    assert one(rule, {"specs": "https://spec/1"}) == ["https://spec/1"]
    assert one({**rule, "split": " "}, {"specs": "https://spec/1 https://spec/2"}) == [
        "https://spec/1",
        "https://spec/2",
    ]
    constant = load_mapping({"version": 1, "constants": {"contentSpecificationIds": ["https://spec/1"]}})
    assert constant.apply({}) == ({"contentSpecificationIds": ["https://spec/1"]}, [])


def test_constants_are_copied_into_each_document() -> None:
    mapping = load_mapping(
        {
            "version": 1,
            "constants": {"$.certification": {"labels": ["GOTS"]}},
            "fields": [{"target": "$.a.b", "column": "c"}],
        }
    )
    first, _ = mapping.apply({"c": "1"})
    assert first is not None
    first["certification"]["labels"].append("changed")
    second, _ = mapping.apply({"c": "2"})
    assert second == {"certification": {"labels": ["GOTS"]}, "a": {"b": "2"}}


# -- relations --------------------------------------------------------------------------------


def test_parent_gtin_column_becomes_an_is_part_of_digital_link() -> None:
    rule = {"target": "$.relations.isPartOf", "column": "parent", "template": "https://id.gs1.org/01/{value}"}
    assert one(rule, {"parent": " 09506000134369 "}) == [{"target": "https://id.gs1.org/01/09506000134369"}]
    # An XLSX number cell has lost its leading zero: a format spec puts it back.
    padded = {**rule, "template": "https://id.gs1.org/01/{value:0>14}"}
    assert one(padded, {"parent": 9506000134369.0}) == [{"target": "https://id.gs1.org/01/09506000134369"}]


def test_split_list_of_part_urls_becomes_several_has_part_links() -> None:
    rule = {"target": "$.relations.hasPart", "column": "parts", "split": "|"}
    assert one(rule, {"parts": "https://a.example/p/1 | https://a.example/p/2||https://b.example/3"}) == [
        {"target": "https://a.example/p/1"},
        {"target": "https://a.example/p/2"},
        {"target": "https://b.example/3"},
    ]
    mapped = {**rule, "map": {"cell": "https://a.example/cell", "case": "https://a.example/case"}}
    assert one(mapped, {"parts": "Cell|case"}) == [
        {"target": "https://a.example/cell"},
        {"target": "https://a.example/case"},
    ]


def test_label_and_quantity_constants_go_into_every_link() -> None:
    rule = {
        "target": "$.relations.hasPart",
        "column": "cells",
        "split": ",",
        "label": " cell module ",
        "quantity": 4,
    }
    assert one(rule, {"cells": "urn:acme:cell:1,urn:acme:cell:2"}) == [
        {"target": "urn:acme:cell:1", "quantity": 4, "label": "cell module"},
        {"target": "urn:acme:cell:2", "quantity": 4, "label": "cell module"},
    ]
    related = {"target": "$.relations.relatedTo", "column": "manual", "label": "user manual", "quantity": 0.5}
    assert one(related, {"manual": "https://docs.example/m"}) == [
        {"target": "https://docs.example/m", "quantity": 0.5, "label": "user manual"}
    ]


def test_quantity_column_per_row_falls_back_to_the_constant() -> None:
    rule = {
        "target": "$.relations.hasPart",
        "column": "part",
        "quantityColumn": "count",
        "quantity": 1,
        "decimalComma": True,
    }
    assert one(rule, {"part": "urn:acme:p", "count": "12"}) == [{"target": "urn:acme:p", "quantity": 12}]
    assert one(rule, {"part": "urn:acme:p", "count": "2,5"}) == [{"target": "urn:acme:p", "quantity": 2.5}]
    assert one(rule, {"part": "urn:acme:p", "count": 3.0}) == [{"target": "urn:acme:p", "quantity": 3}]
    assert one(rule, {"part": "urn:acme:p", "count": " "}) == [{"target": "urn:acme:p", "quantity": 1}]
    without = {"target": "$.relations.hasPart", "column": "part", "quantityColumn": "count"}
    assert one(without, {"part": "urn:acme:p"}) == [{"target": "urn:acme:p"}]
    assert mapping_with(rule).columns == ("part", "count")


def test_a_bad_quantity_cell_is_a_row_error_naming_the_quantity_column() -> None:
    rule = {"target": "$.relations.hasPart", "column": "part", "quantityColumn": "count"}
    for cell, reason in (
        ("four", "quantity: 'four' is not a number"),
        ("0", "quantity: '0' is not a positive number"),
        ("-2", "quantity: '-2' is not a positive number"),
        (True, "quantity: 'true' is not a number"),
    ):
        assert row_errors(rule, {"part": "urn:acme:p", "count": cell}) == [RowError("count", reason)], cell
    # No link, no quantity read.
    assert mapping_with(rule).apply({"count": "four"}) == ({}, [])


def test_rules_of_one_relation_type_append_in_rule_order() -> None:
    mapping = mapping_with(
        {"target": "$.relations.hasPart", "column": "battery", "label": "battery", "quantity": 1},
        {"target": "$.relations.isPartOf", "column": "parent"},
        {"target": "relations.hasPart", "column": "cells", "split": "|", "label": "cell"},
    )
    document, errors = mapping.apply({"battery": "urn:acme:b", "cells": "urn:acme:c1|urn:acme:c2"})
    assert errors == []
    assert document == {
        "relations": {
            "hasPart": [
                {"target": "urn:acme:b", "quantity": 1, "label": "battery"},
                {"target": "urn:acme:c1", "label": "cell"},
                {"target": "urn:acme:c2", "label": "cell"},
            ]
        }
    }
    # The first rule with a value creates the list.
    document, _ = mapping.apply({"parent": "urn:acme:pack", "cells": "urn:acme:c1"})
    assert document == {
        "relations": {
            "isPartOf": [{"target": "urn:acme:pack"}],
            "hasPart": [{"target": "urn:acme:c1", "label": "cell"}],
        }
    }


def test_empty_relation_cells_make_no_link() -> None:
    mapping = mapping_with(
        {"target": "$.relations.hasPart", "column": "parts", "split": "|", "label": "part", "quantity": 2},
        {"target": "$.relations.isPartOf", "column": "parent", "template": "https://id.gs1.org/01/{value}"},
    )
    assert mapping.apply({}) == ({}, [])
    assert mapping.apply({"parts": " | ", "parent": "  "}) == ({}, [])
    assert mapping.apply({"parts": "urn:acme:x|"}) == (
        {"relations": {"hasPart": [{"target": "urn:acme:x", "quantity": 2, "label": "part"}]}},
        [],
    )


def test_relation_required_and_default() -> None:
    rule = {"target": "$.relations.isPartOf", "column": "parent", "required": True}
    assert row_errors(rule, {}) == [RowError("parent", "a value is required but the cell is empty")]
    default = {
        "target": "$.relations.isPartOf",
        "column": "parent",
        "default": "urn:acme:range",
        "label": "range",
    }
    assert one(default, {}) == [{"target": "urn:acme:range", "label": "range"}]


def test_relation_links_make_a_valid_passport() -> None:
    rules = [
        {"target": "digitalProductPassportId", "column": "sku", "template": "urn:acme:dpp:{value}"},
        {"target": "uniqueProductIdentifier", "column": "sku", "template": "urn:acme:product:{value}"},
        {"target": "$.relations.isPartOf", "column": "parent", "template": "https://id.gs1.org/01/{value}"},
        {"target": "$.relations.hasPart", "column": "parts", "split": "|", "label": "cell", "quantity": 4},
    ]
    mapping = mapping_with(
        *rules, constants={"granularity": "Model", "dppSchemaVersion": "EN18223:v1.0", "dppStatus": "Active"}
    )
    document, errors = mapping.apply(
        {"sku": "pack-1", "parent": "09506000134369", "parts": "https://a.example/c1|urn:acme:product:c2"}
    )
    assert errors == []
    assert document is not None
    validate_document({**document, "economicOperatorId": OWNER})


def test_relation_targets_are_left_to_passport_validation() -> None:
    # The mapping writes what the cell says; validate_document refuses it at import.
    rule = {"target": "$.relations.isPartOf", "column": "parent", "template": "https://id.gs1.org/01/{value}"}
    assert one(rule, {"parent": "123"}) == [{"target": "https://id.gs1.org/01/123"}]


# -- complete (JSON records) ------------------------------------------------------------------


def test_complete_fills_constants_where_absent() -> None:
    mapping = load_mapping(
        {
            "version": 1,
            "constants": {
                "granularity": "Model",
                "dppStatus": "Active",
                "$.nameplate.ManufacturerName": "PierrieCardin",
                "$.composition.origin.country": "PT",
            },
        }
    )
    given = {
        "dppStatus": "Draft",
        "nameplate": {"ProductName": "Polo"},
        "composition": {"origin": "Portugal"},
    }
    completed = mapping.complete(given)
    assert completed == {
        "dppStatus": "Draft",
        "nameplate": {"ProductName": "Polo", "ManufacturerName": "PierrieCardin"},
        # The document's own value wins even where the constant would need an object.
        "composition": {"origin": "Portugal"},
        "granularity": "Model",
    }
    assert given == {
        "dppStatus": "Draft",
        "nameplate": {"ProductName": "Polo"},
        "composition": {"origin": "Portugal"},
    }
    assert mapping.complete({}) == {
        "granularity": "Model",
        "dppStatus": "Active",
        "nameplate": {"ManufacturerName": "PierrieCardin"},
        "composition": {"origin": {"country": "PT"}},
    }


# -- mapping errors ---------------------------------------------------------------------------

RULE = {"target": "$.a.b", "column": "c"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("", "the mapping is empty"),
        ("version: 1\nfields: [\n", "not valid YAML"),
        ('{"version": 1,}', "not valid JSON"),
        ('{"version": 1, "version": 1}', "not valid JSON: duplicate key 'version'"),
        ('{"version": 1, "constants": {"$.a.b": NaN}}', "NaN is not a JSON number"),
        ("version: 1\nversion: 1\n", "duplicate key 'version'"),
        ("version: 1\nfields:\n  - target: $.a.b\n    column: c\n    column: d\n", "duplicate key 'column'"),
        ("version: 1\nconstants:\n  $.a.b: &x [1]\n  $.a.c: *x\n", "aliases (*name) are not supported"),
        ("- 1\n- 2\n", "the mapping: must be an object"),
        (b"\xff\xfe", "not UTF-8 text"),
        (b" " * (1024 * 1024 + 1), "at most 1048576 bytes"),
        ({"fields": []}, "version: must be 1 (found <missing>)"),
        ({"version": 2}, "version: must be 1 (found 2)"),
        ({"version": True}, "version: must be 1 (found True)"),
        ({"version": 1, "rules": []}, "unknown keys rules; allowed: version, description"),
        ({"version": 1, "format": "xml"}, "format: unknown format 'xml'"),
        ({"version": 1, "csv": {"delimiter": ";;"}}, "csv.delimiter: must be one character"),
        ({"version": 1, "csv": {"delimiter": '"'}}, "csv.delimiter: must be one character"),
        ({"version": 1, "csv": {"quote": "'"}}, "csv: unknown keys quote"),
        ({"version": 1, "xlsx": {"headerRow": 0}}, "xlsx.headerRow: must be a row number"),
        ({"version": 1, "xlsx": {"sheet": ""}}, "xlsx.sheet: must be non-blank text"),
        ({"version": 1, "decimalComma": "yes"}, "decimalComma: must be true or false"),
        ({"version": 1, "fields": {}}, "fields: must be a list of rules"),
        ({"version": 1, "constants": []}, "constants: must be an object"),
    ],
)
def test_mapping_file_errors(data: Any, message: str) -> None:
    assert message in mapping_error(data)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("not an object", "rule 2: must be an object"),
        ({"target": "$.a.b", "column": "c", "colum": "d"}, "rule 2 ($.a.b): unknown keys colum"),
        ({"column": "c"}, "rule 2: 'target' is required"),
        ({"target": "$.a.b"}, "rule 2 ($.a.b): 'column' is required"),
        ({"target": "$.a.b", "column": " "}, "rule 2 ($.a.b): column: must be non-blank text"),
        ({"target": "$.a[0].b", "column": "c"}, "must name object members only, no list indexes"),
        ({"target": "$.a..b", "column": "c"}, "Malformed element path"),
        ({"target": "nameplate", "column": "c"}, "is a content section (an object); name a member of it"),
        ({"target": "lastUpdate", "column": "c"}, "'lastUpdate' is written by the server"),
        ({"target": "contentHash", "column": "c"}, "'contentHash' is written by the server"),
        ({"target": "signature", "column": "c"}, "'signature' is written by the server"),
        ({"target": "$.dppArtifacts.repair", "column": "c"}, "'dppArtifacts' is written by the server"),
        ({"target": "$.elements.x", "column": "c"}, "'elements' is the read-only expanded representation"),
        ({"target": "$.granularity.x", "column": "c"}, "the header field 'granularity' has no members"),
        ({"target": "dppLifecycle.status", "column": "c"}, "may only set dppLifecycle.versionLabel"),
        ({**RULE, "type": "float"}, "unknown type 'float'; types: string, number"),
        (
            {"target": "granularity", "column": "c", "type": "number"},
            "the header field 'granularity' is text",
        ),
        ({**RULE, "unit": {"from": "g", "to": "kg"}}, "unit conversion needs type number or integer"),
        ({**RULE, "type": "number", "unit": {"from": "g", "to": "stone"}}, "unknown unit 'stone'"),
        (
            {**RULE, "type": "number", "unit": {"from": "g", "to": "l"}},
            "cannot convert g (mass) to l (volume)",
        ),
        (
            {**RULE, "type": "number", "unit": {"from": "kWh", "to": "kg"}},
            "cannot convert kWh (energy) to kg",
        ),
        ({**RULE, "type": "number", "unit": {"to": "kg"}}, "'unit' needs 'from'"),
        ({**RULE, "type": "number", "unit": {"from": "g"}}, "'unit' needs 'to'"),
        ({**RULE, "type": "number", "unitColumn": "u"}, "'unit' needs 'to'"),
        ({**RULE, "type": "number", "unit": "kg"}, "unit: must be an object"),
        ({**RULE, "type": "number", "unit": {"to": "kg", "via": "g"}}, "unknown keys via"),
        ({**RULE, "language": "english please"}, "is not a language tag like en-GB"),
        ({**RULE, "language": False}, "quote it: YAML reads yes/no/on/off as booleans"),
        ({"target": "dppStatus", "column": "c", "language": "en"}, "header fields are not multi-language"),
        ({**RULE, "language": "en", "type": "number"}, "writes one text per language"),
        ({**RULE, "language": "en", "split": ","}, "writes one text per language"),
        ({"target": "facilityId", "column": "c", "split": ","}, "the header field 'facilityId' is one value"),
        ({**RULE, "split": ""}, "'split' must be the separator text"),
        ({**RULE, "template": "urn:x"}, "template 'urn:x' must contain {value}"),
        ({**RULE, "template": "{sku}"}, "the only placeholder is {value}"),
        ({**RULE, "template": "{value.__class__}"}, "the only placeholder is {value}"),
        ({**RULE, "template": "{value!r}"}, "the only placeholder is {value}"),
        ({**RULE, "template": "{value"}, "template '{value'"),
        ({**RULE, "map": {}}, "'map' must be a non-empty object"),
        ({**RULE, "map": {True: "Yes"}}, "map key True must be text"),
        ({**RULE, "map": {"Green": "G", " green": "g"}}, "map key ' green' is given twice"),
        ({**RULE, "type": "number", "map": {"s": "small"}}, "map value of 's': 'small' is not a number"),
        ({**RULE, "map": {"s": None}}, "map value of 's': must not be null"),
        ({**RULE, "type": "integer", "map": {"s": 1}, "mapDefault": "x"}, "mapDefault: 'x' is not a number"),
        ({**RULE, "mapDefault": "x"}, "'mapDefault' needs 'map'"),
        ({**RULE, "required": "yes"}, "required: must be true or false"),
        ({**RULE, "required": True, "default": "x"}, "'required' and 'default' exclude each other"),
        ({**RULE, "default": None}, "'default' must not be null"),
        ({"target": "dppStatus", "column": "c", "default": 1}, "'default' of the header field 'dppStatus'"),
        ({**RULE, "language": "en", "default": 1}, "'default' of a 'language' rule must be text"),
        ({**RULE, "decimalComma": 1}, "decimalComma: must be true or false"),
        (
            {"target": "$.relations.containsPart", "column": "c"},
            "target '$.relations.containsPart': relations are set per type, $.relations.<type>; "
            "types: hasPart, isPartOf, substitutes, isSubstitutedBy, isSuccessorOf, isPredecessorOf, "
            "relatedTo",
        ),
        ({"target": "$.relations.hasPart.target", "column": "c"}, "relations are set per type"),
        ({"target": "relations", "column": "c"}, "is a content section (an object)"),
        ({**RULE, "label": "cell"}, "'label': only for relation rules (target $.relations.<type>;"),
        ({**RULE, "quantity": 2, "quantityColumn": "n"}, "'quantity', 'quantityColumn': only for relation"),
        ({"target": "$.relations.relatedTo", "column": "c"}, "relatedTo links need a 'label'"),
        ({"target": "$.relations.hasPart", "column": "c", "label": " "}, "label: must be non-blank text"),
        (
            {"target": "$.relations.hasPart", "column": "c", "quantity": 0},
            "'quantity' must be a positive number",
        ),
        ({"target": "$.relations.hasPart", "column": "c", "quantity": "4"}, "'quantity' must be a positive"),
        ({"target": "$.relations.hasPart", "column": "c", "quantity": True}, "'quantity' must be a positive"),
        ({"target": "$.relations.hasPart", "column": "c", "quantityColumn": ""}, "quantityColumn: must be"),
        ({"target": "$.relations.hasPart", "column": "c", "type": "integer"}, "a relation target is text"),
        ({"target": "$.relations.hasPart", "column": "c", "language": "en"}, "relation links are not multi"),
        ({"target": "$.relations.hasPart", "column": "c", "default": 1}, "'default' of a relation rule"),
    ],
)
def test_rule_errors_name_the_rule(rule: Any, message: str) -> None:
    text = mapping_error({"version": 1, "fields": [{"target": "$.x.y", "column": "y"}, rule]})
    assert text.startswith("test.yaml: rule 2")
    assert message in text


@pytest.mark.parametrize(
    ("constants", "message"),
    [
        (
            {"lastUpdate": "2025-01-01T00:00:00Z"},
            "constant lastUpdate: target 'lastUpdate': 'lastUpdate' is written by the server",
        ),
        ({"granularity": 1}, "constant granularity: a header field is non-blank text"),
        ({"dppStatus": " "}, "constant dppStatus: a header field is non-blank text"),
        ({"contentSpecificationIds": "https://spec/1"}, "must be a list of non-blank texts"),
        ({"nameplate": "Polo"}, "constant nameplate: a content section must be an object"),
        ({"$.a.b": None}, "constant $.a.b: must not be null"),
        ({"$.a.b": {1: "x"}}, "object keys must be text"),
        ({"$.a.b": float("inf")}, "must be a finite number"),
        ({"$.a.b": {1, 2}}, "set is not a JSON value"),
    ],
)
def test_constant_errors(constants: dict[Any, Any], message: str) -> None:
    assert message in mapping_error({"version": 1, "constants": constants})


def test_two_rules_writing_one_target_are_refused() -> None:
    text = mapping_error({"version": 1, "fields": [RULE, {"target": "a.b", "column": "d"}]})
    assert text == "test.yaml: rule 2 (a.b): writes the same target as rule 1 ($.a.b)"
    text = mapping_error(
        {"version": 1, "fields": [{**RULE, "language": "en"}, {"target": "$.a.b", "column": "d"}]}
    )
    assert "rule 2 ($.a.b): writes the same target as rule 1 ($.a.b)" in text
    text = mapping_error(
        {
            "version": 1,
            "fields": [{**RULE, "language": "en"}, {"target": "$.a.b", "column": "d", "language": "EN"}],
        }
    )
    assert "rule 2 ($.a.b): writes language EN of the same target as rule 1 ($.a.b)" in text


def test_a_target_inside_another_targets_value_is_refused() -> None:
    text = mapping_error({"version": 1, "fields": [RULE, {"target": "$.a.b.c", "column": "d"}]})
    assert "rule 2 ($.a.b.c): its target and that of rule 1 ($.a.b) contain one another" in text
    text = mapping_error({"version": 1, "constants": {"$.a": {"b": 1}}, "fields": [RULE]})
    assert "rule 1 ($.a.b): its target and that of constant $.a contain one another" in text


def test_a_relation_rule_may_not_add_to_a_relations_constant() -> None:
    for constants in (
        {"$.relations.hasPart": [{"target": "urn:acme:x"}]},
        {"$.relations": {"hasPart": [{"target": "urn:acme:x"}]}},
    ):
        text = mapping_error(
            {
                "version": 1,
                "constants": constants,
                "fields": [{"target": "$.relations.hasPart", "column": "c"}],
            }
        )
        assert text.startswith("test.yaml: rule 1 ($.relations.hasPart): ")
    assert "relations are set per type" in mapping_error(
        {"version": 1, "constants": {"$.relations.parts": []}}
    )


def test_a_rule_may_not_overwrite_a_constant() -> None:
    text = mapping_error(
        {
            "version": 1,
            "constants": {"dppStatus": "Active"},
            "fields": [{"target": "dppStatus", "column": "s"}],
        }
    )
    assert text == "test.yaml: rule 1 (dppStatus): writes the same target as constant dppStatus"


def test_one_column_may_feed_several_targets() -> None:
    mapping = mapping_with(
        {"target": "$.a.sku", "column": "sku"}, {"target": "digitalProductPassportId", "column": "sku"}
    )
    assert mapping.apply({"sku": "A-1"}) == ({"a": {"sku": "A-1"}, "digitalProductPassportId": "A-1"}, [])


# -- shipped mappings -------------------------------------------------------------------------


def test_shipped_mapping_names_match_the_files() -> None:
    assert SHIPPED_MAPPINGS == ("akeneo", "pimcore")
    assert sorted(path.stem for path in MAPPINGS_DIR.glob("*.yaml")) == sorted(SHIPPED_MAPPINGS)


def test_unknown_shipped_mapping_lists_the_available_ones() -> None:
    with pytest.raises(MappingError, match="No shipped mapping 'sap'; available: akeneo, pimcore"):
        shipped_mapping("sap")
    with pytest.raises(MappingError, match="available"):
        shipped_mapping("../mappings/akeneo")


def import_fixture(name: str) -> list[tuple[int, dict[str, Any] | None, list[RowError]]]:
    mapping = shipped_mapping(name)
    assert mapping.format == "csv"
    with (FIXTURES / f"{name}-products.csv").open("rb") as stream:
        results = []
        for record in read_records(stream, "csv", mapping.reader_options):
            assert record.error is None
            document, errors = mapping.apply(record.values)
            results.append((record.number, document, errors))
    return results


@pytest.mark.parametrize(
    ("name", "bad_row", "bad_column"), [("akeneo", 5, "weight-unit"), ("pimcore", 5, "co2Footprint")]
)
def test_shipped_mappings_turn_their_fixtures_into_valid_passports(
    name: str, bad_row: int, bad_column: str
) -> None:
    results = import_fixture(name)
    assert [number for number, _, _ in results] == [2, 3, 4, 5, 6]
    for number, document, errors in results:
        if number == bad_row:
            assert document is None
            assert [error.column for error in errors] == [bad_column]
            continue
        assert errors == []
        assert document is not None
        assert "economicOperatorId" not in document  # set by the import from the upload's owner
        validated = validate_document({**document, "economicOperatorId": OWNER})
        for section in ("nameplate", "composition", "sustainability"):
            assert isinstance(validated[section], dict), section


def test_akeneo_fixture_first_row_in_full() -> None:
    number, document, _ = import_fixture("akeneo")[0]
    assert number == 2
    assert document == {
        "granularity": "Model",
        "dppSchemaVersion": "EN18223:v1.0",
        "dppStatus": "Active",
        "digitalProductPassportId": "urn:dpp:akeneo:PC-POLO-GRN-M",
        "uniqueProductIdentifier": "https://id.gs1.org/01/04012345000016",
        "nameplate": {
            "ProductName": [
                {"value": "Organic Cotton Polo Shirt - Green, M", "language": "en-US"},
                {"value": "Bio-Baumwoll-Poloshirt - Grün, M", "language": "de-DE"},
            ],
            "ProductDescription": [
                {
                    "value": "Classic piqué polo in organic cotton.\nRibbed collar; two-button placket.",
                    "language": "en-US",
                }
            ],
            "BrandName": "PierrieCardin",
            "ProductArticleNumber": "PC-POLO-GRN-M",
            "Gtin": "4012345000016",
            "Colour": "Green",
            "Size": "M",
            "CountryOfOrigin": "PT",
            "WeightKg": 0.18,
        },
        "composition": {"materials": ["95% organic cotton", "5% elastane"], "recycledContentPercent": 0.0},
        "sustainability": {"carbonFootprintKgCO2e": 2.3, "waterUsageLitres": 95.0},
        "certification": {"labels": ["OEKO-TEX Standard 100", "GOTS Certified"]},
        "care": {
            "careInstructions": [
                {"value": "Machine wash at 30 °C, do not bleach", "language": "en-US"},
                {"value": "Maschinenwäsche bei 30 °C, nicht bleichen", "language": "de-DE"},
            ],
            "maxWashingTemperatureCelsius": 30,
            "tumbleDryAllowed": False,
        },
    }


def test_akeneo_fixture_unit_columns_and_bad_row() -> None:
    results = {number: (document, errors) for number, document, errors in import_fixture("akeneo")}
    hoodie = results[3][0]
    assert hoodie is not None
    assert hoodie["nameplate"]["WeightKg"] == 0.52  # 0.5200 KILOGRAM
    assert hoodie["sustainability"]["waterUsageLitres"] == 4200.0  # 4.2000 CUBIC_METER
    assert hoodie["care"]["tumbleDryAllowed"] is True
    assert results[5] == (None, [RowError("weight-unit", "cannot convert l (volume) to kg (mass)")])
    tee = results[6][0]
    assert tee is not None
    assert "certification" not in tee  # no labels, no section
    assert tee["nameplate"]["ProductName"] == [{"value": "Essential Tee - White, S", "language": "en-US"}]


def test_pimcore_fixture_rows() -> None:
    results = {number: (document, errors) for number, document, errors in import_fixture("pimcore")}
    earbuds = results[2][0]
    assert earbuds is not None
    assert earbuds["digitalProductPassportId"] == "urn:dpp:pimcore:1042"
    assert earbuds["uniqueProductIdentifier"] == "https://id.gs1.org/01/05901234123457"
    assert earbuds["nameplate"]["ProductName"] == [
        {"value": "Wireless Earbuds X2", "language": "en"},
        {"value": "Kabellose Ohrhörer X2", "language": "de"},
    ]
    assert earbuds["nameplate"]["WeightKg"] == 0.052  # 52 g
    assert earbuds["composition"]["materials"] == ["ABS plastic", "silicone", "lithium-ion cells"]
    assert earbuds["repair"] == {
        "repairabilityIndex": 7.2,
        "sparePartsAvailabilityYears": 5,
        "batteryUserReplaceable": False,
        "repairManualUrl": "https://repair.voltaro.example/vx2",
        "warrantyYears": 2,
    }
    power_bank = results[3][0]
    assert power_bank is not None
    assert power_bank["nameplate"]["Colour"] == "Space Grey"
    assert power_bank["repair"]["batteryUserReplaceable"] is True
    assert results[5] == (None, [RowError("co2Footprint", "'approx. 3' is not a number")])
    charger = results[6][0]
    assert charger is not None
    assert charger["nameplate"]["Colour"] == "Silver"  # SILVER: map keys ignore case
    assert "batteryUserReplaceable" not in charger["repair"]


def test_shipped_mappings_leave_economic_operator_to_the_import() -> None:
    for name in SHIPPED_MAPPINGS:
        mapping = shipped_mapping(name)
        targets = [constant.target.path for constant in mapping.constants]
        targets += [rule.target.path for rule in mapping.rules]
        assert ("economicOperatorId",) not in targets


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("version: 1\nfields: " + "[" * 5000 + "]" * 5000, "nested too deeply"),
        ('{"version": 1, "fields": ' + "[" * 5000 + "]" * 5000 + "}", "nested deeper"),
        ("version: 1\nconstants: {n: " + "1" * 5000 + "}\nfields: []", "usable YAML"),
        ('{"version": 1, "constants": {"n": ' + "1" * 5000 + '}, "fields": []}', "beyond"),
        ("version: 1\nconstants: {n: " + str(2**70) + "}\nfields: []", "beyond"),
    ],
)
def test_a_mapping_nested_5000_deep_or_holding_a_5000_digit_integer_is_a_mapping_error(text, reason):
    """These made the import job hang (an exception no one caught); now the mapping is refused."""
    with pytest.raises(MappingError) as refused:
        load_mapping(text.encode())
    assert reason in str(refused.value)
