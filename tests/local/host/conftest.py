"""The toy app (toy_app.py) served by the local host over real HTTP, once per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from local.host.server import start_in_thread
from tests.local.host.toy_app import KEY, Served, build_app


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LOCAL_FUNCTIONS_KEY", KEY)  # read when the host is built
        app = build_app()
        server, base = start_in_thread(app)
    yield Served(app, server, f"{base}/api", server.server_address[1])
    server.shutdown()


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as http_session:
        yield http_session
