"""GS1 Digital Link URIs: parsed, validated and written canonically, and judged the same way by
GS1's own `digital-link.js` (npm), which the service does not use."""

from __future__ import annotations

import pytest

from shared.documents.digital_link import (
    DigitalLink,
    InvalidDigitalLink,
    canonical_uri,
    check_digit,
    is_digital_link,
    link_key,
    parse,
    parse_path,
    product_key,
)
from shared.documents.model import validate_document
from shared.platform.errors import BadRequest
from tests.support.documents import make_passport
from tests.support.gs1 import gs1_verdicts

VALID = [
    # The standard's own examples (GS1 Digital Link URI Syntax 1.4, section 4).
    "https://id.gs1.org/01/09506000134352",
    "https://id.gs1.org/01/09506000134352/10/AB-123",
    "https://id.gs1.org/01/09506000134352/21/12345",
    "https://example.com/01/09506000134352/10/AB-123/21/12345?17=180426",
    "https://example.com/some/path/01/09506000134352",
    "https://id.gs1.org/01/9506000134352",  # a GTIN-13, padded
    "https://id.gs1.org/01/09506000134352/22/2A/10/L%2F1",
]
INVALID = {
    "https://id.gs1.org/01/09506000134353": "check digit",
    "https://id.gs1.org/01/09506000134": "8, 12, 13 or 14 digits",
    "https://id.gs1.org/01/09506000134352/21/A/10/B": "order",
    "https://id.gs1.org/01/09506000134352/17/261231": "not a key qualifier",
    "https://id.gs1.org/01/09506000134352/21/" + "X" * 21: "1-20 characters",
    "https://id.gs1.org/01/09506000134352/21/%C3%A9t%C3%A9": "set 82",
    "https://id.gs1.org/01/09506000134352/21": "AI/value pairs",
}


@pytest.mark.parametrize("uri", VALID)
def test_valid_uris_parse(uri: str):
    # Every example names the same trade item, whatever its form (GTIN-13 padded to 14 digits).
    assert parse(uri).gtin == "09506000134352"


@pytest.mark.parametrize(("uri", "fault"), INVALID.items())
def test_invalid_uris_are_refused_naming_the_fault(uri: str, fault: str):
    with pytest.raises(InvalidDigitalLink) as refused:
        parse(uri)
    assert fault in refused.value.text
    assert refused.value.code == "InvalidProductIdentifier"


def test_gs1s_own_library_agrees_with_every_verdict_and_with_every_canonical_uri():
    canonical = [parse(uri).uri("https://dpp.example.com") for uri in VALID]
    verdicts = gs1_verdicts(VALID + canonical + list(INVALID))
    assert verdicts == [True] * (2 * len(VALID)) + [False] * len(INVALID)


def test_canonical_form_orders_qualifiers_pads_the_gtin_and_keeps_attributes():
    link = parse("https://id.gs1.org/x/01/9506000134352/10/AB%2F1/21/S%2A1?17=261231&linkType=gs1:pip")
    assert link == DigitalLink("09506000134352", (("10", "AB/1"), ("21", "S*1")), (("17", "261231"),))
    assert link.granularity == "Item"
    assert (
        link.uri("https://r.example.com/")
        == "https://r.example.com/01/09506000134352/10/AB%2F1/21/S*1?17=261231"
    )
    assert link.without("21").granularity == "Batch" and link.without("10", "21").granularity == "Model"
    assert parse_path("01/09506000134352/10/AB%2F1") == DigitalLink("09506000134352", (("10", "AB/1"),))
    with pytest.raises(InvalidDigitalLink):
        parse_path("02/09506000134352")


def test_what_counts_as_a_digital_link():
    assert is_digital_link("https://id.gs1.org/01/09506000134352")
    assert not is_digital_link("urn:epc:id:sgtin:4012345.000001.7")
    assert not is_digital_link("https://id.example.org/acme/item/1")
    assert check_digit("0950600013435") == "2"


def test_a_passport_with_a_bad_digital_link_is_refused_on_write():
    bad = make_passport(uniqueProductIdentifier="https://id.gs1.org/01/09506000134353/21/A")
    with pytest.raises(BadRequest) as refused:
        validate_document(bad)
    assert refused.value.code == "InvalidProductIdentifier" and "check digit" in refused.value.text
    both = {**bad, "granularity": "Piece"}
    with pytest.raises(BadRequest) as combined:
        validate_document(both)
    assert combined.value.code == "InvalidPassport" and "check digit" in combined.value.text
    good = make_passport(uniqueProductIdentifier="https://id.gs1.org/01/09506000134352/21/A")
    assert validate_document(good)["uniqueProductIdentifier"] == good["uniqueProductIdentifier"]


def test_the_canonical_uri_of_a_product_id_on_this_resolver():
    base = "https://dpp.example.com/"
    assert (
        canonical_uri("https://id.gs1.org/x/01/9506000134352/21/S%2F1?17=261231&linkType=all", base)
        == "https://dpp.example.com/01/09506000134352/21/S%2F1?17=261231"
    )
    assert canonical_uri("9506000134352", base) == "https://dpp.example.com/01/09506000134352"  # a bare GTIN
    assert canonical_uri("09506000134352", base) == "https://dpp.example.com/01/09506000134352"
    # Anything that is not a valid GS1 identification has no canonical Digital Link URI.
    assert canonical_uri("https://id.gs1.org/01/09506000134353", base) is None  # bad check digit
    assert canonical_uri("9506000134353", base) is None
    assert canonical_uri("urn:epc:id:sgtin:4012345.000001.7", base) is None


def test_a_link_is_looked_up_by_the_key_of_its_product_id():
    uri = "https://id.gs1.org/01/9506000134352/10/L%2F1?17=261231"
    assert link_key(parse(uri)) == product_key(uri) == "gs1:/01/09506000134352/10/L%2F1"
    assert link_key(parse_path("01/09506000134352")) == product_key("9506000134352")
