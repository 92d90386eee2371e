"""The Akeneo connector end to end: a TEST DOUBLE of Akeneo's REST API (tests/support/akeneo_double.py,
a real HTTP server), the connector's OAuth and paging over the outbound client, and the writes into
passports against Azurite and the Cosmos-compatible server, through the same path as a file import."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from shared.connectors.akeneo import AkeneoSource
from shared.connectors.config import ConnectorConfig, Credentials, Secret, parse_connectors
from shared.connectors.sync import Connectors
from shared.onboarding.sweeper import JobSweeper
from tests.support.akeneo_double import AkeneoDouble
from tests.support.documents import OWNER, REPO, enc, gtin14
from tests.support.results import assert_result

CLIENT_ID, SECRET, USERNAME, PASSWORD = (
    "dpp_connector_1",
    "s3cr3t-client-Zq9",
    "dpp_api_user",
    "pw-Hunter2-Xk7",
)
FAMILY = "polo_shirts"
CARE_LABEL = (b"%PDF-1.4 care label v1\n", "application/pdf")


def values(name: str, ean: str, **extra: Any) -> dict[str, list[dict[str, Any]]]:
    """Akeneo product values: `name` in three locales, a description per channel, a metric."""
    plain = {
        "brand": "PierrieCardin",
        "color": "green",
        "ean": ean,
        "material_composition": "95% organic cotton, 5% elastane",
        "certifications": ["gots", "oeko_tex_100"],
        "tumble_dry": False,
        **extra,
    }
    result: dict[str, list[dict[str, Any]]] = {
        code: [{"locale": None, "scope": None, "data": data}] for code, data in plain.items()
    }
    result["name"] = [
        {"locale": "en_US", "scope": None, "data": name},
        {"locale": "de_DE", "scope": None, "data": f"{name} (de)"},
        {"locale": "fr_FR", "scope": None, "data": f"{name} (fr)"},
    ]
    result["description"] = [
        {"locale": "en_US", "scope": "ecommerce", "data": "For the web shop"},
        {"locale": "en_US", "scope": "print", "data": "For the catalogue"},
    ]
    result["weight"] = [{"locale": None, "scope": None, "data": {"amount": "180.0000", "unit": "GRAM"}}]
    return result


@pytest.fixture
def pim() -> Iterator[AkeneoDouble]:
    with AkeneoDouble(CLIENT_ID, SECRET, USERNAME, PASSWORD) as double:
        for code, kind in {
            "name": "pim_catalog_text",
            "description": "pim_catalog_textarea",
            "brand": "pim_catalog_text",
            "color": "pim_catalog_simpleselect",
            "ean": "pim_catalog_text",
            "material_composition": "pim_catalog_text",
            "certifications": "pim_catalog_multiselect",
            "tumble_dry": "pim_catalog_boolean",
            "weight": "pim_catalog_metric",
            "care_label": "pim_catalog_file",
        }.items():
            double.attribute(
                code, kind, localizable=code in ("name", "description"), scopable=code == "description"
            )
        double.family(FAMILY, list(double.attributes))
        double.media["4/2/a/b/42ab_care.pdf"] = CARE_LABEL
        yield double


def connector_config(base_url: str, **changes: Any) -> ConnectorConfig:
    config = ConnectorConfig(
        id=f"akeneo-{uuid.uuid4().hex[:8]}",
        kind="akeneo",
        base_url=base_url,
        economic_operator_id=OWNER,
        client_id=CLIENT_ID,
        username=USERNAME,
        channel="ecommerce",
        locales=("en_US", "de_DE"),
        media={"care_label": "repair"},
        credentials=Credentials(Secret(SECRET), Secret(PASSWORD)),
    )
    return replace(config, **changes)


def connectors_for(
    root: Any, config: ConnectorConfig, clock: Callable[[], datetime] | None = None
) -> Connectors:
    """The connectors part as the composition root builds it, for this one connector."""
    return Connectors(
        {config.id: config},
        lambda c: AkeneoSource(c, root.connector_outbound),
        imports=root.imports,
        service=root.service,
        store=root.store,
        blobs=root.blobs,
        concurrency=4,
        **({"clock": clock} if clock else {}),
    )


def sync(connectors: Connectors, connector_id: str, full: bool = False) -> dict[str, Any]:
    """Ask for a sync as its operator would and run it as the timer does; its status."""
    operator = _principal()
    job = connectors.request(connector_id, {"full": True} if full else None, operator)
    assert connectors.run(job["jobId"]) == "done"
    return connectors.status(connectors.find(connector_id, job["jobId"], operator))


def _principal() -> Any:
    from shared.access.authentication import Principal

    return Principal("operator-user", frozenset({"operator"}), OWNER)


def unique_eans(n: int) -> list[str]:
    """GTIN-14s of OWNER's company prefix 9506, from a random run of item references."""
    first = int(uuid.uuid4().int % (10**8 - n))
    return [gtin14(f"19506{first + i:08d}") for i in range(n)]


def product_id(ean: str) -> str:
    return f"https://id.gs1.org/01/{ean}"


def head(root: Any, ean: str) -> Any:
    return root.service.passports.live_head_for_product(product_id(ean))


def versions(http: requests.Session, api: str, dpp_id: str) -> list[dict[str, Any]]:
    return http.get(f"{api}/v1/dpps/{enc(dpp_id)}/history").json()["versions"]


def report(http: requests.Session, status: dict[str, Any]) -> dict[str, Any]:
    response = http.get(status["report"])
    assert response.status_code == 200, response.text
    return dict(response.json())


# -- created, changed, removed ---------------------------------------------------------------------


def test_products_created_changed_and_removed_in_the_pim_reach_passports(root, api, http, pim):
    a, b, c, d = unique_eans(4)
    pim.put("POLO-A", FAMILY, values("Polo A", a, care_label="4/2/a/b/42ab_care.pdf"))
    pim.put("POLO-B", FAMILY, values("Polo B", b))
    pim.put("POLO-C", FAMILY, values("Polo C", c))
    config = connector_config(pim.base_url)
    connectors = connectors_for(root, config)

    first = sync(connectors, config.id)
    assert (first["state"], first["mode"], first["created"], first["failed"]) == ("done", "full", 3, 0)
    polo_a = http.get(f"{api}/v1/dppsByProductId/{enc(product_id(a))}").json()
    # Locale-aware: fr_FR is not among the connector's locales; channel-aware: the web shop's text.
    assert polo_a["nameplate"]["ProductName"] == [
        {"value": "Polo A", "language": "en-US"},
        {"value": "Polo A (de)", "language": "de-DE"},
    ]
    assert polo_a["nameplate"]["ProductDescription"] == [{"value": "For the web shop", "language": "en-US"}]
    assert polo_a["nameplate"]["WeightKg"] == 0.18 and polo_a["economicOperatorId"] == OWNER
    # The media file is the passport's repair artifact, byte for byte.
    reference = head(root, a)["artifacts"]["repair"]
    assert root.artifacts.read(reference) == CARE_LABEL[0] and reference["mediaType"] == "application/pdf"
    versions_of_a = len(versions(http, api, head(root, a)["dppId"]))

    pim.put("POLO-B", FAMILY, values("Polo B renamed", b))
    pim.put("POLO-D", FAMILY, values("Polo D", d))
    pim.delete("POLO-C")
    second = sync(connectors, config.id)
    assert second["mode"] == "incremental" and second["since"] is not None
    # A (unchanged, its media too) writes nothing; B is updated; D is created.
    assert (second["created"], second["updated"], second["unchanged"], second["failed"]) == (1, 1, 1, 0)
    assert head(root, b)["document"]["nameplate"]["ProductName"][0]["value"] == "Polo B renamed"
    assert head(root, d) is not None
    assert len(versions(http, api, head(root, a)["dppId"])) == versions_of_a
    # The incremental sync asked only for what changed since the first one started (less the overlap).
    searched = [r["query"].get("search") for r in pim.requests if r["path"] == "/api/rest/v1/products"]
    assert searched[0] is None and json.loads(searched[-1])["updated"][0]["operator"] == ">"

    # Removal shows on the full pass: reported, the passport left as it is (the default policy).
    third = sync(connectors, config.id, full=True)
    assert (third["mode"], third["removed"], third["unchanged"]) == ("full", 1, 3)
    (removed,) = report(http, third)["removed"]
    assert (removed["identifier"], removed["action"]) == ("POLO-C", "reported")
    assert head(root, c)["lifecycle"]["status"] == "Valid"


def test_the_revoke_policy_revokes_a_passport_whose_product_left_the_pim(root, http, pim):
    (ean,) = unique_eans(1)
    pim.put("POLO-GONE", FAMILY, values("Polo gone", ean))
    config = connector_config(pim.base_url, removed="revoke")
    connectors = connectors_for(root, config)
    assert sync(connectors, config.id)["created"] == 1
    pim.delete("POLO-GONE")
    status = sync(connectors, config.id, full=True)
    (removed,) = report(http, status)["removed"]
    assert (removed["identifier"], removed["action"]) == ("POLO-GONE", "revoked")
    assert head(root, ean)["lifecycle"]["status"] == "Revoked"
    assert head(root, ean)["document"]["dppStatus"] == "Revoked"


# -- failures --------------------------------------------------------------------------------------


def test_a_failing_product_is_reported_and_the_sync_goes_on(root, http, pim):
    good, litres, good_too = unique_eans(3)
    pim.put("POLO-1", FAMILY, values("Polo 1", good))
    bad = values("Polo 2", litres)
    bad["weight"] = [{"locale": None, "scope": None, "data": {"amount": "1", "unit": "LITER"}}]
    pim.put("POLO-2", FAMILY, bad)
    pim.put("POLO-3", FAMILY, values("Polo 3", good_too))
    config = connector_config(pim.base_url, page_size=2)
    status = sync(connectors_for(root, config), config.id)
    assert (status["created"], status["failed"]) == (2, 1)
    (failure,) = status["failures"]
    assert (failure["identifier"], failure["column"]) == ("POLO-2", "weight-unit") and "volume" in failure[
        "reason"
    ]
    assert report(http, status)["failures"][0]["identifier"] == "POLO-2"
    assert head(root, good) is not None and head(root, good_too) is not None and head(root, litres) is None


def test_an_interrupted_sync_resumes_from_its_cursor_with_no_duplicate_and_no_loss(root, http, api, pim):
    eans = unique_eans(7)
    for index, ean in enumerate(eans):
        pim.put(f"SKU-{index}", FAMILY, values(f"Polo {index}", ean))
    config = connector_config(pim.base_url, page_size=3, media={})
    connectors = connectors_for(root, config)
    job = connectors.request(config.id, None, _principal())
    pim.fail_page(2)  # the PIM fails while paging: after the first page's checkpoint ...
    pim.fail_page(4)  # ... and again once the sweeper has resumed it

    assert connectors.run(job["jobId"]) == "interrupted"
    stopped = connectors.find(config.id, job["jobId"], _principal())
    assert (stopped["state"], stopped["processed"], stopped["lastIdentifier"]) == ("running", 3, "SKU-2")
    assert [head(root, ean) is not None for ean in eans] == [True] * 3 + [False] * 4
    # A product created meanwhile, after the cursor, is not lost either.
    (late,) = unique_eans(1)
    pim.put("SKU-9", FAMILY, values("Polo late", late))

    asked_before = len(pim.requests)
    # The sweeper hands the sync (its lease given up) back to the connectors, which resume it ...
    sweeper = JobSweeper(root.store, root.imports, root.exports, syncs=connectors)
    assert sweeper.sweep(datetime.now(UTC) + timedelta(seconds=1)).get("interrupted") == 1
    resumed = [r for r in pim.requests[asked_before:] if r["path"] == "/api/rest/v1/products"]
    # ... at the PIM's own next link, after the last identifier of the checkpoint.
    assert [r["query"]["search_after"] for r in resumed] == ["SKU-2", "SKU-5"]
    assert connectors.find(config.id, job["jobId"], _principal())["processed"] == 6
    # The timer resumes it too, at the second checkpoint.
    assert connectors.tick() == {config.id: "done"}
    done = connectors.status(connectors.find(config.id, job["jobId"], _principal()))
    assert (done["state"], done["created"], done["failed"], done["processed"]) == ("done", 8, 0, 8)
    for ean in [*eans, late]:
        assert len(versions(http, api, head(root, ean)["dppId"])) == 1


def test_a_sync_whose_worker_was_killed_after_a_checkpoint_is_taken_over_there(root, http, api, pim):
    """A real worker process, stopped with SIGKILL mid-sync; the sweeper's take-over (here, with
    a clock past the lease) resumes at the checkpoint: no duplicate version, no lost product."""
    eans = unique_eans(6)
    for index, ean in enumerate(eans):
        pim.put(f"K-{index}", FAMILY, values(f"Polo {index}", ean))
    config = connector_config(pim.base_url, page_size=2, media={})
    settings = {
        "DPP_CONNECTORS": json.dumps(
            [
                {
                    "id": config.id,
                    "baseUrl": pim.base_url,
                    "economicOperatorId": OWNER,
                    "clientId": CLIENT_ID,
                    "username": USERNAME,
                    "channel": "ecommerce",
                    "locales": ["en_US", "de_DE"],
                    "pageSize": 2,
                }
            ]
        ),
        "DPP_CONNECTOR_SECRETS": json.dumps({config.id: {"clientSecret": SECRET, "password": PASSWORD}}),
    }
    job = connectors_for(root, config).request(config.id, None, _principal())
    pim.page_delay = 2.0  # slow pages: the worker is killed while it waits for one
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, job["jobId"]], cwd=REPO, env={**os.environ, **settings}
    )
    try:
        deadline = time.monotonic() + 60
        while connectors_for(root, config).find(config.id, job["jobId"], _principal())["processed"] < 2:
            assert worker.poll() is None and time.monotonic() < deadline, "the worker ended early"
            time.sleep(0.2)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        worker.kill()
    pim.page_delay = 0.0
    stopped = connectors_for(root, config).find(config.id, job["jobId"], _principal())
    assert stopped["state"] == "running" and 2 <= stopped["processed"] < 6

    later = connectors_for(root, config, clock=lambda: datetime.now(UTC) + timedelta(minutes=6))
    assert later.take_over(stopped) == "done"
    done = later.status(later.find(config.id, job["jobId"], _principal()))
    assert (done["state"], done["created"] + done["unchanged"], done["failed"]) == ("done", 6, 0)
    for ean in eans:
        assert len(versions(http, api, head(root, ean)["dppId"])) == 1


WORKER = """
import sys
from shared.composition import Root
from shared.platform.settings import load_settings
Root(load_settings()).connectors.run(sys.argv[1])
"""


# -- credentials -----------------------------------------------------------------------------------


def test_the_token_is_asked_for_as_akeneo_documents_and_renewed_after_a_401(root, pim):
    (ean,) = unique_eans(1)
    pim.put("TOKEN-1", FAMILY, values("Polo", ean))
    config = connector_config(pim.base_url, media={})
    connectors = connectors_for(root, config)
    sync(connectors, config.id)
    (grant,) = [r for r in pim.requests if r["method"] == "POST"]
    assert grant["path"] == "/api/oauth/v1/token"
    assert json.loads(grant["body"]) == {"grant_type": "password", "username": USERNAME, "password": PASSWORD}
    (second,) = unique_eans(1)
    pim.put("TOKEN-1", FAMILY, values("Polo renamed", ean))
    pim.put("TOKEN-2", FAMILY, values("Polo 2", second))
    # The token stops working between two pages of one sync: one new token, and the sync goes on.
    pim.revoke_before_page = pim.product_pages_served + 2
    status = sync(connectors_for(root, replace(config, page_size=1)), config.id)
    assert (status["updated"], status["created"]) == (1, 1)
    assert len([r for r in pim.requests if r["method"] == "POST"]) == 3


def test_values_of_other_channels_and_locales_are_left_out_even_when_the_pim_sends_them(root, pim):
    (ean,) = unique_eans(1)
    product = values("Polo", ean)
    # A scopable file: the web shop's care label, and the printed catalogue's.
    product["care_label"] = [
        {"locale": None, "scope": "ecommerce", "data": "4/2/a/b/42ab_care.pdf"},
        {"locale": None, "scope": "print", "data": "9/9/print_care.pdf"},
    ]
    pim.media["9/9/print_care.pdf"] = (b"%PDF-1.4 print version\n", "application/pdf")
    pim.put("FILTERS-1", FAMILY, product)
    pim.ignore_value_filters = True
    config = connector_config(pim.base_url)
    assert sync(connectors_for(root, config), config.id)["created"] == 1
    passport = head(root, ean)
    assert root.artifacts.read(passport["artifacts"]["repair"]) == CARE_LABEL[0]
    nameplate = passport["document"]["nameplate"]
    assert [name["language"] for name in nameplate["ProductName"]] == ["en-US", "de-DE"]
    assert nameplate["ProductDescription"] == [{"value": "For the web shop", "language": "en-US"}]


def test_the_secret_never_reaches_a_log_a_job_or_a_report(root, http, pim, caplog):
    caplog.set_level(logging.DEBUG)
    (ean,) = unique_eans(1)
    pim.put("SECRET-1", FAMILY, values("Polo", ean))
    config = connector_config(pim.base_url)
    connectors = connectors_for(root, config)
    status = sync(connectors, config.id)
    pim.revoke_tokens()
    pim.fail_page(1)
    job = connectors.request(config.id, None, _principal())
    assert connectors.run(job["jobId"]) == "interrupted"
    wrong = replace(config, credentials=Credentials(Secret(SECRET), Secret(PASSWORD + "-old")))
    assert connectors_for(root, wrong).run(job["jobId"]) == "interrupted"
    stored = json.dumps(root.store.read("jobs", "job", job["jobId"]))
    assert "422" in stored  # the token request's refusal is recorded ...
    shown = caplog.text + stored + json.dumps(report(http, status)) + repr(config) + repr(root.settings)
    for secret in (SECRET, PASSWORD, PASSWORD + "-old"):
        assert secret not in shown  # ... but no credential, anywhere


def test_a_next_link_to_another_origin_is_refused_before_the_token_goes_there(root, pim):
    eans = unique_eans(3)
    for index, ean in enumerate(eans):
        pim.put(f"ORIGIN-{index}", FAMILY, values(f"Polo {index}", ean))
    with AkeneoDouble(CLIENT_ID, SECRET, USERNAME, PASSWORD) as elsewhere:
        pim.next_base = elsewhere.base_url
        config = connector_config(pim.base_url, page_size=2, media={})
        connectors = connectors_for(root, config)
        job = connectors.request(config.id, None, _principal())
        assert connectors.run(job["jobId"]) == "interrupted"
        assert elsewhere.requests == []
    stopped = root.store.read("jobs", "job", job["jobId"])
    assert stopped["processed"] == 2 and "outside the PIM's origin" in stopped["lastError"]


def test_the_settings_declare_connectors_and_refuse_bad_ones():
    raw = json.dumps(
        [
            {
                "id": "pim",
                "baseUrl": "https://pim.example.com/",
                "economicOperatorId": OWNER,
                "clientId": "c",
                "username": "u",
            }
        ]
    )
    secrets = json.dumps({"pim": {"clientSecret": SECRET, "password": PASSWORD}})
    (config,) = parse_connectors(raw, secrets).values()
    assert (config.base_url, config.mapping, config.removed, config.page_size) == (
        "https://pim.example.com",
        "akeneo",
        "report",
        100,
    )
    assert SECRET not in repr(config) and config.credentials.client_secret.value == SECRET
    assert parse_connectors("", "@Microsoft.KeyVault(SecretUri=https://v/secrets/s/)") == {}
    for entry, secret_text, expected in (
        ({"baseUrl": "ftp://pim"}, secrets, "absolute https URL"),
        ({"baseUrl": "https://user:pw@pim.example.com"}, secrets, "no credentials"),
        ({"removed": "delete"}, secrets, "'removed'"),
        ({"media": {"care_label": "manual"}}, secrets, "artifact types"),
        ({"pageSize": 500}, secrets, "'pageSize'"),
        ({}, "@Microsoft.KeyVault(SecretUri=https://v/secrets/s/)", "did not resolve"),
        ({}, json.dumps({"pim": {"clientSecret": SECRET}}), "needs 'clientSecret' and 'password'"),
        ({}, "{" + SECRET, "not JSON"),
    ):
        bad = json.dumps([{**json.loads(raw)[0], **entry}])
        with pytest.raises(ValueError, match=expected) as raised:
            parse_connectors(bad, secret_text)
        assert SECRET not in str(raised.value)


# -- over HTTP -------------------------------------------------------------------------------------


@pytest.fixture
def pim_app(root, pim) -> Iterator[tuple[str, Any, str]]:
    """The app served with one Akeneo connector of OWNER in its settings: (API base, root, id)."""
    from urllib.parse import urlsplit

    from functions import app_root, create_app
    from functions.routes import API, ROUTE_PREFIX
    from local.host.server import start_in_thread
    from tests.support.ports import free_port

    connector_id = f"akeneo-{uuid.uuid4().hex[:8]}"
    declared = {
        "id": connector_id,
        "baseUrl": pim.base_url,
        "economicOperatorId": OWNER,
        "clientId": CLIENT_ID,
        "username": USERNAME,
        "channel": "ecommerce",
        "locales": ["en_US"],
    }
    port = free_port()
    settings = replace(
        root.settings,
        connectors=json.dumps([declared]),
        connector_secrets=json.dumps({connector_id: {"clientSecret": SECRET, "password": PASSWORD}}),
        public_url=f"http://127.0.0.1:{port}",
        # Links to the report go through the app, as in the hardened deployment (storage private).
        storage_links="app",
    )
    served = app_root(settings)
    server, base = start_in_thread(create_app(served), port=port, route_prefix=ROUTE_PREFIX)
    assert urlsplit(base).port == port
    yield f"{base}/{API}", served, connector_id
    server.shutdown()


def test_a_sync_on_demand_answers_202_with_its_status_and_runs_on_the_timer(pim_app, http, token, pim):
    api, served, connector_id = pim_app
    (ean,) = unique_eans(1)
    pim.put("HTTP-1", FAMILY, values("Polo", ean))
    owner = {"Authorization": f"Bearer {token()}"}
    response = http.post(f"{api}/v1/connectors/{connector_id}/sync", headers=owner)
    assert response.status_code == 202, response.text
    location = response.headers["Location"]
    assert location == response.json()["statusUrl"] and response.json()["state"] == "queued"
    again = http.post(f"{api}/v1/connectors/{connector_id}/sync", json={"full": True}, headers=owner)
    assert again.json()["syncId"] == response.json()["syncId"]  # one sync per connector at a time

    assert served.connectors.tick() == {connector_id: "done"}
    status = http.get(location, headers=owner)
    assert status.status_code == 200 and status.headers["Cache-Control"] == "private, no-store"
    assert (status.json()["state"], status.json()["created"]) == ("done", 1)
    assert status.json()["report"] == f"{location}/report"
    served_report = http.get(status.json()["report"], headers=owner)
    assert served_report.status_code == 200 and served_report.headers["Cache-Control"] == "private, no-store"
    assert (
        served_report.json()["created"] == 1 and served_report.json()["syncId"] == response.json()["syncId"]
    )


def test_a_sync_for_the_wrong_caller_or_connector_is_the_right_result(pim_app, http, token):
    api, _, connector_id = pim_app
    url = f"{api}/v1/connectors/{connector_id}/sync"
    owner = {"Authorization": f"Bearer {token()}"}
    assert_result(http.post(url), 401)
    assert_result(
        http.post(url, headers={"Authorization": f"Bearer {token('recycler', operator=None)}"}), 403
    )
    other = {"Authorization": f"Bearer {token(operator='did:example:other-operator')}"}
    assert_result(http.post(url, headers=other), 404, "ConnectorNotFound")
    assert_result(http.post(f"{api}/v1/connectors/no-such/sync", headers=owner), 404, "ConnectorNotFound")
    assert_result(http.post(url, json={"full": "yes"}, headers=owner), 400, "InvalidSync")
    assert_result(http.post(url, data="[", headers={**owner, "Content-Type": "application/json"}), 400)
    queued = http.post(url, headers=owner).json()
    assert_result(
        http.get(f"{api}/v1/connectors/{connector_id}/syncs/{queued['syncId']}", headers=other), 404
    )
    missing = f"{api}/v1/connectors/{connector_id}/syncs/{uuid.uuid4().hex}"
    assert_result(http.get(missing, headers=owner), 404, "SyncNotFound")
    report_url = f"{api}/v1/connectors/{connector_id}/syncs/{queued['syncId']}/report"
    assert_result(http.get(report_url, headers=owner), 404, "SyncNotFound")  # not run yet
    assert_result(http.get(report_url, headers=other), 404, "ConnectorNotFound")
    assert_result(http.get(report_url), 401)
