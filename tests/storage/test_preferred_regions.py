"""Reads go to the regions the settings name, nearest first (COSMOS_PREFERRED_REGIONS; Bicep sets
the deployment's region, then its Cosmos DB read regions)."""

from __future__ import annotations

from typing import Any

import pytest

from shared.platform.settings import load_settings
from shared.storage.cosmos import SDK_TIMEOUTS, Store


class _Recorder:
    def __init__(self) -> None:
        self.kwargs: dict[str, Any] = {}

    def __call__(self, url: str, credential: Any, **kwargs: Any) -> Any:
        self.kwargs = kwargs
        return self

    def get_database_client(self, name: str) -> Any:
        return self

    def get_container_client(self, name: str) -> str:
        return name


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("westeurope, North Europe ,", ["westeurope", "North Europe"]),
        ("", []),  # none named: the SDK follows the account's own order (and a list, never None)
    ],
)
def test_the_cosmos_client_prefers_the_regions_the_settings_name(monkeypatch, raw, expected):
    import azure.cosmos

    recorder = _Recorder()
    monkeypatch.setattr(azure.cosmos, "CosmosClient", recorder)
    config = load_settings(
        {
            "COSMOS_ENDPOINT": "https://account.documents.azure.com",
            "COSMOS_KEY": "k",
            "COSMOS_PREFERRED_REGIONS": raw,
        }
    )
    Store(config).container("passports")
    assert recorder.kwargs["preferred_locations"] == expected
    # the outage timeouts another change set stay as they are
    assert {name: recorder.kwargs[name] for name in SDK_TIMEOUTS} == SDK_TIMEOUTS
