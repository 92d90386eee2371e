import copy
from typing import Any

import pytest
import yaml

from shared.documents.members import HEADER as HEADER_FIELDS
from shared.documents.representation import to_full, to_full_element, value_data_type
from tests.support.documents import FIXTURES, load_fixture

SCHEMAS = yaml.safe_load((FIXTURES / "reference" / "basyx-dpp-openapi.yaml").read_text(encoding="utf-8"))[
    "components"
]["schemas"]
XSD_TYPES = frozenset(SCHEMAS["XsdValueDataType"]["enum"])
NAMEPLATE = "https://admin-shell-io/idta/digitalproductpassport/Nameplate/1"
CARBON = "https://admin-shell.io/idta/CarbonFootprint/CarbonFootprint/1/0"
HANDOVER = "https://admin-shell-io/idta/digitalproductpassport/HandoverDocumentation/2"
CIRCULARITY = "https://admin-shell-io/idta/digitalproductpassport/Circularity/1"

# -- a validator for the subset of OpenAPI 3.0 schema keywords the reference's DPP schemas use ---

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
    "integer": (int,),
    "number": (int, float),
}


def _deref(schema: dict) -> dict:
    while "$ref" in schema:
        schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def schema_errors(instance: Any, schema: dict, where: str = "$") -> list[str]:
    schema = _deref(schema)
    if instance is None:
        return [] if schema.get("nullable") or not schema.get("type") else [f"{where}: null"]
    if "discriminator" in schema:
        name = instance.get(schema["discriminator"]["propertyName"]) if isinstance(instance, dict) else None
        target = schema["discriminator"]["mapping"].get(name)
        if target is None:
            return [f"{where}: no schema for objectType {name!r}"]
        return schema_errors(instance, {"$ref": target}, where)
    kind = schema.get("type")
    # bool is an int in Python, but not a JSON number.
    if kind and (
        not isinstance(instance, _JSON_TYPES[kind]) or (kind != "boolean" and isinstance(instance, bool))
    ):
        return [f"{where}: {instance!r} is not {kind}"]
    errors = []
    if "enum" in schema and instance not in schema["enum"]:
        errors.append(f"{where}: {instance!r} not in enum")
    if isinstance(instance, str) and len(instance) < schema.get("minLength", 0):
        errors.append(f"{where}: too short")
    if isinstance(instance, list):
        errors += _array_errors(instance, schema, where)
    if isinstance(instance, dict):
        errors += _object_errors(instance, schema, where)
    return errors


def _array_errors(instance: list, schema: dict, where: str) -> list[str]:
    errors = [f"{where}: too few items"] if len(instance) < schema.get("minItems", 0) else []
    for index, item in enumerate(instance):
        errors += schema_errors(item, schema.get("items", {}), f"{where}[{index}]")
    return errors


def _object_errors(instance: dict, schema: dict, where: str) -> list[str]:
    properties = schema.get("properties", {})
    errors = [f"{where}: missing {key}" for key in schema.get("required", []) if key not in instance]
    if schema.get("additionalProperties") is False:
        errors += [f"{where}: unexpected {key}" for key in instance if key not in properties]
    for key, value in instance.items():
        if key in properties:
            errors += schema_errors(value, properties[key], f"{where}.{key}")
    return errors


def element_errors(element: dict) -> list[str]:
    return schema_errors(element, SCHEMAS["DataElement"])


def test_the_validator_rejects_what_the_schema_forbids():
    good = {
        "elementId": "a",
        "objectType": "SingleValuedDataElement",
        "valueDataType": "xsd:string",
        "value": 1,
    }
    assert element_errors(good) == []
    assert element_errors({**good, "valueDataType": "xsd:text"})
    assert element_errors({k: v for k, v in good.items() if k != "valueDataType"})
    assert element_errors({**good, "elements": []})
    assert element_errors({**good, "objectType": "Thing"})
    assert element_errors({"elementId": "a", "objectType": "MultiLanguageDataElement", "value": []})
    assert element_errors({"elementId": "a", "objectType": "RelatedResource", "url": "x"})
    bad_child = {"elementId": "c", "objectType": "DataElementCollection", "elements": [{"elementId": "x"}]}
    assert element_errors(bad_child)
    assert schema_errors(True, {"type": "integer"})
    assert schema_errors(None, {"type": "string"})


def count_elements(element: dict) -> int:
    return 1 + sum(count_elements(child) for child in element.get("elements", []))


def by_id(elements: list, element_id: str) -> dict:
    (found,) = [e for e in elements if e["elementId"] == element_id]
    return found


# -- the reference sample ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample() -> dict:
    return load_fixture("reference/basyx-sample-dpp.json")


@pytest.fixture(scope="module")
def full(sample: dict) -> dict:
    return to_full(sample)


def test_sample_is_valid_against_the_reference_schema(full):
    assert schema_errors(full, SCHEMAS["DigitalProductPassport"]) == []
    # Every element of every section was checked, not only the top level.
    assert sum(count_elements(section) for section in full["elements"]) == 51


def test_sample_header_is_copied_unchanged_in_order(sample, full):
    header = {key: value for key, value in sample.items() if key in HEADER_FIELDS}
    assert list(full) == [*header, "elements"]
    assert {key: full[key] for key in header} == header


def test_sample_sections_reference_their_content_specification(sample, full):
    sections = full["elements"]
    assert [s["elementId"] for s in sections] == [NAMEPLATE, CARBON, HANDOVER, CIRCULARITY]
    for section in sections:
        assert list(section) == ["elementId", "objectType", "dictionaryReference", "elements"]
        assert section["objectType"] == "DataElementCollection"
        assert section["dictionaryReference"] == section["elementId"]
        for child in section["elements"]:
            assert "dictionaryReference" not in child


def test_sample_nameplate(full):
    nameplate = by_id(full["elements"], NAMEPLATE)["elements"]
    assert [e["elementId"] for e in nameplate] == [
        "ManufacturerName",
        "ProductName",
        "ProductArticleNumber",
        "SerialNumber",
        "ManufacturingDate",
    ]
    assert by_id(nameplate, "ProductName") == {
        "elementId": "ProductName",
        "objectType": "MultiLanguageDataElement",
        "value": [
            {"value": "BPX 92 kWh traction battery pack", "language": "en-GB"},
            {"value": "BPX 92 kWh Traktionsbatterie", "language": "de-DE"},
        ],
    }
    assert by_id(nameplate, "ManufacturingDate") == {
        "elementId": "ManufacturingDate",
        "objectType": "SingleValuedDataElement",
        "valueDataType": "xsd:date",
        "value": "2026-05-18",
    }
    assert by_id(nameplate, "SerialNumber")["valueDataType"] == "xsd:string"


def test_sample_circularity(full):
    circularity = by_id(full["elements"], CIRCULARITY)["elements"]
    assert by_id(circularity, "DismantlingInstructions") == {
        "elementId": "DismantlingInstructions",
        "objectType": "RelatedResource",
        "resourceTitle": "Dismantling instructions for BPX 92 kWh traction battery pack",
        "contentType": "application/pdf",
        "url": "https://manufacturer.example/docs/bpx-92-dismantling-instructions.pdf",
        "language": "en-GB",
    }
    assert by_id(circularity, "RecycledContentPercent")["value"] == 29.4
    assert by_id(circularity, "RecycledContentPercent")["valueDataType"] == "xsd:double"


def test_sample_carbon_footprint(full):
    carbon = by_id(full["elements"], CARBON)["elements"]
    footprints = by_id(carbon, "ProductCarbonFootprints")
    assert list(footprints) == ["elementId", "objectType", "elements"]
    assert footprints["objectType"] == "MultiValuedDataElement"
    (first,) = footprints["elements"]
    assert first["elementId"] == "0"
    assert first["objectType"] == "DataElementCollection"
    assert by_id(first["elements"], "PcfCo2eq") == {
        "elementId": "PcfCo2eq",
        "objectType": "SingleValuedDataElement",
        "valueDataType": "xsd:double",
        "value": 4180.75,
    }
    phases = by_id(first["elements"], "LifeCyclePhases")
    assert list(phases) == ["elementId", "objectType", "valueDataType", "elements"]
    assert phases["objectType"] == "MultiValuedDataElement"
    assert phases["valueDataType"] == "xsd:string"
    assert [(p["elementId"], p["value"]) for p in phases["elements"]] == [
        ("0", "raw material extraction"),
        ("1", "cell manufacturing"),
        ("2", "pack assembly"),
        ("3", "inbound logistics"),
    ]
    web_link = by_id(first["elements"], "WebLinkToPublicCarbonFootprintStudy")
    assert web_link["valueDataType"] == "xsd:anyURI"
    assert web_link["elements"][0]["valueDataType"] == "xsd:anyURI"


def test_sample_handover_documentation(full):
    (document,) = by_id(by_id(full["elements"], HANDOVER)["elements"], "Documents")["elements"]
    (version,) = by_id(document["elements"], "DocumentVersions")["elements"]
    files = by_id(version["elements"], "DigitalFiles")
    assert "valueDataType" not in files
    assert [f["objectType"] for f in files["elements"]] == ["RelatedResource", "RelatedResource"]
    assert files["elements"][1]["language"] == "de-DE"
    assert by_id(version["elements"], "Title")["objectType"] == "MultiLanguageDataElement"
    (ids,) = by_id(document["elements"], "DocumentIds")["elements"]
    assert by_id(ids["elements"], "DocumentIsPrimary")["valueDataType"] == "xsd:boolean"


def test_sample_is_not_mutated_nor_shared(sample):
    before = copy.deepcopy(sample)
    result = to_full(sample)
    assert sample == before
    result["contentSpecificationIds"].append("x")
    by_id(by_id(result["elements"], NAMEPLATE)["elements"], "ProductName")["value"][0]["value"] = "x"
    assert sample == before


# -- sections of other documents ---------------------------------------------------------------


def test_camel_case_sections_find_their_content_specification():
    document = {
        "digitalProductPassportId": "x",
        "contentSpecificationIds": [
            "https://admin-shell-io/idta/digitalproductpassport/Nameplate/1",
            "https://admin-shell.io/idta/CarbonFootprint/CarbonFootprint/1/0",
            "https://example.org/specs/Circularity/v2",
            "https://example.org/specs/Materials/1.0.3/",
            "urn:example:battery:1",
        ],
        "nameplate": {"A": 1},
        "carbonFootprint": {"B": 2},
        "circularity": {},
        "MATERIALS": {},
        "battery": {},
        "unlisted": {"C": 3},
    }
    full = to_full(document)
    references = {s["elementId"]: s.get("dictionaryReference") for s in full["elements"]}
    assert references == {
        "nameplate": "https://admin-shell-io/idta/digitalproductpassport/Nameplate/1",
        "carbonFootprint": "https://admin-shell.io/idta/CarbonFootprint/CarbonFootprint/1/0",
        "circularity": "https://example.org/specs/Circularity/v2",
        "MATERIALS": "https://example.org/specs/Materials/1.0.3/",
        "battery": "urn:example:battery:1",
        "unlisted": None,
    }
    assert list(full["elements"][0]) == ["elementId", "objectType", "dictionaryReference", "elements"]
    assert list(full["elements"][-1]) == ["elementId", "objectType", "elements"]
    assert [element_errors(section) for section in full["elements"]] == [[]] * 6


def test_an_exactly_listed_key_wins_over_a_name_match():
    ids = ["https://example.org/Nameplate/1", "Nameplate"]
    (section,) = to_full({"contentSpecificationIds": ids, "Nameplate": {}})["elements"]
    assert section["dictionaryReference"] == "Nameplate"


def test_non_section_members_stay_in_place_and_sections_move_to_elements():
    document = {
        "dppStatus": "Active",
        "first": {"x": 1},
        "note": "a top-level scalar is not a section",
        "facilityId": "f",
        "list": [1, 2],
        "second": {"y": None},
    }
    full = to_full(document)
    assert list(full) == ["dppStatus", "note", "facilityId", "list", "elements"]
    assert full["note"] == "a top-level scalar is not a section"
    assert full["list"] == [1, 2]
    assert [s["elementId"] for s in full["elements"]] == ["first", "second"]


def test_an_object_valued_header_field_is_not_a_section():
    full = to_full({"facilityId": {"odd": True}, "s": {}})
    assert full["facilityId"] == {"odd": True}
    assert [s["elementId"] for s in full["elements"]] == ["s"]


def test_a_section_is_a_collection_even_if_it_looks_like_a_resource():
    (section,) = to_full({"doc": {"contentType": "text/plain", "url": "https://x.example/"}})["elements"]
    assert section["objectType"] == "DataElementCollection"
    assert [e["elementId"] for e in section["elements"]] == ["contentType", "url"]


def test_a_spec_id_made_only_of_versions_names_nothing():
    (section,) = to_full({"contentSpecificationIds": ["1/0"], "": {}})["elements"]
    assert section == {"elementId": "", "objectType": "DataElementCollection", "elements": []}


def test_a_stored_non_object_elements_member_gives_way_to_the_expansion():
    full = to_full({"elements": ["stale"], "dppStatus": "Active", "s": {"a": 1}})
    assert list(full) == ["dppStatus", "elements"]
    assert [e["elementId"] for e in full["elements"]] == ["s"]


def test_no_sections_gives_an_empty_elements_array():
    assert to_full({"dppStatus": "Active"}) == {"dppStatus": "Active", "elements": []}


# -- inference rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, "xsd:boolean"),
        (False, "xsd:boolean"),
        (3, "xsd:integer"),
        (-(10**30), "xsd:integer"),
        (2.5, "xsd:double"),
        (1.0, "xsd:double"),
        ("2026-05-18", "xsd:date"),
        ("2024-02-29", "xsd:date"),
        ("2026-02-30", "xsd:string"),
        ("2026-13-01", "xsd:string"),
        ("2026-5-18", "xsd:string"),
        ("2026-05-18\n", "xsd:string"),
        ("\uff12\uff10\uff12\uff16-05-18", "xsd:string"),  # full-width digits
        ("2026-05-18T10:00:00Z", "xsd:dateTime"),
        ("2026-05-18t10:00:00z", "xsd:dateTime"),
        ("2026-05-18T10:00:00.5+02:00", "xsd:dateTime"),
        ("2016-12-31T23:59:60Z", "xsd:dateTime"),
        ("2026-05-18T10:00:00", "xsd:string"),
        ("2026-05-18 10:00:00Z", "xsd:string"),
        ("2026-05-18T24:00:00Z", "xsd:string"),
        ("2026-05-18T10:00:00+24:00", "xsd:string"),
        ("2026-02-30T10:00:00Z", "xsd:string"),
        ("2026-05-18T10:60:00Z", "xsd:string"),
        ("2026-05-18T10:00:61Z", "xsd:string"),
        ("2026-05-18T10:00:00+02:60", "xsd:string"),
        ("2026-05-18T23:59:59-23:59", "xsd:dateTime"),
        ("https://example.org/x", "xsd:anyURI"),
        ("urn:epc:id:sgtin:1.2.3", "xsd:anyURI"),
        ("mailto:a@example.org", "xsd:anyURI"),
        ("gxx:ppp456789", "xsd:anyURI"),
        ("a+b-c.d:x", "xsd:anyURI"),
        ("https:", "xsd:string"),
        ("1http://x", "xsd:string"),
        ("https://x.example/a b", "xsd:string"),
        ("https://x.example/\n", "xsd:string"),
        ("not a uri: really", "xsd:string"),
        ("VDI2770 Blatt 1:2020", "xsd:string"),
        ("plain", "xsd:string"),
        ("", "xsd:string"),
        (None, "xsd:string"),
    ],
)
def test_value_data_types(value, expected):
    assert value_data_type(value) == expected
    assert expected in XSD_TYPES


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, {"valueDataType": "xsd:string", "value": None}),
        (0, {"valueDataType": "xsd:integer", "value": 0}),
        (False, {"valueDataType": "xsd:boolean", "value": False}),
        ("2026-05-18", {"valueDataType": "xsd:date", "value": "2026-05-18"}),
    ],
)
def test_scalars_are_single_valued_and_keep_their_json_value(value, expected):
    element = to_full_element("n", value)
    assert element == {"elementId": "n", "objectType": "SingleValuedDataElement", **expected}
    assert type(element["value"]) is type(value)
    assert list(element) == ["elementId", "objectType", "valueDataType", "value"]
    assert element_errors(element) == []


def test_multi_language():
    value = [{"value": "Hemd", "language": "de"}, {"language": "en", "value": "Shirt"}]
    element = to_full_element("t", value)
    assert element == {"elementId": "t", "objectType": "MultiLanguageDataElement", "value": value}
    assert element_errors(element) == []
    element["value"][0]["value"] = "changed"
    assert value[0]["value"] == "Hemd"


@pytest.mark.parametrize(
    "value",
    [
        [{"value": "x", "language": "en", "more": 1}],
        [{"value": "x"}],
        [{"value": 1, "language": "en"}],
        [{"value": "x", "language": "en"}, "y"],
    ],
)
def test_almost_multi_language_lists_are_multi_valued(value):
    element = to_full_element("l", value)
    assert element["objectType"] == "MultiValuedDataElement"
    assert len(element["elements"]) == len(value)
    assert element_errors(element) == []


def test_related_resource_minimal_and_full():
    assert to_full_element("r", {"url": "https://x.example/a.pdf", "contentType": "application/pdf"}) == {
        "elementId": "r",
        "objectType": "RelatedResource",
        "url": "https://x.example/a.pdf",
        "contentType": "application/pdf",
    }
    full = {"contentType": "text/html", "url": "https://x.example/", "resourceTitle": "T", "language": "en"}
    element = to_full_element("r", full)
    assert element == {"elementId": "r", "objectType": "RelatedResource", **full}
    assert element_errors(element) == []


@pytest.mark.parametrize(
    "value",
    [
        {"contentType": "a", "url": "b", "extra": 1},
        {"contentType": "a"},
        {"url": "b", "resourceTitle": "t"},
        {"contentType": "a", "url": 5},
        {"contentType": "", "url": "b"},
    ],
)
def test_almost_resources_are_collections(value):
    element = to_full_element("r", value)
    assert element["objectType"] == "DataElementCollection"
    assert [child["elementId"] for child in element["elements"]] == list(value)
    assert element_errors(element) == []


def test_collection_children_keep_their_order_and_nest():
    element = to_full_element("c", {"z": 1, "a": {"b": [True]}, "m": None})
    assert element == {
        "elementId": "c",
        "objectType": "DataElementCollection",
        "elements": [
            {
                "elementId": "z",
                "objectType": "SingleValuedDataElement",
                "valueDataType": "xsd:integer",
                "value": 1,
            },
            {
                "elementId": "a",
                "objectType": "DataElementCollection",
                "elements": [
                    {
                        "elementId": "b",
                        "objectType": "MultiValuedDataElement",
                        "valueDataType": "xsd:boolean",
                        "elements": [
                            {
                                "elementId": "0",
                                "objectType": "SingleValuedDataElement",
                                "valueDataType": "xsd:boolean",
                                "value": True,
                            }
                        ],
                    }
                ],
            },
            {
                "elementId": "m",
                "objectType": "SingleValuedDataElement",
                "valueDataType": "xsd:string",
                "value": None,
            },
        ],
    }
    assert element_errors(element) == []


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([1, 2], "xsd:integer"),
        ([1.5, 2.5], "xsd:double"),
        (["2026-05-18", "2026-05-19"], "xsd:date"),
        (["https://a.example/", "urn:x:y"], "xsd:anyURI"),
        ([1, "a"], "xsd:string"),
        ([1, 2.5], "xsd:string"),
        (["2026-05-18", "plain"], "xsd:string"),
        ([True, 1], "xsd:string"),
    ],
)
def test_multi_valued_scalars_carry_the_common_type(items, expected):
    element = to_full_element("m", items)
    assert list(element) == ["elementId", "objectType", "valueDataType", "elements"]
    assert element["valueDataType"] == expected
    assert [child["elementId"] for child in element["elements"]] == [str(i) for i in range(len(items))]
    assert [child["value"] for child in element["elements"]] == items
    assert element_errors(element) == []


@pytest.mark.parametrize("items", [[1, None], [None], [1, [2]], [{"a": 1}], [[], []]])
def test_multi_valued_with_non_scalars_has_no_value_data_type(items):
    element = to_full_element("m", items)
    assert element["objectType"] == "MultiValuedDataElement"
    assert "valueDataType" not in element
    assert len(element["elements"]) == len(items)
    assert element_errors(element) == []


def test_empty_list_is_multi_valued_without_a_type():
    assert to_full_element("e", []) == {
        "elementId": "e",
        "objectType": "MultiValuedDataElement",
        "elements": [],
    }


def test_header_members_are_copied_deeply():
    document = {"facilityId": {"site": {"lines": [1]}}, "s": {}}
    full = to_full(document)
    full["facilityId"]["site"]["lines"].append(2)
    assert document["facilityId"] == {"site": {"lines": [1]}}


def test_a_spec_id_that_is_not_text_names_no_section():
    ids = [7, None, "https://example.org/specs/Nameplate/1"]
    (section,) = to_full({"contentSpecificationIds": ids, "nameplate": {}})["elements"]
    assert section["dictionaryReference"] == "https://example.org/specs/Nameplate/1"
