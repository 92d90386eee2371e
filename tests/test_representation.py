import copy

import pytest
import yaml
from conftest import FIXTURES, load_fixture

from shared.representation import to_full, to_full_element, value_data_type

SCHEMAS = yaml.safe_load((FIXTURES / "reference" / "basyx-dpp-openapi.yaml").read_text())["components"][
    "schemas"
]
XSD_TYPES = set(SCHEMAS["XsdValueDataType"]["enum"])


def _check_against_reference(element: dict) -> int:
    """Validate an element against the reference schema's rules; returns how many were checked."""
    schema = SCHEMAS[element["objectType"]]
    assert set(schema["required"]) <= element.keys(), element
    assert element.keys() <= schema["properties"].keys(), element
    if "valueDataType" in element:
        assert element["valueDataType"] in XSD_TYPES
    return 1 + sum(_check_against_reference(child) for child in element.get("elements", []))


def _by_id(elements: list, element_id: str) -> dict:
    return next(e for e in elements if e["elementId"] == element_id)


def test_reference_sample_expands_per_the_reference_schema():
    sample = load_fixture("reference/basyx-sample-dpp.json")
    before = copy.deepcopy(sample)
    full = to_full(sample)
    assert sample == before
    assert [key for key in full if key != "elements"] == [
        key for key in sample if not isinstance(sample[key], dict)
    ]
    sections = full["elements"]
    assert [s["elementId"] for s in sections] == sample["contentSpecificationIds"]
    for section in sections:
        assert section["objectType"] == "DataElementCollection"
        assert section["dictionaryReference"] == section["elementId"]
    assert sum(_check_against_reference(section) for section in sections) > 40

    nameplate = _by_id(sections, "https://admin-shell-io/idta/digitalproductpassport/Nameplate/1")["elements"]
    assert _by_id(nameplate, "ProductName")["objectType"] == "MultiLanguageDataElement"
    assert _by_id(nameplate, "ManufacturingDate")["valueDataType"] == "xsd:date"
    circularity = _by_id(sections, "https://admin-shell-io/idta/digitalproductpassport/Circularity/1")[
        "elements"
    ]
    dismantling = _by_id(circularity, "DismantlingInstructions")
    assert dismantling["objectType"] == "RelatedResource"
    assert dismantling["contentType"] == "application/pdf"
    carbon = _by_id(sections, "https://admin-shell.io/idta/CarbonFootprint/CarbonFootprint/1/0")["elements"]
    footprints = _by_id(carbon, "ProductCarbonFootprints")
    assert footprints["objectType"] == "MultiValuedDataElement"
    assert "valueDataType" not in footprints
    first = footprints["elements"][0]
    assert first["elementId"] == "0"
    assert first["objectType"] == "DataElementCollection"
    assert _by_id(first["elements"], "PcfCo2eq") == {
        "elementId": "PcfCo2eq",
        "objectType": "SingleValuedDataElement",
        "valueDataType": "xsd:double",
        "value": 4180.75,
    }
    phases = _by_id(first["elements"], "LifeCyclePhases")
    assert phases["valueDataType"] == "xsd:string"
    assert phases["elements"][0]["value"] == "raw material extraction"


def test_camel_case_sections_find_their_content_specification():
    document = {
        "digitalProductPassportId": "x",
        "contentSpecificationIds": [
            "https://admin-shell-io/idta/digitalproductpassport/Nameplate/1",
            "https://admin-shell.io/idta/CarbonFootprint/CarbonFootprint/1/0",
        ],
        "nameplate": {"A": 1},
        "carbonFootprint": {"B": 2},
        "unlisted": {"C": 3},
    }
    sections = to_full(document)["elements"]
    assert sections[0]["dictionaryReference"].endswith("Nameplate/1")
    assert sections[1]["dictionaryReference"].endswith("CarbonFootprint/1/0")
    assert "dictionaryReference" not in sections[2]
    assert list(sections[0]) == ["elementId", "objectType", "dictionaryReference", "elements"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, "xsd:boolean"),
        (3, "xsd:integer"),
        (2.5, "xsd:double"),
        ("2026-05-18", "xsd:date"),
        ("2026-02-30", "xsd:string"),
        ("2026-05-18T10:00:00Z", "xsd:dateTime"),
        ("2026-05-18T10:00:00.5+02:00", "xsd:dateTime"),
        ("https://example.org/x", "xsd:anyURI"),
        ("urn:epc:id:sgtin:1.2.3", "xsd:anyURI"),
        ("not a uri: really", "xsd:string"),
        ("plain", "xsd:string"),
        (None, "xsd:string"),
    ],
)
def test_value_data_types(value, expected):
    assert value_data_type(value) == expected


def test_inference_rules():
    assert to_full_element("n", None) == {
        "elementId": "n",
        "objectType": "SingleValuedDataElement",
        "valueDataType": "xsd:string",
        "value": None,
    }
    mixed = to_full_element("m", [1, "a"])
    assert mixed["valueDataType"] == "xsd:string"
    assert to_full_element("i", [1, 2])["valueDataType"] == "xsd:integer"
    assert to_full_element("e", []) == {
        "elementId": "e",
        "objectType": "MultiValuedDataElement",
        "elements": [],
    }
    not_resource = to_full_element("r", {"contentType": "a", "url": "b", "extra": 1})
    assert not_resource["objectType"] == "DataElementCollection"
    not_lang = to_full_element("l", [{"value": "x", "language": "en", "more": 1}])
    assert not_lang["objectType"] == "MultiValuedDataElement"
