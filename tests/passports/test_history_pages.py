"""Issue 14's unpaged history: 300 versions of 60 KB came back as 18 MB in one answer, and keys,
DID document and history sent no ETag. History is now paged; all four revalidate."""

from __future__ import annotations

import pytest

from tests.support.documents import enc
from tests.support.results import assert_result


@pytest.fixture(scope="module")
def long_history(api, http, auth):
    from tests.support.documents import make_passport

    document = make_passport()
    assert http.post(f"{api}/v1/dpps", json=document, headers=auth).status_code == 201
    url = f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}"
    for number in range(24):
        assert http.patch(url, json={"nameplate": {"Revision": number}}, headers=auth).status_code == 200
    return url


def test_history_comes_in_pages_that_follow_each_other(http, auth, long_history):
    seen, url, pages = [], f"{long_history}/history?limit=10", 0
    while url:
        response = http.get(url, headers=auth)
        assert response.status_code == 200, response.text
        body = response.json()
        seen.extend(record["version"] for record in body["versions"])
        pages += 1
        following = response.headers.get("Link")
        assert ("cursor" in body) == bool(following)
        url = following.split(">")[0].lstrip("<") if following else None
    assert (seen, pages) == (list(range(1, 26)), 3)
    whole = http.get(f"{long_history}/history", headers=auth).json()  # default page: 50
    assert [record["version"] for record in whole["versions"]] == seen and "cursor" not in whole


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("include=documents&limit=21", "InvalidLimit"),
        ("limit=201", "InvalidLimit"),
        ("limit=0", "InvalidLimit"),
        ("include=everything", "InvalidParameter"),
        ("cursor=not-a-cursor", "InvalidCursor"),
    ],
)
def test_pages_are_bounded_and_cursors_checked(http, auth, long_history, query, code):
    assert_result(http.get(f"{long_history}/history?{query}", headers=auth), 400, code)


def test_a_cursor_of_one_history_is_refused_by_another(api, http, auth, long_history, create):
    other = create()
    cursor = http.get(f"{long_history}/history?limit=5", headers=auth).json()["cursor"]
    url = f"{api}/v1/dpps/{enc(other['digitalProductPassportId'])}/history?cursor={cursor}"
    assert_result(http.get(url, headers=auth), 400, "InvalidCursor")


@pytest.mark.parametrize("path", ["/v1/keys", "/did.json", "history"])
def test_keys_did_document_and_history_revalidate_with_their_etag(api, http, long_history, path):
    url = f"{long_history}/history" if path == "history" else f"{api}{path}"
    first = http.get(url)
    assert first.status_code == 200 and first.headers["ETag"]
    again = http.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert (again.status_code, again.content) == (304, b"")


def test_verification_checks_a_bounded_window_anchored_on_its_predecessor(
    api, http, long_history, monkeypatch, root
):
    from shared.passports import history

    monkeypatch.setattr(history, "MAX_VERIFIED", 10)
    dpp_id = long_history.rsplit("/", 1)[1]
    from urllib.parse import unquote

    dpp_id = unquote(dpp_id)
    newest = http.post(f"{api}/v1/verify", json={"dppId": dpp_id}).json()
    assert (newest["valid"], newest["fromVersion"], newest["version"]) == (True, 16, 25)
    signed = sorted({check["version"] for check in newest["checks"] if check["check"] == "signature"})
    assert signed == list(range(15, 26))  # the window and its anchor, nothing older
    window = http.post(f"{api}/v1/verify", json={"dppId": dpp_id, "version": 22, "fromVersion": 20}).json()
    assert (window["valid"], window["fromVersion"]) == (True, 20)
    too_wide = http.post(f"{api}/v1/verify", json={"dppId": dpp_id, "fromVersion": 1})
    assert_result(too_wide, 400, "InvalidVersion")
    from shared.passports.repository import version_id
    from shared.storage.cosmos import PASSPORTS

    stored = root.store.read(PASSPORTS, version_id(20), dpp_id)
    root.store.upsert(PASSPORTS, {**stored, "previousDigest": "sha256-forged"})
    try:
        broken = http.post(f"{api}/v1/verify", json={"dppId": dpp_id}).json()
        # the link, and the signed envelope that names it, no longer match the record
        assert (broken["valid"], broken["failedChecks"]) == (False, ["chain", "claims", "header"])
        before = http.post(f"{api}/v1/verify", json={"dppId": dpp_id, "version": 18}).json()
        assert before["valid"] is True  # versions up to 18 do not involve version 20
    finally:
        root.store.upsert(PASSPORTS, stored)
