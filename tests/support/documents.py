"""Passport documents and ids for tests: a fresh valid passport, the default owner, fixtures."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

REPO = Path(__file__).resolve().parent.parent.parent
FIXTURES = REPO / "tests" / "fixtures"

OWNER = "did:example:operator:acme"


def enc(value: str) -> str:
    """Percent-encode an id as ONE path segment."""
    return quote(value, safe="")


def make_passport(**overrides: Any) -> dict[str, Any]:
    suffix = uuid.uuid4().hex[:12]
    document: dict[str, Any] = {
        "digitalProductPassportId": f"urn:test:dpp/{suffix}#p",
        "uniqueProductIdentifier": f"https://id.example.org/01/0950000{suffix}/21/1",
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
