"""The Akeneo connector against an independent Akeneo-compatible server, PyPI's akeneo-mock-server
(tests/support/akeneo_mock.py), which implements Akeneo's REST API from Akeneo's own OpenAPI
description: the catalogue is written through its API as a PIM user's tools would, and the
connector reads it back into passports. A missing server fails these tests rather than skipping
them (`make setup` installs it)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.connectors.test_akeneo_sync import (
    _principal,
    connector_config,
    connectors_for,
    head,
    sync,
    unique_eans,
    versions,
)
from tests.support.akeneo_mock import akeneo_mock_server

FAMILY = "polo_shirts"
ATTRIBUTES = {
    "sku": ("pim_catalog_identifier", False, False),
    "name": ("pim_catalog_text", True, False),
    "description": ("pim_catalog_textarea", True, True),
    "brand": ("pim_catalog_text", False, False),
    "ean": ("pim_catalog_text", False, False),
    "weight": ("pim_catalog_metric", False, False),
    "tumble_dry": ("pim_catalog_boolean", False, False),
}


class Catalogue:
    """Writes to the server's REST API (its writes accept any bearer token).

    Akeneo sets a product's `updated` itself on every save; this server keeps whatever the client
    sends (nothing, when nothing is sent, and then no `updated` filter ever matches), so the
    catalogue sends the moment of each save, as Akeneo would record it."""

    def __init__(self, base: str):
        self.base = f"{base}/api/rest/v1"
        self.http = requests.Session()
        self.http.headers["Authorization"] = "Bearer catalogue-manager"

    def _check(self, response: requests.Response) -> None:
        assert response.status_code in (201, 204), (response.status_code, response.text)

    def setup(self) -> None:
        for code, (kind, localizable, scopable) in ATTRIBUTES.items():
            body: dict[str, Any] = {
                "code": code,
                "type": kind,
                "group": "other",
                "localizable": localizable,
                "scopable": scopable,
            }
            if kind == "pim_catalog_metric":
                body |= {"metric_family": "Weight", "default_metric_unit": "GRAM", "decimals_allowed": True}
            self._check(self.http.post(f"{self.base}/attributes", json=body))
        family = {"code": FAMILY, "attributes": list(ATTRIBUTES), "attribute_as_label": "name"}
        self._check(self.http.post(f"{self.base}/families", json=family))

    @staticmethod
    def product(identifier: str, name: str, ean: str) -> dict[str, Any]:
        def value(data: Any, locale: str | None = None, scope: str | None = None) -> list[dict[str, Any]]:
            return [{"locale": locale, "scope": scope, "data": data}]

        now = datetime.now(UTC).isoformat(timespec="seconds")
        return {
            "identifier": identifier,
            "updated": now,
            "family": FAMILY,
            "enabled": True,
            "values": {
                "name": value(name, "en_US")
                + value(f"{name} (de)", "de_DE")
                + value(f"{name} (fr)", "fr_FR"),
                "description": value("For the web shop", "en_US", "ecommerce")
                + value("For the catalogue", "en_US", "print"),
                "brand": value("PierrieCardin"),
                "ean": value(ean),
                "weight": value({"amount": "180.0000", "unit": "GRAM"}),
                "tumble_dry": value(False),
            },
        }

    def create(self, identifier: str, name: str, ean: str) -> None:
        self._check(self.http.post(f"{self.base}/products", json=self.product(identifier, name, ean)))

    def change(self, identifier: str, name: str, ean: str) -> None:
        url = f"{self.base}/products/{identifier}"
        self._check(self.http.patch(url, json=self.product(identifier, name, ean)))

    def delete(self, identifier: str) -> None:
        self._check(self.http.delete(f"{self.base}/products/{identifier}"))


@pytest.fixture(scope="module")
def mock_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory: Path = tmp_path_factory.mktemp("akeneo-mock")
    with akeneo_mock_server(directory) as base:
        Catalogue(base).setup()
        yield base


def test_products_created_changed_and_removed_in_an_akeneo_compatible_server_reach_passports(
    root, http, api, mock_server
):
    catalogue = Catalogue(mock_server)
    a, b, c, d = unique_eans(4)
    for identifier, name, ean in (("MOCK-A", "Polo A", a), ("MOCK-B", "Polo B", b), ("MOCK-C", "Polo C", c)):
        catalogue.create(identifier, name, ean)
    # Two products a page: the server's own next links are followed.
    config = connector_config(mock_server, page_size=2, media={})
    connectors = connectors_for(root, config)

    first = sync(connectors, config.id)
    assert (first["mode"], first["created"], first["failed"]) == ("full", 3, 0), first
    nameplate = head(root, a)["document"]["nameplate"]
    assert [name["language"] for name in nameplate["ProductName"]] == ["en-US", "de-DE"]
    assert nameplate["ProductDescription"] == [{"value": "For the web shop", "language": "en-US"}]
    assert nameplate["WeightKg"] == 0.18

    catalogue.change("MOCK-B", "Polo B renamed", b)
    catalogue.create("MOCK-D", "Polo D", d)
    catalogue.delete("MOCK-C")
    second = sync(connectors, config.id)
    assert second["mode"] == "incremental"
    assert (second["created"], second["updated"], second["failed"]) == (1, 1, 0), second
    assert head(root, b)["document"]["nameplate"]["ProductName"][0]["value"] == "Polo B renamed"
    assert len(versions(http, api, head(root, a)["dppId"])) == 1

    third = sync(connectors, config.id, full=True)
    assert (third["removed"], third["created"], third["updated"]) == (1, 0, 0), third
    assert connectors.find(config.id, third["syncId"], _principal())["removed"] == 1
    assert head(root, c)["lifecycle"]["status"] == "Valid"  # reported, left as it is
