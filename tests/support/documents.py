"""Passport documents and ids for tests: a fresh valid passport, the default owner, fixtures."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

REPO = Path(__file__).resolve().parent.parent.parent
FIXTURES = REPO / "tests" / "fixtures"

OWNER = "did:example:operator:acme"
# What test passports of OWNER may also be called by, and the GS1 company prefixes of the Pimcore
# import fixture (5901234) and of generated GTINs (9506). The Akeneo fixture (4012345) is the
# seed operator's, as `make run` assigns it.
OWNER_PREFIXES = ("urn:acme:",)
OWNER_COMPANY_PREFIXES = ("5901234", "9506")


def namespace(operator_id: str) -> str:
    """The product id prefix the tests assign an economic operator: one of its own per operator."""
    return f"https://id.example.org/{hashlib.sha256(operator_id.encode()).hexdigest()[:12]}/"


def enc(value: str) -> str:
    """Percent-encode an id as ONE path segment."""
    return quote(value, safe="")


def make_passport(**overrides: Any) -> dict[str, Any]:
    """A valid passport; its product id lies in the namespace of its economic operator."""
    suffix = uuid.uuid4().hex[:12]
    operator = overrides.get("economicOperatorId", OWNER)
    document: dict[str, Any] = {
        "digitalProductPassportId": f"urn:test:dpp/{suffix}#p",
        "uniqueProductIdentifier": f"{namespace(operator) if isinstance(operator, str) else ''}item/{suffix}",
        "granularity": "Item",
        "dppSchemaVersion": "EN18223:v1.0",
        "dppStatus": "Active",
        "economicOperatorId": OWNER,
        "contentSpecificationIds": ["https://spec.example.org/Nameplate/1"],
        "nameplate": {"ManufacturerName": "ACME", "Materials": [{"name": "Cotton", "share": 0.95}]},
    }
    document.update(overrides)
    return document


def load_fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def gtin14(body: str) -> str:
    """A GTIN-14 of 13 digits plus its GS1 check digit (mod 10, weights 3 and 1 from the right)."""
    total = sum(int(digit) * (3 if position % 2 == 0 else 1) for position, digit in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)
