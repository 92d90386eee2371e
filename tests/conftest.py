"""Test session: real Azurite and the real Cosmos-compatible server on free ports, the function
app served over real HTTP by the local host, and tokens from a throwaway dev issuer."""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
sys.path.insert(0, str(REPO))

OWNER = "did:example:operator:acme"


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from local.stack import start_stack

    running = start_stack(tmp_path_factory.mktemp("stack"))
    yield running
    running.stop()


@pytest.fixture(scope="session")
def issuer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from local.tokens import ensure_issuer

    directory = tmp_path_factory.mktemp("issuer")
    ensure_issuer(directory)
    return directory


@pytest.fixture(scope="session")
def app_env(stack: Any, issuer_dir: Path) -> dict[str, str]:
    """Configure this process like `make run` configures the app (settings are read once)."""
    from local.run import dev_environment
    from shared.artifacts import get_artifact_store
    from shared.blob_storage import get_blob_service
    from shared.config import settings
    from shared.service import get_service
    from shared.signing import get_sealer
    from shared.store import get_store

    env = {**dev_environment(stack.env(), issuer_dir), "COSMOS_DATABASE": f"test-{uuid.uuid4().hex[:8]}"}
    os.environ.update(env)
    for cached in (settings, get_store, get_sealer, get_service, get_blob_service, get_artifact_store):
        cached.cache_clear()
    return env


@pytest.fixture(scope="session")
def api(app_env: dict[str, str]) -> Iterator[str]:
    """Base URL of the API (with the /api prefix), served by the local host over real HTTP."""
    from function_app import app
    from local.host import start_in_thread

    server, base = start_in_thread(app)
    yield f"{base}/api"
    server.shutdown()


@pytest.fixture(scope="session")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


@pytest.fixture(scope="session")
def token(issuer_dir: Path) -> Callable[..., str]:
    from local.tokens import mint

    def make(roles: str | list[str] = "operator", operator: str | None = OWNER, **kwargs: Any) -> str:
        role_list = [roles] if isinstance(roles, str) else roles
        return mint(issuer_dir, roles=role_list, operator=operator, **kwargs)

    return make


@pytest.fixture(scope="session")
def auth(token: Callable[..., str]) -> dict[str, str]:
    """Headers of the default owner (role operator, economic operator OWNER)."""
    return {"Authorization": f"Bearer {token()}"}


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


@pytest.fixture
def create(api: str, http: requests.Session, auth: dict[str, str]) -> Callable[..., dict[str, Any]]:
    """Create a passport through the API and return the document sent."""

    def _create(document: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
        document = document if document is not None else make_passport(**overrides)
        response = http.post(f"{api}/v1/dpps", json=document, headers=auth)
        assert response.status_code == 201, response.text
        return document

    return _create


def load_fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture
def reference_sample(api: str, http: requests.Session, token: Callable[..., str]) -> tuple[dict, dict]:
    """The reference implementation's sample passport, stored once; with its owner's headers."""
    sample = load_fixture("reference/basyx-sample-dpp.json")
    owner = {"Authorization": f"Bearer {token('operator', operator=sample['economicOperatorId'])}"}
    if http.get(f"{api}/v1/dpps/{enc(sample['digitalProductPassportId'])}").status_code == 404:
        response = http.post(f"{api}/v1/dpps", json=sample, headers=owner)
        assert response.status_code == 201, response.text
    return sample, owner
