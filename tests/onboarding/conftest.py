"""Fixtures of the onboarding tests."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def new_import(api, http, auth):
    def start(file_name: str, mapping: Any = None, headers: dict[str, str] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"fileName": file_name}
        if mapping is not None:
            body["mapping"] = mapping
        response = http.post(f"{api}/v1/imports", json=body, headers=headers or auth)
        assert response.status_code == 201, response.text
        return response.json()

    return start
