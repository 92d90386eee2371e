"""Issue 14's Host header finding: a client's Host named the issuer's DID and every link of the
(publicly cached) answers. URLs and DIDs now come from DPP_PUBLIC_URL alone."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.support.documents import enc


def test_a_forged_host_names_nothing(api, http, root, create, auth):
    evil = {"Host": "evil.example"}
    public = root.settings.public_url
    did = http.get(f"{api}/did.json", headers=evil).json()
    assert did["id"] == "did:web:" + urlsplit(public).netloc.replace(":", "%3A") + ":api"
    document = create()
    view = http.get(
        f"{api}/v1/dpp/{enc(document['uniqueProductIdentifier'])}/latest",
        params={"lite": "true"},
        headers=evil,
    ).json()
    assert view["@context"].startswith(public + "/") and view["disclosure"]["signedDocument"].startswith(
        public
    )
    created = http.post(
        f"{api}/v1/dpps",
        json={
            **document,
            "digitalProductPassportId": document["digitalProductPassportId"] + "-2",
            "uniqueProductIdentifier": document["uniqueProductIdentifier"] + "-2",
        },
        headers={**evil, **auth},
    )
    assert created.status_code == 201, created.text
    assert created.headers["Location"].startswith(public + "/")
    assert "evil.example" not in created.text and "evil.example" not in str(created.headers)
