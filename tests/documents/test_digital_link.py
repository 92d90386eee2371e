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
    "https://id.gs1.org/01/09506000134352/21/" + "X" * 20,  # the longest serial
]
INVALID = {
    "https://id.gs1.org/01/09506000134353": "GTIN '09506000134353' has check digit 3, expected 2",
    "https://id.gs1.org/01/09506000134": "GTIN '09506000134' must be 8, 12, 13 or 14 digits",
    "https://id.gs1.org/01/09506000134352/21/A/10/B": "once each, in the order 22, 10, 21",
    "https://id.gs1.org/01/09506000134352/17/261231": "AI 17 is not a key qualifier of a GTIN",
    "https://id.gs1.org/01/09506000134352/21/"
    + "X" * 21: "the serial number (AI 21) must be 1-20 characters",
    "https://id.gs1.org/01/09506000134352/21/%C3%A9t%C3%A9": "serial number (AI 21) holds characters outside",
    "https://id.gs1.org/01/09506000134352/21": "after '/01/' the path must be AI/value pairs",
    "https://id.gs1.org/01/09506000134352//21": "after '/01/' the path must be AI/value pairs",
    "https://id.gs1.org/01/09506000134352?17=": "the value of AI 17 must be characters of GS1 set 82",
    "https://id.gs1.org/01/09506000134352?17=%C3%A9": "the value of AI 17 must be characters of GS1 set 82",
    "https://id.gs1.org/1/09506000134352": "no '/01/<GTIN>' primary key in its path",
    "https://[::1/01/09506000134352": "Invalid IPv6 URL",
}
# The URI syntax's grammar allows each key qualifier once ([/22/..][/10/..][/21/..]); GS1's
# digital-link.js takes a repeated one, so these stay out of the comparison with it.
INVALID_BY_THE_GRAMMAR = {
    "https://id.gs1.org/01/09506000134352/21/A/21/B": "once each, in the order 22, 10, 21",
}


@pytest.mark.parametrize("uri", VALID)
def test_valid_uris_parse(uri: str):
    # Every example names the same trade item, whatever its form (GTIN-13 padded to 14 digits).
    assert parse(uri).gtin == "09506000134352"


@pytest.mark.parametrize(("uri", "fault"), [*INVALID.items(), *INVALID_BY_THE_GRAMMAR.items()])
def test_invalid_uris_are_refused_naming_the_fault(uri: str, fault: str):
    with pytest.raises(InvalidDigitalLink) as refused:
        parse(uri)
    assert refused.value.text.startswith(
        f"'uniqueProductIdentifier' {uri!r} is not a valid GS1 Digital Link URI: "
    )
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
    assert link.without("21") == DigitalLink("09506000134352", (("10", "AB/1"),))
    # One spelling of each data attribute, encoded as a path segment is, whatever the input's.
    for query in ("8200=A/(1)", "8200=A%2F%281%29"):
        assert parse(f"https://id.gs1.org/01/09506000134352?{query}").uri("https://r.example.com") == (
            "https://r.example.com/01/09506000134352?8200=A%2F(1)"
        )
    two = parse("https://id.gs1.org/01/09506000134352?17=261231&3103=000189")
    assert two.uri("https://r.example.com") == "https://r.example.com/01/09506000134352?17=261231&3103=000189"
    assert parse_path("01/09506000134352/10/AB%2F1") == DigitalLink("09506000134352", (("10", "AB/1"),))
    assert parse_path("/01/09506000134352/", "17=261231&linkType=all") == DigitalLink(
        "09506000134352", (), (("17", "261231"),)
    )
    # Only slashes are trimmed: a serial may end in any character of set 82, and so may a base.
    assert parse_path("/01/09506000134352/21/BOX/").serial == "BOX"
    assert (
        DigitalLink("09506000134352").uri("https://r.example.com/BOX/")
        == "https://r.example.com/BOX/01/09506000134352"
    )


@pytest.mark.parametrize(
    ("path", "fault"),
    [
        ("/02/09506000134352/", "the path must be /01/<GTIN> then AI/value pairs"),
        ("01/09506000134352/10", "the path must be /01/<GTIN> then AI/value pairs"),
        ("01/09506000134352//10", "the path must be /01/<GTIN> then AI/value pairs"),
        ("/01/09506000134353", "has check digit 3, expected 2"),
        ("01/09506000134352/21/X/10/X", "key qualifiers must appear once each"),
        ("01/09506000134352/21X", "the path must be /01/<GTIN> then AI/value pairs"),
    ],
)
def test_a_resolver_path_is_refused_naming_itself_and_the_fault(path: str, fault: str):
    with pytest.raises(InvalidDigitalLink) as refused:
        parse_path(path)
    named = "/" + path.strip("/")
    assert refused.value.text.startswith(
        f"'uniqueProductIdentifier' {named!r} is not a valid GS1 Digital Link"
    )
    assert fault in refused.value.text


def test_what_counts_as_a_digital_link():
    assert is_digital_link("https://id.gs1.org/01/09506000134352")
    assert not is_digital_link("urn:epc:id:sgtin:4012345.000001.7")
    assert not is_digital_link("https://id.example.org/acme/item/1")
    assert check_digit("0950600013435") == "2"
    assert check_digit("950600013439") == "0"  # a weighted sum that is a multiple of ten
    # A path that ends in /01 claims to be one (and is then refused by parse, not read as a URL).
    assert is_digital_link("https://id.gs1.org/01")
    assert not is_digital_link("https://[::1/01/09506000134352")


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
