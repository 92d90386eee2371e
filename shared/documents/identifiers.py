"""Product identifiers (EN 18219): which GS1 trade item a `uniqueProductIdentifier` names, if any.

A GTIN-based identifier is a GS1 Digital Link URI on any host (`https://id.gs1.org/01/09506000134352/21/X`,
a path prefix before `/01/` allowed), an EPC URN naming its company prefix (`urn:epc:id:sgtin:
4012345.000001.7`, `urn:epc:class:lgtin:...`), or a bare GTIN-8/12/13/14. Every other identifier
(a URN, a URL) is matched by its text alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared.documents.digital_link import GTIN_LENGTHS, InvalidDigitalLink, is_digital_link, parse

_DIGITS = re.compile(r"[0-9]+")
_EPC = re.compile(r"^urn:epc:(?:id:sgtin|class:lgtin):([0-9]{4,12})\.", re.IGNORECASE)


@dataclass(frozen=True)
class TradeItem:
    """The GS1 trade item an identifier names: its GTIN as 14 digits, or only its company prefix."""

    gtin14: str | None = None
    company_prefix: str | None = None

    def has_company_prefix(self, prefix: str) -> bool:
        if self.company_prefix is not None:
            return self.company_prefix == prefix
        # In a GTIN-14 the company prefix follows the indicator digit (GTIN-13 and -12 are padded).
        return self.gtin14 is not None and self.gtin14[1 : 1 + len(prefix)] == prefix


def trade_item(product_id: str) -> TradeItem | None:
    """The trade item `product_id` names, or None when it is not GTIN-based."""
    epc = _EPC.match(product_id)
    if epc:
        return TradeItem(company_prefix=epc.group(1))
    if is_digital_link(product_id):
        try:
            return TradeItem(gtin14=parse(product_id).gtin)
        except InvalidDigitalLink:
            return None
    if _DIGITS.fullmatch(product_id) and len(product_id) in GTIN_LENGTHS:
        return TradeItem(gtin14=product_id.zfill(14))
    return None
