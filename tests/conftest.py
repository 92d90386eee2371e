"""Test session: real Azurite and the real Cosmos-compatible server on free ports, the function
app served over real HTTP by the local host, and tokens from a throwaway dev issuer.

The app under test is built like the deployed one: one composition root (`root`) from settings,
handed to `create_app`. Tests that need a part of the service (the store, the signer) take it from
that same root, so what they change is what the served app uses.

Every test that uses the local servers (the `stack` fixture, directly or through another fixture)
is marked `stack`; `pytest -m "not stack"` runs the rest, which need nothing but Python.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

from local.run import SEED_COMPANY_PREFIXES, SEED_OPERATOR, SEED_PREFIXES
from local.run import assign_namespaces as assign
from tests.support.documents import (
    OWNER,
    OWNER_COMPANY_PREFIXES,
    OWNER_PREFIXES,
    enc,
    load_fixture,
    make_passport,
    namespace,
)

if TYPE_CHECKING:
    from shared.composition import Root

STACK_FIXTURE = "stack"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if STACK_FIXTURE in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.stack)


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
def pages() -> Iterator[Any]:
    """A static web server for pages of other origins (bound before the app, which lists one of
    its origins in DPP_CORS_ORIGINS)."""
    from tests.support.browser import PageServer

    with PageServer() as server:
        yield server


@pytest.fixture(scope="session")
def app_env(stack: Any, issuer_dir: Path, pages: Any) -> dict[str, str]:
    """The settings `make run` gives the app, in this process's environment too (subprocesses
    such as a second worker or the CLI inherit them)."""
    from local.run import dev_environment
    from tests.support.ports import free_port

    env = {
        **dev_environment(stack.env(), issuer_dir),
        "COSMOS_DATABASE": f"test-{uuid.uuid4().hex[:8]}",
        "DPP_CORS_ORIGINS": pages.origin("app"),
        # Where `api` serves the app: every URL and DID it writes names this, whatever Host says.
        "DPP_PUBLIC_URL": f"http://127.0.0.1:{free_port()}",
    }
    os.environ.update(env)
    return env


# Economic operators the tests create passports for, besides OWNER, and the reference sample's.
OTHER_OPERATORS = ("did:example:other-operator", "did:example:other")
REFERENCE_OPERATOR, REFERENCE_PREFIX = "gxx:ppp456789", "https://www.example.org/"


@pytest.fixture(scope="session")
def root(app_env: dict[str, str]) -> Root:
    """The composition root of the app under test, with the test operators' namespaces assigned."""
    from functions import app_root
    from shared.platform.settings import load_settings

    built = app_root(load_settings(app_env))
    assign(built, OWNER, [namespace(OWNER), *OWNER_PREFIXES], list(OWNER_COMPANY_PREFIXES))
    for operator in OTHER_OPERATORS:
        assign(built, operator, [namespace(operator)])
    assign(built, REFERENCE_OPERATOR, [REFERENCE_PREFIX])
    assign(built, SEED_OPERATOR, SEED_PREFIXES, SEED_COMPANY_PREFIXES)
    return built


@pytest.fixture
def namespaced(root: Root) -> Callable[[str], str]:
    """Give an economic operator the tests' namespace of its own (see `namespace`); returns it."""

    def give(operator_id: str) -> str:
        assign(root, operator_id, [namespace(operator_id)])
        return operator_id

    return give


@pytest.fixture(scope="session")
def app(root: Root) -> Any:
    """The function app under test, built from `root` as function_app.py builds the deployed one."""
    from functions import create_app

    return create_app(root)


@pytest.fixture(scope="session")
def app_functions(app: Any) -> list[Any]:
    """The functions the app registered, as a Functions host indexes them."""
    from local.host.functions_index import registered_functions

    return registered_functions(app)


# How often the tests' host polls for the change feed (make run: every 1 s).
TEST_COSMOS_POLL_SECONDS = 0.2


@pytest.fixture(scope="session")
def host_server(app: Any, root: Root) -> Iterator[tuple[Any, str]]:
    """The local host serving the app over real HTTP at its public URL, with its Cosmos DB trigger
    (derived data: search, relations) emulated; and its base URL."""
    from urllib.parse import urlsplit

    from functions.routes import ROUTE_PREFIX
    from local.host.server import start_in_thread

    port = urlsplit(root.settings.public_url).port
    server, base = start_in_thread(
        app,
        port=port or 0,
        route_prefix=ROUTE_PREFIX,
        cosmos_triggers=True,
        cosmos_poll_seconds=TEST_COSMOS_POLL_SECONDS,
    )
    assert server.cosmos_triggers is not None and not server.cosmos_triggers.errors
    yield server, base
    server.shutdown()


@pytest.fixture(scope="session")
def api(host_server: tuple[Any, str]) -> str:
    """Base URL of the API (with the /api prefix)."""
    from functions.routes import API

    return f"{host_server[1]}/{API}"


@pytest.fixture(scope="session")
def derived(host_server: tuple[Any, str]) -> Callable[..., None]:
    """Wait until derived data (search, reverse relations) has caught up with every write made
    before the call: bounded by the documented lag (after a single write), never a sleep."""
    from shared.publication.derived import LOCAL_LAG_SECONDS

    triggers = host_server[0].cosmos_triggers

    def wait(seconds: float = LOCAL_LAG_SECONDS) -> None:
        # A backlog (a bulk load just before) takes longer: its callers say how much longer.
        assert triggers.caught_up(seconds), f"derived data did not catch up within {seconds} s"

    return wait


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, driven through chromium-driver."""
    from tests.support.browser import chromium

    with chromium() as driver:
        yield driver


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


@pytest.fixture
def create(api: str, http: requests.Session, auth: dict[str, str]) -> Callable[..., dict[str, Any]]:
    """Create a passport through the API and return the document sent."""

    def _create(document: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
        document = document if document is not None else make_passport(**overrides)
        response = http.post(f"{api}/v1/dpps", json=document, headers=auth)
        assert response.status_code == 201, response.text
        return document

    return _create


@pytest.fixture(scope="session")
def seed_copy(api: str, http: requests.Session, token: Callable[..., str]) -> Callable[..., dict[str, Any]]:
    """Store a copy of `make run`'s seed passport under fresh ids (`edit` may change it first)."""
    from local.run import SEED

    def copy(edit: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
        document = json.loads(SEED.read_text(encoding="utf-8"))
        suffix = uuid.uuid4().hex[:8]
        document["digitalProductPassportId"] += f"-{suffix}"
        document["uniqueProductIdentifier"] += f"-{suffix}"
        if edit is not None:
            edit(document)
        owner = {"Authorization": f"Bearer {token('operator', operator=document['economicOperatorId'])}"}
        response = http.post(f"{api}/v1/dpps", json=document, headers=owner)
        assert response.status_code == 201, response.text
        return document

    return copy


@pytest.fixture
def reference_sample(api: str, http: requests.Session, token: Callable[..., str]) -> tuple[dict, dict]:
    """The reference implementation's sample passport, stored once; with its owner's headers."""
    sample = load_fixture("reference/basyx-sample-dpp.json")
    owner = {"Authorization": f"Bearer {token('operator', operator=sample['economicOperatorId'])}"}
    if http.get(f"{api}/v1/dpps/{enc(sample['digitalProductPassportId'])}").status_code == 404:
        response = http.post(f"{api}/v1/dpps", json=sample, headers=owner)
        assert response.status_code == 201, response.text
    return sample, owner
