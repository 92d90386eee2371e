"""The read-only AAS repository (`/api/aas/`, IDTA-01002 Part 2 v3.0): the IDTA's own server check
(aas-test-engines) passes its read profiles against the app as `make run` serves it (the session's
local host over Azurite and the Cosmos stand-in is the same host `make run` starts); ids, paging,
the access policy and the discovery lookup behave as documented."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from aas_test_engines import api as aas_api
from aas_test_engines import config as aas_config
from aas_test_engines import http as aas_http

from shared.publication.aas_repository import PROFILES
from tests.support.documents import enc

_COLOUR = re.compile(r"\x1b\[[0-9;]*m")


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def shell_id(api: str, dpp_id: str) -> str:
    return f"{api}/v1/dpps/{enc(dpp_id)}/aas"


def submodel_id(api: str, dpp_id: str, short: str) -> str:
    return f"{api}/v1/dpps/{enc(dpp_id)}/submodels/{short}"


@pytest.fixture(scope="module")
def seeded(seed_copy: Any, derived: Any) -> dict[str, Any]:
    """Two copies of the seed passport (paging needs two), listed once derived data caught up."""
    first = seed_copy()
    seed_copy()
    derived()
    return first


def failures(result: Any, trail: tuple[str, ...] = ()) -> list[str]:
    """The checker's findings of level ERROR or worse, each with the steps that led to it."""
    from aas_test_engines.result import Level

    here = (*trail, result.message.strip())
    if result.level in (Level.ERROR, Level.CRITICAL) and not result.sub_results:
        return [" > ".join(here)]
    return [found for sub in result.sub_results for found in failures(sub, here)]


def server_check(api: str, suite: str) -> tuple[bool, str]:
    """aas-test-engines' server check of one profile against the session's host; its failures and
    its whole report (as the checker prints it) when it fails."""
    client = aas_http.HttpClient(f"{api}/aas")
    result, _ = aas_api.execute_tests(client, aas_config.CheckApiConfig(suite=suite))
    report = _COLOUR.sub("", "\n".join(result.to_lines()))
    return result.ok(), "\n".join(failures(result)) + "\n\n" + report


@pytest.mark.parametrize("profile", PROFILES[:2], ids=lambda profile: profile.split("/")[-2])
def test_the_idta_server_check_passes_the_read_profile(api, seeded, profile):
    ok, report = server_check(api, profile)
    assert ok, report
