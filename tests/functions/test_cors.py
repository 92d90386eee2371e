"""CORS: any page reads public passports; only listed origins call with a token (functions/cors.py).
Checked on the wire, and in Chromium, which enforces the protocol as browsers do."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from functions.routes import Route
from tests.support.documents import enc

OTHER = "https://somewhere.example"


def test_public_reads_are_open_to_every_origin_without_credentials(api, http, create):
    document = create()
    url = f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}"
    for target in (url, f"{api}/v1/keys", f"{api}/did.json", f"{api}/v1/contexts/dpp.jsonld"):
        response = http.get(target, headers={"Origin": OTHER})
        assert response.status_code == 200, target
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "Access-Control-Allow-Credentials" not in response.headers
    exposed = http.get(url, headers={"Origin": OTHER}).headers["Access-Control-Expose-Headers"]
    assert {"ETag", "DPP-Signature", "DPP-Disclosure"} <= {name.strip() for name in exposed.split(",")}
    # Without an Origin (not a browser's cross-origin request) nothing is added.
    assert "Access-Control-Allow-Origin" not in http.get(url).headers
    failure = http.get(f"{api}/v1/dpps/{enc('urn:nothing:here')}", headers={"Origin": OTHER})
    assert (failure.status_code, failure.headers["Access-Control-Allow-Origin"]) == (404, "*")


def test_token_calls_are_granted_to_listed_origins_only(api, http, auth, create, pages):
    document = create()
    url = f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}"
    listed = pages.origin("app")
    granted = http.get(url, headers={**auth, "Origin": listed})
    assert granted.headers["Access-Control-Allow-Origin"] == listed
    assert "Origin" in granted.headers["Vary"]
    assert "Access-Control-Allow-Origin" not in http.get(url, headers={**auth, "Origin": OTHER}).headers


@pytest.mark.parametrize("route", [route for route in Route if route is not Route.PREFLIGHT])
def test_every_route_answers_its_preflight(route: Route, api, http, pages):
    path = re.sub(r"\{\*?(\w+)\}", "x", route.value)
    asked = {"Access-Control-Request-Method": "PATCH", "Access-Control-Request-Headers": "authorization"}
    listed = http.options(f"{api}/{path}", headers={**asked, "Origin": pages.origin("app")})
    assert listed.status_code == 204, path
    methods = {name.strip() for name in listed.headers["Access-Control-Allow-Methods"].split(",")}
    headers = {name.strip().lower() for name in listed.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"GET", "POST", "PUT", "PATCH", "DELETE"} <= methods
    assert {"authorization", "if-match", "if-none-match", "content-type"} <= headers
    assert listed.headers["Access-Control-Allow-Origin"] == pages.origin("app")
    unlisted = http.options(f"{api}/{path}", headers={**asked, "Origin": OTHER})
    assert unlisted.status_code == 204
    assert unlisted.headers["Access-Control-Allow-Origin"] == "*"
    assert "authorization" not in unlisted.headers["Access-Control-Allow-Headers"].lower()


def _run(browser: Any, origin: str, script: str, *args: Any) -> Any:
    browser.get(origin + "/")
    return browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        f"(async (...args) => {{ {script} }})(...Array.from(arguments).slice(0, -1))"
        ".then(done, error => done({error: String(error)}));",
        *args,
    )


READ = """
const response = await fetch(args[0]);
const body = await response.json();
return {status: response.status, id: body.digitalProductPassportId, signature: body.signature,
        disclosure: response.headers.get('DPP-Disclosure')};
"""
PATCH = """
const response = await fetch(args[0], {method: 'PATCH', body: JSON.stringify({dppStatus: args[2]}),
  headers: {'Authorization': 'Bearer ' + args[1], 'Content-Type': 'application/merge-patch+json'}});
return {status: response.status, body: await response.json()};
"""


def test_in_chromium_a_page_elsewhere_reads_and_a_listed_page_writes(api, http, auth, create, pages, browser):
    document = create()
    dpp_id = document["digitalProductPassportId"]
    url = f"{api}/v1/dpps/{enc(dpp_id)}"
    token = auth["Authorization"].removeprefix("Bearer ")

    read = _run(browser, pages.origin("other"), READ, url)
    assert read["status"] == 200 and read["id"] == dpp_id, read
    assert read["signature"].count("~") >= 1 and read["disclosure"] == "complete"

    refused = _run(browser, pages.origin("other"), PATCH, url, token, "FromUnlisted")
    assert "error" in refused and "Failed to fetch" in refused["error"], refused
    assert http.get(url).json()["dppStatus"] == document["dppStatus"]  # the preflight stopped it

    written = _run(browser, pages.origin("app"), PATCH, url, token, "FromListed")
    assert written["status"] == 200, json.dumps(written)
    assert written["body"]["dppStatus"] == "FromListed"
    assert http.get(url).json()["dppStatus"] == "FromListed"
