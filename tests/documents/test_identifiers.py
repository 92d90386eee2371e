"""Which GS1 trade item a product identifier names."""

from __future__ import annotations

import pytest

from shared.documents.identifiers import TradeItem, trade_item


@pytest.mark.parametrize(
    ("product_id", "expected"),
    [
        ("https://id.gs1.org/01/09506000134352/21/ABC-1", TradeItem(gtin14="09506000134352")),
        (
            "https://brand.example.com/products/01/4012345000016?linkType=gs1:pip",
            TradeItem(gtin14="04012345000016"),
        ),
        ("http://example.com/01/96385074", TradeItem(gtin14="00000096385074")),
        ("urn:epc:id:sgtin:4012345.000001.7", TradeItem(company_prefix="4012345")),
        ("URN:EPC:CLASS:LGTIN:5901234.012346.LOT-9", TradeItem(company_prefix="5901234")),
        ("614141123452", TradeItem(gtin14="00614141123452")),
    ],
)
def test_gtin_based_identifiers(product_id: str, expected: TradeItem) -> None:
    assert trade_item(product_id) == expected


@pytest.mark.parametrize(
    "product_id",
    [
        "urn:pierriecardin:product:pc-polo-green",
        "https://id.example.org/acme/item/1",
        "https://id.gs1.org/01/not-digits",
        "https://id.gs1.org/01/123456789",  # nine digits: no GTIN has that length
        "ftp://id.gs1.org/01/09506000134352",
        "12345",
    ],
)
def test_everything_else_is_matched_by_its_text(product_id: str) -> None:
    assert trade_item(product_id) is None


def test_a_company_prefix_follows_the_indicator_digit() -> None:
    item = TradeItem(gtin14="19506000134359")
    assert item.has_company_prefix("9506000")
    assert item.has_company_prefix("9506")
    assert not item.has_company_prefix("1950")
    assert TradeItem(company_prefix="4012345").has_company_prefix("4012345")
    assert not TradeItem(company_prefix="4012345").has_company_prefix("401234")
